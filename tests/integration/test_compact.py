"""Distil a real ensemble into a compact model, export it, and check what was written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.search import runtime
from automl.serving.compact import CompactPredictor
from tests.conftest import make_table


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    runtime.connect(None)


# the kinds of the student ladder and search; blend, lgbm and memo have their own tests
# (tests/unit/distill), and would double this test's time
EVERY_KIND = {"multiplier": 1.0, "search_trials": 2, "max_student_share": 0.5,
              "students": ["gbdt", "rules", "linear", "mlp"]}


def _pipeline(folder: Path, compress: dict, validation: str = "auto",
              distill: dict = EVERY_KIND) -> Path:
    nodes = [
        # three folds, not five: the cross-fitting is under test, not its width (suite time)
        {"name": "data", "kind": "ingest",
         "params": {"validation": validation, **({"folds": 3} if validation == "kfold" else {})}},
        {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
        {"name": "search", "kind": "search", "inputs": ["trees"],
         "params": {"families": ["xgboost", "linear"], "max_trials": 6}},
        {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]},
        {"name": "distill", "kind": "distill", "inputs": ["ensemble", "data", "trees"],
         "params": distill},
        {"name": "compress", "kind": "compress", "inputs": ["distill"], "params": compress},
        {"name": "export", "kind": "export", "inputs": ["compress"]},
    ]
    path = folder / "compact.yaml"
    path.write_text(json.dumps({"name": "compact-test", "nodes": nodes}))
    return path


# regression: no allowed drop at all, which a student rarely meets; it is exported anyway.
# binary: kfold, so the finalists are cross-fitted; regression: holdout, the one judged part
@pytest.mark.parametrize("task, compress, validation", [
    ("binary", {"max_score_drop": 1.0, "max_relative_drop": None}, "kfold"),
    ("regression", {"max_score_drop": 0.0, "max_relative_drop": None, "max_size_share": 0.5},
     "holdout")])
def test_compact_model_is_exported_and_agrees_with_python(tmp_path, task, compress, validation):
    frame = make_table(n=600, task=task)
    # no time limit: the trial counts bound the run (a default budget would set the pace)
    model = AutoML(pipeline=_pipeline(tmp_path, compress, validation), out=tmp_path,
                   time_budget="none", verbosity=0).fit(frame, target="y")
    folder = Path(model.run_dir_) / "compact"
    for name in ("compact.onnx", "compact.json", "compact.md", "pareto.csv",
                 "rules.txt", "rules.py", "rules.sql"):
        assert (folder / name).is_file(), name
    card = json.loads((folder / "compact.json").read_text())
    chosen = card["chosen"]
    assert chosen is not None and chosen["parity_max_diff"] <= 1e-4
    assert chosen["size_bytes"] == (folder / "compact.onnx").stat().st_size
    assert chosen["latency_ms_one_row"] > 0 and chosen["python_ms_one_row"] > 0
    # the gbdt students aimed at half the teacher's size (14 bytes a node is an estimate)
    teacher_bytes = card["teacher_size_bytes"]
    front = pd.read_csv(folder / "pareto.csv")
    gbdt = front[front["kind"].eq("gbdt")]
    assert len(gbdt) and (gbdt["size_bytes"] <= 0.55 * teacher_bytes).all()
    if "max_size_share" in compress:
        assert chosen["size_bytes"] <= 0.5 * teacher_bytes
        assert "size ÷ teacher's" in (folder / "compact.md").read_text()
    # the reference the gain is measured from: xgboost's defaults, scored where the students are
    assert np.isfinite(card["reference"][card["metric"]])
    assert "reference" in (folder / "compact.md").read_text()
    assert [i["name"] for i in card["serving"]["inputs"]] == ["x1", "x2", "colour", "when"]
    assert front["chosen"].sum() == 1 and front["on_front"].any()
    picked = front[front["chosen"].eq(True)].iloc[0]
    assert bool(picked["meets_score"]) == chosen["meets_score_constraint"]
    assert picked["score_shortfall"] == pytest.approx(chosen["score_shortfall"])
    assert chosen["meets_score_constraint"] == (chosen["score_drop"] <= compress["max_score_drop"])
    if not chosen["meets_score_constraint"]:
        assert "does not meet the score constraint" in (folder / "compact.md").read_text()
    # every kind of student was tried: the ladder, the Ray Tune search's best, the shrunk MLP
    students = set(front["student"])
    assert {"gbdt-20x3", "rules-depth3", "linear", "mlp-32", "gbdt-tuned", "mlp-tuned"} <= students
    assert "gbdt-20x3-real" in students  # the same rung without the synthetic rows
    if validation == "holdout":
        assert any("+int8" in name for name in students)
        assert set(front["judged_on"].dropna()) == {"validation part"}
    else:  # the finalists judged on every training row, the others on fold 1, passed over
        assert card["scored_on"].startswith("out of fold over 600 training rows (3 of 3 folds")
        finalists = front[front["judged_on"].eq(card["scored_on"])]
        assert len(finalists) == 3 and picked["student"] in set(finalists["student"])
        assert front["judged_on"].str.startswith("fold 1 only").sum() == len(front) - 4
    tuned = list(Path(model.run_dir_).glob("nodes/distill/*/students/trials/*"))
    assert len(tuned) >= 2, "the student search writes its trials like the search stage"
    # the file serves the table's own rows, also a category it never saw
    rows = frame.drop(columns="y").head(50).copy()
    rows.loc[rows.index[0], "colour"] = "ultraviolet"
    output = CompactPredictor(folder / "compact.onnx").predict_raw(rows)
    assert output.shape == ((50,) if task == "regression" else (50, 2))
    assert np.isfinite(output).all()
    # the ensemble stays the default model; the compact one is there when asked for
    served = AutoML.load(model.run_dir_).predictor_
    assert served.path.name == "ensemble.onnx" and served.describe()["members"]
    compact = AutoML.load(model.run_dir_, model="compact")
    np.testing.assert_array_equal(compact.predict(rows.iloc[3].to_dict()), compact.predict(rows)[[3]])


def test_unmet_constraints_keep_the_ensemble_with_a_clear_reason(tmp_path):
    frame = make_table(n=400)
    # the compress stage is under test: the quickest students will do
    quick = {"multiplier": 1.0, "students": ["gbdt", "rules"], "search": False}
    model = AutoML(pipeline=_pipeline(tmp_path, {"max_size_kb": 0.001}, distill=quick), out=tmp_path,
                   time_budget="none", verbosity=0).fit(frame, target="y")
    folder = Path(model.run_dir_) / "compact"
    card = json.loads((folder / "compact.json").read_text())
    assert card["chosen"] is None
    assert "no student meets the constraints" in card["reason"]
    assert "KB over the 0.001 KB allowed (max_size_kb" in card["reason"]
    assert not (folder / "compact.onnx").exists()
    assert model.predict(frame.drop(columns="y")).shape == (400,)  # the ensemble still predicts
