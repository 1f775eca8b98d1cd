"""`automl bench` end to end: real workers in subprocesses, real failures, real tables.

The test-only systems below are real runners in this module; the worker subprocess
imports them by path, as it imports the built-in ones.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from xgboost import XGBClassifier

from automl.bench.baselines import ordinal_encoding
from automl.bench.report import COLUMNS
from automl.bench.systems import BASELINE, SYSTEMS, SystemSpec, register_system
from automl.cli import main
from automl.resources import resource_dir
from tests.conftest import make_table

HERE = "tests.integration.test_bench"


def crash_runner(job):
    raise RuntimeError("boom, on purpose")


def killed_runner(job):
    os.kill(os.getpid(), signal.SIGKILL)  # what the out-of-memory killer does


def hang_runner(job):
    time.sleep(600)


@pytest.fixture
def test_systems():
    specs = [SystemSpec(key, f"{HERE}:{key}_runner", BASELINE, ("default",))
             for key in ("crash", "killed", "hang")]
    for spec in specs:
        register_system(spec)
    yield
    for spec in specs:
        SYSTEMS.pop(spec.key)


@pytest.fixture
def small_data(tmp_path):
    """A folder in the shared tables' layout: one good table and one with a wrong target."""
    folder = tmp_path / "data"
    folder.mkdir()
    make_table(200, "binary").to_parquet(folder / "good.parquet")
    make_table(200, "binary").to_parquet(folder / "bad.parquet")
    pd.DataFrame({"name": ["bad", "good"], "task": ["binary", "binary"],
                  "target": ["no_such_column", "y"]}).to_csv(folder / "MANIFEST.csv", index=False)
    return folder


def bench(data, out, *args) -> tuple[int, pd.DataFrame | None]:
    code = main(["bench", "--data", str(data), "--out", str(out), "--time-budget", "5s", *args])
    csv = out / "results.csv"
    return code, (pd.read_csv(csv, keep_default_na=False, na_values=[""]) if csv.exists() else None)


def test_a_crashing_system_becomes_an_error_row_and_the_bench_goes_on(
        small_data, tmp_path, test_systems, capsys):
    code, rows = bench(small_data, tmp_path / "out", "--datasets", "good",
                       "--systems", "crash,killed,xgb_default")
    assert code == 0
    by_system = rows.set_index("system")
    assert by_system.loc["crash", "status"] == "error"
    assert by_system.loc["crash", "error"] == "RuntimeError: boom, on purpose"
    assert by_system.loc["killed", "error"].startswith("killed by SIGKILL (out of memory?)")
    assert by_system.loc["xgb_default", "status"] == "ok"
    assert 0.5 < by_system.loc["xgb_default", "roc_auc"] <= 1
    assert "worker.py" in (tmp_path / "out/work/good/crash/worker.log").read_text()
    report = (tmp_path / "out" / "bench.md").read_text()
    assert "- crash/default failed: RuntimeError: boom, on purpose" in report
    assert "| crash | default | 0 of 1 | — | — |" in report
    assert "dataset 1 of 1 (good) · crash: failed" in capsys.readouterr().err


def test_a_bad_dataset_becomes_error_rows_and_the_next_dataset_runs(small_data, tmp_path):
    code, rows = bench(small_data, tmp_path / "out", "--systems", "xgb_default")
    assert code == 0
    assert list(rows["dataset"]) == ["bad", "good"]
    assert list(rows["status"]) == ["error", "ok"]
    assert "has no target column 'no_such_column'" in rows["error"][0]


def test_a_hang_is_killed_at_the_hard_time_out(small_data, tmp_path, test_systems):
    started = time.monotonic()
    code, rows = bench(small_data, tmp_path / "out", "--datasets", "good", "--systems", "hang",
                       "--hard-timeout", "6s")
    assert code == 0 and time.monotonic() - started < 30
    assert rows["status"].tolist() == ["error"]
    assert rows["error"][0] == "time-out: no result within the hard limit of 6s; killed"
    assert rows["wall_seconds"][0] == pytest.approx(6, abs=2)


