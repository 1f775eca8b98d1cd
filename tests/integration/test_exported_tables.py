"""Tables as analysts export them, and Ctrl-C, as a user at a terminal meets them: the real
`automl fit` in its own process, its log read as it comes.

One table carries every awkward thing at once: the unnamed index column that
`DataFrame.to_csv` writes (of a shuffled frame, so not a counter), day-first dates
(31/12/2020), and target labels that differ only in case or surrounding spaces. Ctrl-C
(SIGINT to the driver's process group, as a terminal sends it) comes once the search has
a finished trial: the search ends early, the run goes on and says so.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from automl.cli import main
from tests.conftest import REPO, SAMPLE
from tests.drivers import Driver

pytestmark = pytest.mark.slow


def exported_table(rows: int, seed: int) -> pd.DataFrame:
    """The sample as a spreadsheet user has it: shuffled (the index no counter), a day-first
    date, yes/no labels written three ways."""
    frame = pd.read_csv(SAMPLE).sample(rows, random_state=seed)
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    frame["signed"] = days.strftime("%d/%m/%Y")
    spelled = np.where(frame["income"].eq(1), "yes", "no").astype(object)
    spelled[(spelled == "yes") & (rng.random(rows) < 0.2)] = "Yes"
    spelled[(spelled == "no") & (rng.random(rows) < 0.1)] = " no "
    frame["income"] = spelled
    return frame


def run_dir_of(out: Path) -> Path:
    return next(out.glob("*/run.json")).parent


def interrupt(driver: Driver) -> None:
    os.killpg(driver.process.pid, signal.SIGINT)  # what Ctrl-C at a terminal sends


def test_an_exported_table_and_ctrl_c_in_the_search(tmp_path):
    table = tmp_path / "export.csv"
    exported_table(1500, seed=0).to_csv(table)  # index=True: the unnamed first column
    out = tmp_path / "runs"
    driver = Driver(str(table), "--target", "income", "--pipeline", "fast", "--time-budget", "90s",
                    "--out", str(out), "--no-report")
    driver.wait_until(lambda: list(out.glob("*/nodes/search/*/trials/*.joblib")),
                      what="a finished trial")
    interrupt(driver)
    assert driver.finish() == 0, driver.log
    log = driver.log
    assert "left out its first column, which has no name" in log
    assert "label(s) that differ from another only in surrounding spaces or case" in log
    assert "search: stopped by Ctrl-C after" in log
    run_dir = run_dir_of(out)
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "done" and meta["stopped_early"][0].startswith("search: stopped by Ctrl-C")
    schema = json.loads((run_dir / "schema.json").read_text())
    assert schema["classes"] == ["no", "yes"]
    columns = {c["name"]: c for c in schema["columns"]}
    assert columns["signed"]["kind"] == "datetime" and columns["signed"]["date_format"] == "%d/%m/%Y"
    assert "" not in columns and "Unnamed: 0" not in columns
    # new rows exported the same way are predicted, their dates read day first
    rows = tmp_path / "rows.csv"
    exported_table(40, seed=1).drop(columns="income").to_csv(rows)
    assert main(["predict", str(run_dir), str(rows), "--out", str(tmp_path / "p.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "p.csv")["prediction"]) <= {"no", "yes"}


def _fast_then_distilled(folder: Path) -> Path:
    """The fast preset, then the compact preset's distillation (its students' ladder): seconds
    of fits after the search for the second Ctrl-C to land in (after `fast` alone the run
    ends within 2 s of its search)."""
    graph = yaml.safe_load((REPO / "pipelines" / "fast.yaml").read_text())
    compact = yaml.safe_load((REPO / "pipelines" / "compact.yaml").read_text())
    tail = [n for n in compact["nodes"] if n["kind"] in ("distill", "compress", "export")]
    tail[0]["params"].update(students=["gbdt", "rules"], search=False)
    path = folder / "fast-distilled.yaml"
    path.write_text(yaml.safe_dump({"name": "fast-distilled", "nodes": graph["nodes"] + tail}))
    return path


def test_ctrl_c_twice_stops_the_run_with_a_resume_hint(tmp_path):
    out = tmp_path / "runs"
    driver = Driver(str(SAMPLE), "--target", "income", "--pipeline", str(_fast_then_distilled(tmp_path)),
                    "--time-budget", "90s", "--out", str(out), "--no-report")
    driver.wait_until(lambda: list(out.glob("*/nodes/search/*/trials/*.joblib")),
                      what="a finished trial")  # Tune is searching
    interrupt(driver)
    driver.wait_for_line("search: stopped by Ctrl-C")
    interrupt(driver)
    assert driver.finish() == 130, driver.log
    assert "interrupted; continue with 'automl fit --resume RUN_DIR'" in driver.log
    assert json.loads((run_dir_of(out) / "run.json").read_text())["status"] == "interrupted"
