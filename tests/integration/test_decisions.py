"""A run whose metric scores labels, on a table with a 2% positive class: the decision
threshold is chosen on the run's own out-of-fold predictions, beats the most probable
class there, and every served model labels rows by it: model/ensemble.onnx's `label`
output in plain onnxruntime, `automl predict` and the pickled Python ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from automl import AutoML
from automl.cli import main
from automl.search import runtime
from automl.serving.inputs import frame_feeds
from tests.conftest import REPO

pytestmark = pytest.mark.slow
ONE_AT_A_TIME = str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml")


def rare_positive_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    kind = rng.choice(["a", "b", "c"], size=n)
    signal = 1.5 * x1 + x2 + (kind == "c") - 5.2 + rng.normal(scale=0.8, size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "kind": kind,
                         "fraud": np.where(signal > 0, "yes", "no")})


def test_a_run_for_f1_on_rare_positives_labels_by_its_threshold(tmp_path):
    runtime.connect(None)
    frame = rare_positive_table(3000, seed=0)
    assert 0.01 < (frame["fraud"] == "yes").mean() < 0.04
    model = AutoML(pipeline=ONE_AT_A_TIME, metric="f1", max_trials=4, time_budget="2m",
                   out=tmp_path, report=False).fit(frame, target="fraud")
    run_dir = Path(model.run_dir_)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    decision = metrics["decision"]
    assert decision["metric"] == "f1" and decision["chosen_on"].startswith("validation part")
    assert decision["score"] > decision["score_at_most_probable"]  # on held-out rows
    # the run's own metric beside the protocol's, of the labels the model gives
    assert metrics["valid"]["f1"] == pytest.approx(decision["score"], abs=1e-6)
    threshold = decision["threshold"]

    rows = rare_positive_table(2000, seed=1).drop(columns="fraud")
    session = ort.InferenceSession(str(run_dir / "model" / "ensemble.onnx"))
    label, probabilities = session.run(["label", "probabilities"],
                                       frame_feeds(rows, model.predictor_.schema))
    np.testing.assert_array_equal(label, (probabilities[:, 1] >= np.float32(threshold)).astype(int))
    assert label.sum() > (probabilities.argmax(axis=1)).sum()  # more positives than at 0.5
    rows.to_csv(tmp_path / "rows.csv", index=False)
    assert main(["predict", str(run_dir), str(tmp_path / "rows.csv"), "--out",
                 str(tmp_path / "p.csv")]) == 0
    served = pd.read_csv(tmp_path / "p.csv")["prediction"].to_numpy()
    np.testing.assert_array_equal(served, np.array(["no", "yes"])[label])
    # the pickled ensemble (float64 inside) decides the same, but where a row's probability
    # is within float32 rounding of the threshold
    from sklearn.metrics import f1_score

    truth = rare_positive_table(2000, seed=1)["fraud"]
    assert model.score(rows, truth) == pytest.approx(f1_score(truth, served, pos_label="yes"))
    python = AutoML.load(run_dir, model="python")
    near = np.abs(probabilities[:, 1] - threshold) < 1e-5
    assert (python.predict(rows)[~near] == served[~near]).all()
