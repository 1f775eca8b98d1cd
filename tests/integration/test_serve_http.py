"""`automl serve` as a client meets it: the real command in its own process, answering real
HTTP requests (requests, keep-alive) on a free port; what it answers is what
`automl predict` answers for the same rows.

The run folders are compact models fitted in seconds (`compact_run`: no search, no Ray).
The default route serves model/ensemble.onnx; here that file is a copy of the compact
model's, since both files have the same raw-column contract and the same predictor
(`OnnxPredictor`), and a real ensemble would cost a search.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

requests = pytest.importorskip("requests")
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from automl.cli import main  # noqa: E402
from tests.compact_helpers import compact_run  # noqa: E402
from tests.conftest import make_table  # noqa: E402

AUTOML = str(Path(sys.executable).with_name("automl"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`automl serve RUN_DIR ...` in its own process until `stop`."""

    def __init__(self, run_dir: Path, *flags: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([AUTOML, "serve", str(run_dir), "--port", str(self.port),
                                         *flags], stderr=subprocess.PIPE, text=True)
        self.http = requests.Session()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.stderr.read()
            try:
                if self.http.get(self.url + "/health", timeout=1).ok:
                    return
            except requests.RequestException:  # not up, or too busy starting to answer
                time.sleep(0.2)
        raise AssertionError("automl serve did not answer /health within 60 s")

    def post(self, body=None, data: str | None = None):
        return self.http.post(self.url + "/predict", json=body, data=data, timeout=10)

    def stop(self) -> str:
        self.process.terminate()
        _, stderr = self.process.communicate(timeout=30)
        return stderr


def rows_as_json(frame: pd.DataFrame) -> list[dict]:
    """The rows as a client writes them: dates as ISO text, missing values as null."""
    text = frame.copy()
    text["when"] = text["when"].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in text.astype(object).to_dict(orient="records")]


@pytest.fixture(scope="module")
def binary_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("binary") / "run"
    compact_run(make_table(n=600), "y", run_dir)
    (run_dir / "model").mkdir()
    shutil.copy(run_dir / "compact" / "compact.onnx", run_dir / "model" / "ensemble.onnx")
    return run_dir


@pytest.fixture(scope="module")
def server(binary_run):
    running = Server(binary_run)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    frame = make_table(n=60, seed=7).drop(columns="y")
    path = tmp_path_factory.mktemp("rows") / "rows.csv"
    frame.to_csv(path, index=False)
    return frame, path


def automl_predict(run_dir: Path, path: Path, out: Path) -> pd.DataFrame:
    assert main(["predict", str(run_dir), str(path), "--proba", "--out", str(out)]) == 0
    return pd.read_csv(out)


def test_rows_one_by_one_and_as_a_list_answer_what_automl_predict_does(server, binary_run, rows,
                                                                      tmp_path):
    frame, path = rows
    expected = automl_predict(binary_run, path, tmp_path / "predicted.csv")
    body = rows_as_json(frame)
    listed = server.post(body)
    assert listed.status_code == 200, listed.text
    answer = listed.json()
    assert answer["predictions"] == expected["prediction"].tolist()
    for number, row in enumerate(body):
        single = server.post(row).json()
        assert single["prediction"] == expected["prediction"][number]
        assert single["probabilities"] == answer["probabilities"][number]
        for label in ("no", "yes"):
            assert single["probabilities"][label] == pytest.approx(expected[label][number], abs=1e-6)


def test_a_thousand_single_row_requests_are_all_answered(server, rows):
    body = rows_as_json(rows[0])
    answered = [server.post(body[i % len(body)]).status_code for i in range(1000)]
    assert answered == [200] * 1000


def test_a_bad_row_gets_400_and_a_message_naming_its_column(server, rows):
    row = rows_as_json(rows[0])[0]
    cases = {
        "x1": {**row, "x1": "lots"},
        "colour": {k: v for k, v in row.items() if k != "colour"},
        "when": {**row, "when": "not a date"},
    }
    for column, bad in cases.items():
        answer = server.post(bad)
        assert answer.status_code == 400
        assert repr(column) in answer.json()["error"] or column in answer.json()["error"]
    listed = server.post([row, row, {**row, "x2": "?!"}])
    assert listed.status_code == 400
    assert listed.json()["error"].startswith("row 2: column 'x2'")
    assert "not JSON" in server.post(data="{x1: 1").json()["error"]
    assert "got a JSON int" in server.post(3).json()["error"]


def test_schema_health_and_ignored_columns(server, binary_run, rows):
    schema = server.http.get(server.url + "/schema").json()
    assert schema["task"] == "binary" and schema["classes"] == ["no", "yes"]
    assert {c["name"]: c["onnx_type"] for c in schema["columns"]} == {
        "x1": "float32", "x2": "float32", "colour": "string", "when": "float64"}
    health = server.http.get(server.url + "/health").json()
    assert health["status"] == "ok"
    assert health["model"].endswith(str(Path("model") / "ensemble.onnx"))
    row = rows_as_json(rows[0])[0]
    answer = server.post({**row, "colur": "red"}).json()
    assert answer["ignored_columns"] == ["colur"]


def test_a_regression_model_answers_values_without_probabilities(tmp_path):
    run_dir = tmp_path / "run"
    compact_run(make_table(n=400, task="regression"), "y", run_dir)
    served = Server(run_dir, "--model", "compact")
    try:
        frame = make_table(n=5, seed=3).drop(columns="y")
        answer = served.post(rows_as_json(frame)).json()
    finally:
        served.stop()
    assert set(answer) == {"predictions"}
    assert all(isinstance(value, float) for value in answer["predictions"])


def test_what_cannot_be_served_is_one_line_before_listening(binary_run, tmp_path, capsys):
    compact_only = tmp_path / "compact_only"
    shutil.copytree(binary_run / "compact", compact_only / "compact")
    assert main(["serve", str(compact_only)]) == 2
    assert "holds no model/ensemble.onnx" in capsys.readouterr().err
    assert main(["serve", str(tmp_path / "nowhere")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", str(binary_run), "--port", str(taken.getsockname()[1])]) == 2
    assert "cannot listen on" in capsys.readouterr().err
