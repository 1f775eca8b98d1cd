"""`automl fit --mlflow URI` against a real `mlflow server` (SQLite backend, artifacts in
a folder) that the test starts and stops: the run, a child run per trial, the scores, the
artifacts, and both ONNX models as MLflow models that MLflow's own pyfunc loads and runs."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

mlflow = pytest.importorskip("mlflow")

from automl.cli import main  # noqa: E402
from automl.serving.load import load_model  # noqa: E402
from tests.conftest import REPO, make_table  # noqa: E402

pytestmark = pytest.mark.slow
ONE_AT_A_TIME = str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml")


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    home = tmp_path_factory.mktemp("mlflow")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("mlflow")), "server", "--host", "127.0.0.1",
         "--port", str(port), "--backend-store-uri", f"sqlite:///{home / 'mlflow.db'}",
         "--default-artifact-root", str(home / "artifacts"), "--workers", "1"],
        cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    import requests

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow server ended"
        try:
            if requests.get(uri + "/health", timeout=1).ok:
                break
        except requests.RequestException:  # not up, or too busy starting to answer
            time.sleep(0.5)
    yield uri
    server.terminate()
    server.wait(timeout=30)


def _quick_compact(folder: Path) -> str:
    """The fast preset a trial at a time, then the quickest students (the logging is under
    test, not the distillation)."""
    graph = yaml.safe_load(Path(ONE_AT_A_TIME).read_text())
    graph["name"] = "quick-compact"
    graph["nodes"] += [
        {"name": "distill", "kind": "distill", "inputs": ["ensemble", "data", "trees"],
         "params": {"multiplier": 1.0, "students": ["gbdt", "rules"], "search": False}},
        {"name": "compress", "kind": "compress", "inputs": ["distill"],
         "params": {"max_score_drop": 1.0}},
        {"name": "export", "kind": "export", "inputs": ["compress"]}]
    path = folder / "quick_compact.yaml"
    path.write_text(yaml.safe_dump(graph))
    return str(path)


def test_a_fit_logs_its_run_trials_scores_and_both_models(tracking_uri, tmp_path, capsys):
    table = tmp_path / "table.csv"
    make_table(n=400).to_csv(table, index=False)
    assert main(["fit", str(table), "--target", "y", "--pipeline", _quick_compact(tmp_path),
                 "--max-trials", "3", "--time-budget", "none", "--out", str(tmp_path / "runs"),
                 "--no-report", "--quiet", "--mlflow", tracking_uri]) == 0
    assert "mlflow run: " in capsys.readouterr().err
    run_dir = next((tmp_path / "runs").iterdir())
    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name("automl")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.info.run_name == run_dir.name]
    assert parent.data.params["target"] == "y" and parent.data.params["pipeline"] == "quick-compact"
    assert parent.data.metrics["valid_roc_auc"] > 0.8
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    board = pd.read_csv(run_dir / "leaderboard.csv")
    trials = board.loc[board["family"] != "ensemble", "trial"]
    assert sorted(r.info.run_name for r in children) == sorted(trials)
    assert all("score" in r.data.metrics and "family" in r.data.params for r in children)
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"leaderboard.csv", "metrics.json", "schema.json"} <= artifacts
    models = {m.name: m for m in mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id], output_format="list")
        if m.source_run_id == parent.info.run_id}
    assert set(models) == {"ensemble", "compact"}
    # MLflow's own pyfunc runs each: the table's columns in (text as objects), a column per class out
    rows = make_table(n=30, seed=5).drop(columns="y")
    for name, served in (("ensemble", load_model(run_dir)), ("compact", load_model(run_dir, "compact"))):
        pyfunc = mlflow.pyfunc.load_model(models[name].model_uri)
        assert [c.name for c in pyfunc.metadata.get_input_schema().inputs] == ["x1", "x2", "colour", "when"]
        frame = pd.DataFrame({"x1": rows["x1"], "x2": rows["x2"],
                              "colour": rows["colour"].astype(object),
                              "when": (rows["when"] - pd.Timestamp(0)).dt.total_seconds()})
        out = pyfunc.predict(frame)
        np.testing.assert_allclose(out[["probability_no", "probability_yes"]].to_numpy(),
                                   served.predict_raw(rows), atol=1e-6)
        labels = served.schema.label_codes(served.predict_raw(rows))
        np.testing.assert_array_equal(out["label"].to_numpy(), labels)
