"""Sample weights and balanced classes end to end: `automl fit --weight` on a real weighted
table (the adult sample and its census weight, fnlwgt) scores its validation part with the
weights (the oracle: sklearn's weighted metric on the same predictions), bad weights stop
the run in one line before anything is written, and `--class-weight balanced` on a table
with 2% positives fits every member to the re-weighted classes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, roc_auc_score

from automl import AutoML
from automl.cli import main
from automl.data.split import table_dataset
from automl.search import runtime
from automl.data.ingest import read_table
from tests.conftest import REPO, SAMPLE, make_table
from tests.integration.test_decisions import rare_positive_table

pytestmark = pytest.mark.slow
ONE_AT_A_TIME = str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml")


def weighted_table(n: int = 600):
    frame = make_table(n, seed=4)
    rng = np.random.default_rng(4)
    # heavier rows where the colour is red: a weighted score differs from a plain one
    frame["importance"] = np.where(frame["colour"] == "red", 3.0, 1.0) * rng.uniform(0.5, 1.5, n)
    return frame


def test_a_weighted_fit_scores_its_validation_part_with_the_weights(tmp_path, capsys):
    runtime.connect(None)
    code = main(["fit", str(SAMPLE), "--target", "income", "--weight", "fnlwgt",
                 "--pipeline", ONE_AT_A_TIME, "--max-trials", "3", "--time-budget", "1m",
                 "--out", str(tmp_path / "runs"), "--no-report", "--quiet"])
    assert code == 0
    run_dir = Path(capsys.readouterr().out.split("run folder: ")[1].split()[0])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert json.loads((run_dir / "schema.json").read_text())["weight"] == "fnlwgt"

    # the same validation rows as the run's ingest (its graph: holdout, 25%, seed 0)
    frame = read_table(SAMPLE)
    data = table_dataset(frame, "income", weight="fnlwgt", valid_fraction=0.25)
    model = AutoML.load(run_dir, model="python")
    proba = model.predictor_.predict_features(data.X_valid)
    assert metrics["valid"]["roc_auc"] == pytest.approx(
        roc_auc_score(data.y_valid, proba[:, 1], sample_weight=data.w_valid), abs=1e-12)
    assert metrics["valid"]["accuracy"] == pytest.approx(
        accuracy_score(data.y_valid, proba.argmax(axis=1), sample_weight=data.w_valid), abs=1e-12)
    # scoring through the API takes the weights too; the weight column is no feature
    rows, truth = frame.drop(columns="income"), frame["income"]
    assert model.score(rows, truth, sample_weight=frame["fnlwgt"]) != pytest.approx(
        model.score(rows, truth))
    assert "fnlwgt" not in [c.name for c in model.predictor_.schema.columns]


@pytest.mark.parametrize("values, says", [
    ([-1.0], "weight column 'importance' is negative in 1 row(s)"),
    ([np.nan], "weight column 'importance' is missing in 1 row(s)"),
])
def test_bad_weights_stop_the_run_in_one_line(tmp_path, capsys, values, says):
    frame = weighted_table(100)
    frame.loc[7, "importance"] = values[0]
    frame.to_csv(tmp_path / "table.csv", index=False)
    code = main(["fit", str(tmp_path / "table.csv"), "--target", "y", "--weight", "importance",
                 "--out", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and says in err and len(err.splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing written


def test_balanced_classes_on_two_percent_positives(tmp_path):
    runtime.connect(None)
    frame = rare_positive_table(3000, seed=0)
    fresh = rare_positive_table(3000, seed=1)
    positive = (fresh["fraud"] == "yes").to_numpy()
    means = {}
    for class_weight in (None, "balanced"):
        model = AutoML(pipeline=ONE_AT_A_TIME, max_trials=3, time_budget="1m", out=tmp_path,
                       report=False, class_weight=class_weight).fit(frame, target="fraud")
        proba = model.predict_proba(fresh.drop(columns="fraud"))[:, 1]
        means[class_weight] = proba[positive].mean()
    # fitted as if both classes weighed the same, a positive row is told apart with far
    # more confidence than by a fit calibrated to the 2% base rate
    assert means["balanced"] > means[None] + 0.1
    run = json.loads((Path(model.run_dir_) / "run.json").read_text())
    assert run["settings"]["class_weight"] == "balanced"
