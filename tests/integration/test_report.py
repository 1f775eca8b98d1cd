"""The report of one real small run: every section, from the fit, from `automl report`,
from a report node, and as headless Chromium draws it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from automl import AutoML
from automl.cli import main
from automl.models.registry import register
from automl.search import runtime
from tests.conftest import make_table

CRASHY = "tests.plugins.crashy:CrashyFamily"  # its default config raises: a failed trial
SECTIONS = ["overview", "data", "search", "ensemble", "compact", "importance"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _nodes() -> list[dict]:
    return [
        {"name": "data", "kind": "ingest", "params": {"test_fraction": 0.2}},
        {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
        {"name": "search", "kind": "search", "inputs": ["trees"],
         "params": {"families": ["xgboost", "linear", "crashy"], "max_trials": 8}},
        {"name": "ensemble", "kind": "ensemble", "inputs": ["search"]},
        {"name": "distill", "kind": "distill", "inputs": ["ensemble", "data", "trees"],
         # the students the report's sections show (a tree, rules); no student search: the
         # distillation's own tests try every kind
         "params": {"multiplier": 1.0, "students": ["gbdt", "rules"], "search": False}},
        {"name": "compress", "kind": "compress", "inputs": ["distill"],
         "params": {"max_score_drop": 1.0}},  # a compact model is always chosen
        {"name": "export", "kind": "export", "inputs": ["compress"]},
    ]


def _pipeline(path: Path, nodes: list[dict]) -> Path:
    path.write_text(json.dumps({"name": "report-test", "nodes": nodes}))
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    runtime.connect(None)
    register("crashy", CRASHY)
    home = tmp_path_factory.mktemp("report")
    table = home / "table.csv"
    make_table(n=600).to_csv(table, index=False)  # a file, so that the run can be resumed
    # no time limit: the trial counts bound it, as they did before a default budget existed
    model = AutoML(pipeline=_pipeline(home / "pipeline.yaml", _nodes()), out=home / "runs",
                   time_budget="none", verbosity=0).fit(str(table), target="y")
    return Path(model.run_dir_)


def _sections(html: str) -> list[str]:
    return re.findall(r'<section id="([a-z]+)">', html)


def test_fit_writes_a_report_with_every_section(run_dir):
    html = (run_dir / "report.html").read_text()
    assert _sections(html) == SECTIONS
    assert "could not be drawn" not in html
    for text in ("Feature columns", "Distribution of y", "Best validation roc_auc over time",
                 "by model family", "Leaderboard", "crashy failed on purpose",
                 "Members and weights", "Ensemble vs best single model", "Pareto front",
                 "Model card", "Rules", "ensemble: roc_auc lost", "compact model: roc_auc lost",
                 "test (held out)"):
        assert text in html, text
    assert html.count("<svg") >= 7
    # self-contained: nothing to fetch, no script
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|<script|@import|url\((?!#)""", html)


def test_automl_report_writes_it_again_from_the_run_folder(run_dir, capsys):
    (run_dir / "report.html").unlink()
    assert main(["report", str(run_dir), "--no-importance"]) == 0
    assert Path(capsys.readouterr().out.strip()) == run_dir / "report.html"
    html = (run_dir / "report.html").read_text()
    assert _sections(html) == SECTIONS and "Pareto front" in html
    assert "Skipped" in html and "compact model: roc_auc lost" not in html


def test_a_report_node_writes_it_inside_the_graph(run_dir, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "report.html").unlink()
    nodes = _nodes() + [{"name": "report", "kind": "report", "inputs": ["export"],
                         "params": {"permutation_importance": False}}]
    assert main(["fit", "--resume", str(copy), "--pipeline",
                 str(_pipeline(tmp_path / "with-report.yaml", nodes))]) == 0
    log = capsys.readouterr().err
    assert "search (search): reused the stored output" in log
    assert "report (report): running" in log
    html = (copy / "report.html").read_text()
    assert _sections(html) == SECTIONS and "permutation_importance: false" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                    "(apt-get install chromium); the screenshot test needs it")
def test_the_report_renders_in_headless_chromium(run_dir, tmp_path):
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}"]
    page = (run_dir / "report.html").as_uri()
    dom = subprocess.run([*browser, "--dump-dom", page], capture_output=True, text=True,
                         timeout=120).stdout
    assert _sections(dom) == SECTIONS and dom.count("<svg") >= 6  # parsed as we wrote it
    shot = tmp_path / "report.png"
    subprocess.run([*browser, "--window-size=1200,2400", f"--screenshot={shot}", page],
                   capture_output=True, timeout=120)
    from PIL import Image  # pillow comes with matplotlib

    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2400)
    colours = image.getcolors(maxcolors=1 << 20)
    assert len(colours) > 100  # text, tables and figures, not a blank or error page
