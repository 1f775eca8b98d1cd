"""The model bundle: self-contained, loadable without Ray or the table, and `automl predict`
on it (class names as headers, notices on stderr, errors as one line)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from automl.cli import main
from automl.bundle import load_bundle, save_bundle
from tests.conftest import REPO
from tests.unit.serving.test_predict_checks import fitted_predictor, table_with_codes

LOAD_AND_PREDICT = """
import sys
import numpy as np
import pandas as pd
from automl import AutoML
model = AutoML.load(sys.argv[1])
frame = pd.read_csv(sys.argv[2], parse_dates=["when"])
np.save(sys.argv[3], model.predict_proba(frame))
assert "ray" not in sys.modules, "loading or predicting imported ray"
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    save_bundle(folder, fitted_predictor(table_with_codes()))
    return folder


@pytest.fixture
def rows_csv(tmp_path):
    path = tmp_path / "rows.csv"
    table_with_codes().head(50).to_csv(path, index=False)  # with the target column: an extra
    return path


def test_the_bundle_describes_the_model(run_dir):
    described = json.loads((run_dir / "model" / "model.json").read_text())
    assert described["task"] == "binary" and described["classes"] == ["no", "yes"]
    assert [m["family"] for m in described["members"]] == ["xgboost", "linear"]
    assert [m["weight"] for m in described["members"]] == [0.5, 0.5]
    assert described["members"][0]["params"] == {"n_estimators": 40, "max_depth": 3}
    versions = json.loads((run_dir / "model" / "versions.json").read_text())
    assert {"automl", "scikit-learn", "xgboost", "numpy"} <= set(versions)
    assert json.loads((run_dir / "model" / "schema.json").read_text())["target"] == "y"


def test_load_and_predict_in_a_fresh_process_without_ray(run_dir, rows_csv, tmp_path):
    out = tmp_path / "proba.npy"
    done = subprocess.run([sys.executable, "-c", LOAD_AND_PREDICT, str(run_dir), str(rows_csv),
                           str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    frame = pd.read_csv(rows_csv, parse_dates=["when"])
    expected = load_bundle(run_dir).predict_proba(frame.drop(columns="y")).to_numpy()
    np.testing.assert_array_equal(np.load(out), expected)


def test_other_library_versions_are_a_warning(run_dir, tmp_path):
    copy = tmp_path / "copy"
    save_bundle(copy, load_bundle(run_dir))
    versions = json.loads((copy / "model" / "versions.json").read_text())
    (copy / "model" / "versions.json").write_text(json.dumps({**versions, "xgboost": "0.1"}))
    with pytest.warns(UserWarning, match="saved with other library versions \\(xgboost 0.1 -> "):
        load_bundle(copy)


def test_a_bundle_with_a_class_this_version_lacks_says_to_refit(run_dir, tmp_path, monkeypatch):
    """A predictor pickled by another version may name a module that is gone (the dense
    branch's): one line that says what to do, not an import traceback."""
    import shutil

    import joblib

    from automl.errors import RunError

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (tmp_path / "gone_module.py").write_text("class Encoder:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import gone_module

    joblib.dump(gone_module.Encoder(), copy / "model" / "predictor.joblib")
    monkeypatch.delitem(sys.modules, "gone_module")
    (tmp_path / "gone_module.py").unlink()
    with pytest.raises(RunError, match=r"holds a class this version of automl does not have "
                                       r"\(No module named 'gone_module'\); refit the run"):
        load_bundle(copy)


def test_cli_proba_headers_are_the_class_names(run_dir, rows_csv, tmp_path, capsys):
    out = tmp_path / "pred.csv"
    assert main(["predict", str(run_dir), str(rows_csv), "--proba", "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["prediction", "no", "yes"]
    assert len(written) == 50
    np.testing.assert_allclose(written[["no", "yes"]].sum(axis=1), 1.0)
    err = capsys.readouterr().err
    # the target column is in the input: ignored, said once on stderr
    assert err.count("automl: note: ignoring 1 input column(s) the model does not use: y\n") == 1


def test_cli_a_header_without_rows_gives_an_empty_prediction_file(run_dir, tmp_path, capsys):
    path, out = tmp_path / "header.csv", tmp_path / "pred.csv"
    table_with_codes().drop(columns="y").head(0).to_csv(path, index=False)
    assert main(["predict", str(run_dir), str(path), "--proba", "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["prediction", "no", "yes"] and len(written) == 0
    assert "wrote 0 predictions" in capsys.readouterr().err


def test_cli_missing_column_is_one_line_and_exit_2(run_dir, tmp_path, capsys):
    path = tmp_path / "lacking.csv"
    table_with_codes().drop(columns=["colour", "y"]).to_csv(path, index=False)
    assert main(["predict", str(run_dir), str(path)]) == 2
    err = capsys.readouterr().err
    assert err == ("automl: error: input lacks 1 column(s) the model was fitted on: colour\n")


def test_cli_bad_value_is_one_line_and_exit_2(run_dir, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    frame = table_with_codes().drop(columns="y").astype({"x2": object})
    frame.loc[5, "x2"] = "n/a?"
    frame.to_csv(path, index=False)
    assert main(["predict", str(run_dir), str(path)]) == 2
    assert "column 'x2' should be numeric but holds 'n/a?'" in capsys.readouterr().err