@pytest.mark.parametrize("args, message", [
    (["--datasets", "goood"], "unknown dataset 'goood' (did you mean 'good'?); "
                              "MANIFEST.csv lists 'bad', 'good'"),
    (["--systems", "xgb"], "unknown system 'xgb'"),
    (["--systems", "flam"], "(did you mean 'flaml'?); valid systems: automl, xgb_default, "
                            "random_forest, flaml, autogluon"),
    (["--systems", ","], "--systems got ','; give comma-separated names"),
    (["--time-budget", "soon"], "--time-budget 'soon' is not a duration"),
])
def test_bad_options_are_one_line_errors(small_data, tmp_path, capsys, args, message):
    code, _ = bench(small_data, tmp_path / "out", *args)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out" / "work").exists()  # refused before anything ran


def test_a_missing_data_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["bench", "--data", str(tmp_path / "nowhere")]) == 2
    assert f"benchmark data folder {tmp_path / 'nowhere'} not found; pass --data DIR" \
        in capsys.readouterr().err


def _loose_compact_pipeline(folder) -> str:
    """The compact preset with a loose score constraint: a 30 s run on a busy machine must
    still export a student, whose row is part of what the bench test checks. The bench is
    under test, not the preset: a few trials of three families and two students untuned end
    each fit well before its budget (the fits took their whole 30 s each, 86 s in all)."""
    preset = yaml.safe_load((resource_dir("pipelines") / "compact.yaml").read_text())
    for node in preset["nodes"]:
        if node["kind"] == "search":
            node["params"].update(families=["lightgbm", "xgboost", "linear"], max_trials=8)
        if node["kind"] == "distill":
            node["params"].update(students=["gbdt", "rules"], search=False)
        if node["kind"] == "compress":
            node["params"] = {"max_relative_drop": 0.5}
    pipeline = folder / "compact-loose.yaml"
    pipeline.write_text(yaml.safe_dump(preset))
    return str(pipeline)


@pytest.mark.slow
def test_bench_on_two_shared_tables(shared_data, tmp_path, capsys):
    # one run serves every check of a real bench (a suite-time choice): two tables, two
    # systems, the compact model's row beside the ensemble's. 30s, not less: starting the
    # local Ray takes several seconds of automl's budget, and on a busy 2-core machine a
    # 10-20s budget has ended with no finished trial
    out = tmp_path / "out"
    code = main(["bench", "--data", str(shared_data), "--datasets", "credit_g,cardiotocography",
                 "--systems", "automl,xgb_default", "--time-budget", "30s",
                 "--pipeline", _loose_compact_pipeline(tmp_path), "--out", str(out)])
    assert code == 0
    rows = pd.read_csv(out / "results.csv", keep_default_na=False, na_values=[""])
    assert list(rows.columns) == COLUMNS
    assert rows["status"].tolist() == ["ok"] * 8, rows["error"].tolist()
    check_columns(rows)
    check_against_a_direct_computation(rows, shared_data)
    check_the_compact_rows(rows)
    check_the_intervals(rows, out)
    report = (out / "bench.md").read_text()
    assert "## Summary" in report and "## credit_g" in report and "## cardiotocography" in report
    assert "| automl | ensemble | 2 of 2 |" in report
    assert "| xgb_default | default | 2 of 2 |" in report
    assert "*automl/ensemble ÷ best peer*" in report
    captured = capsys.readouterr()
    assert "dataset 2 of 2 (cardiotocography) · xgb_default: done in" in captured.err
    assert "automl/ensemble: mean rank" in captured.out


def check_the_compact_rows(rows: pd.DataFrame) -> None:
    for _, table in rows[rows["system"] == "automl"].groupby("dataset"):
        by_variant = table.set_index("variant")
        assert by_variant.loc["compact", "model_bytes"] < by_variant.loc["ensemble", "model_bytes"]
    credit = rows[(rows["dataset"] == "credit_g")].set_index("variant")
    assert credit.loc["compact", "roc_auc"] > 0.6


