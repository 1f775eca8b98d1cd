"""The report's overview says how labels follow from the probabilities (a run's decision)
and which weights the run fitted and scored with."""

from __future__ import annotations

from automl.report.run_sections import _decision, _final_scores


def test_the_decision_is_stated_beside_the_final_scores():
    decision = {"metric": "f1", "chosen_on": "validation part (750 rows)", "threshold": 0.1734,
                "class_weights": None, "score": 0.61, "score_at_most_probable": 0.42}
    metrics = {"valid": {"roc_auc": 0.93, "accuracy": 0.97}, "test": None,
               "decision": decision}
    text = _final_scores(metrics)
    assert "class 1 where its probability is at least 0.1734" in text
    assert "chosen for f1 on the validation part (750 rows)" in text
    weights = _decision({**decision, "threshold": None, "class_weights": [1.0, 2.5, 0.5]})
    assert "class weights 1, 2.5, 0.5" in weights
    assert _decision(None) == ""
