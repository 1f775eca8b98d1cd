"""Explanations of fitted runs add up to the model's output on every row: through the API
(after a fit, and on a run folder loaded again) and through `automl explain`, CSV and
Parquet; bad arguments get one line and exit code 2."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from automl import AutoML
from automl.cli import main
from automl.search import runtime
from tests.conftest import REPO, make_table

pytestmark = pytest.mark.slow
ONE_AT_A_TIME = str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml")
COLUMNS = ["x1", "x2", "colour", "when"]
TASKS = ("binary", "regression")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    runtime.connect(None)
    out = tmp_path_factory.mktemp("runs")
    fitted = {}
    for task in TASKS:
        frame = make_table(n=300, task=task, seed=1)
        model = AutoML(pipeline=ONE_AT_A_TIME, max_trials=3, time_budget="1m", out=out,
                       report=False).fit(frame, target="y")
        fitted[task] = (model, frame.drop(columns="y"))
    return fitted


def _output(model, rows: pd.DataFrame, task: str) -> np.ndarray:
    return model.predict_proba(rows)[:, 1] if task == "binary" else model.predict(rows)


def _total(explained: pd.DataFrame) -> np.ndarray:
    return (explained["base"] + explained[COLUMNS].sum(axis=1)).to_numpy()


@pytest.mark.parametrize("task", TASKS)
def test_the_api_explains_every_row_and_the_sums_are_the_outputs(runs, task):
    model, rows = runs[task]
    explained = model.explain(rows)
    assert list(explained.columns) == (["explained_class"] if task == "binary" else []) + ["base", *COLUMNS]
    assert len(explained) == len(rows) and (explained.index == rows.index).all()
    np.testing.assert_allclose(_total(explained), _output(model, rows, task), atol=1e-4, rtol=0)
    if task == "binary":
        assert (explained["explained_class"] == "yes").all()
    # the run folder loaded again (served from ensemble.onnx) explains from its pickle alike
    loaded = AutoML.load(model.run_dir_)
    pd.testing.assert_frame_equal(loaded.explain(rows.head(5)), explained.head(5))
    one = loaded.explain(rows.iloc[0].to_dict())  # one row as a dict
    np.testing.assert_allclose(_total(one), _output(model, rows.head(1), task), atol=1e-4, rtol=0)


@pytest.mark.parametrize("task", TASKS)
def test_automl_explain_writes_the_same_contributions(runs, task, tmp_path, capsys):
    model, rows = runs[task]
    data = tmp_path / "rows.csv"
    rows.to_csv(data, index=False)
    for name in ("why.csv", "why.parquet"):
        assert main(["explain", str(model.run_dir_), str(data), "--out", str(tmp_path / name)]) == 0
        written = (pd.read_csv if name.endswith(".csv") else pd.read_parquet)(tmp_path / name)
        assert len(written) == len(rows)
        np.testing.assert_allclose(_total(written), _output(model, rows, task), atol=1e-4, rtol=0)
    assert "wrote 300 explanations to" in capsys.readouterr().err


def test_automl_explain_names_what_is_wrong(runs, tmp_path, capsys):
    model, rows = runs["binary"]
    data = tmp_path / "rows.csv"
    rows.drop(columns="x2").to_csv(data, index=False)
    cases = [
        (["explain", str(tmp_path / "nowhere"), str(data)], "cannot explain .*nowhere: it does not exist"),
        (["explain", str(model.run_dir_), str(data)],
         r"input lacks 1 column\(s\) the model was fitted on: x2"),
        (["explain", str(model.run_dir_), str(tmp_path / "none.csv")], "none.csv"),
        (["explain", str(model.run_dir_), str(data), "--model", "compact"],
         "the compact model is an ONNX graph"),
        (["explain", str(model.run_dir_), str(data), "--out", str(tmp_path / "no" / "x.csv")],
         "does not exist"),
    ]
    rows.to_csv(tmp_path / "full.csv", index=False)
    cases.append((["explain", str(model.run_dir_), str(tmp_path / "full.csv"), "--class", "maybe"],
                  "'maybe' is not a class of this model"))
    for argv, message in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("automl: error: ") and err.count("\n") == 1, err
        assert re.search(message, err), err