def check_the_intervals(rows: pd.DataFrame, out) -> None:
    # the predictions kept are the ones scored, and each table's interval was computed
    credit = out / "work" / "credit_g" / "automl" / "predictions"
    proba, y = np.load(credit / "compact.npy"), np.load(credit / "y_test.npy")
    scored = rows[(rows["dataset"] == "credit_g") & (rows["variant"] == "compact")]
    assert roc_auc_score(y, proba[:, 1]) == pytest.approx(scored["roc_auc"].item())
    intervals = pd.read_csv(out / "gain_kept_intervals.csv")
    assert intervals["dataset"].tolist() == ["credit_g", "cardiotocography"]
    assert (intervals["system"] == "automl").all() and intervals["no_gain"].between(0, 1).all()
    found = intervals.dropna()
    assert (found["low"] <= found["high"]).all()
    assert "interval reaches 0.97 on" in (out / "bench.md").read_text()


def check_columns(rows: pd.DataFrame) -> None:
    assert rows["dataset"].tolist() == ["credit_g"] * 4 + ["cardiotocography"] * 4
    assert rows["task"].tolist() == ["binary"] * 4 + ["multiclass"] * 4
    assert rows["system"].tolist() == ["automl"] * 3 + ["xgb_default"] + ["automl"] * 3 + ["xgb_default"]
    assert rows["variant"].tolist() == ["ensemble", "single", "compact", "default"] * 2
    assert rows["error"].isna().all()
    assert rows["n_train"].tolist() == [800] * 4 + [1700] * 4  # 80/20 of 1000 and 2126 rows
    assert rows["n_test"].tolist() == [200] * 4 + [426] * 4
    assert (rows["time_budget_s"] == 30).all()
    binary, multiclass = rows.iloc[:4], rows.iloc[4:]
    assert binary["roc_auc"].between(0.6, 1).all() and binary["accuracy"].between(0.6, 1).all()
    assert multiclass["log_loss"].between(0, 0.6).all()
    assert multiclass["accuracy"].between(0.8, 1).all()
    assert binary["log_loss"].isna().all() and multiclass["roc_auc"].isna().all()
    assert rows[["rmse", "r2"]].isna().all().all()
    assert (rows["fit_seconds"] > 0).all() and (rows["fit_seconds"] < rows["wall_seconds"]).all()
    assert (rows["wall_seconds"] < 30 * 3 + 60).all()  # within the hard time-out
    assert rows["peak_memory_mb"].between(50, 24_000).all()
    assert (rows["model_bytes"] > 1_000).all()
    assert rows["latency_ms"].between(0, 2_000, inclusive="neither").all()
    assert (rows["throughput_rows_s"] > 0).all()


def check_against_a_direct_computation(rows: pd.DataFrame, data) -> None:
    """The harness's xgb_default figures equal a plain sklearn split + xgboost + metric."""
    for name, target, column in [("credit_g", "class", "roc_auc"),
                                 ("cardiotocography", "NSP", "log_loss")]:
        frame = pd.read_parquet(data / f"{name}.parquet")
        train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame[target])
        classes = sorted(frame[target].unique())
        codes = {label: i for i, label in enumerate(classes)}
        X_train, X_test = train.drop(columns=target), test.drop(columns=target)
        model = Pipeline([("encode", ordinal_encoding(X_train)),
                          ("model", XGBClassifier(n_jobs=os.cpu_count()))])
        model.fit(X_train, train[target].map(codes))
        proba = model.predict_proba(X_test)
        y_test = test[target].map(codes).to_numpy()
        expected = (roc_auc_score(y_test, proba[:, 1]) if column == "roc_auc"
                    else log_loss(y_test, proba, labels=np.arange(len(classes))))
        got = rows[(rows["dataset"] == name) & (rows["system"] == "xgb_default")][column].item()
        assert got == pytest.approx(expected, abs=1e-6), name
