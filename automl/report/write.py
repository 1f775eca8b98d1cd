"""report.html in the run folder: every section built, the page written atomically.

A section that fails (a library that changed under an old run, an odd table) becomes a
note saying so; the rest of the report is still written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from automl.atomic import atomic_write_text
from automl.budget import Budget
from automl.errors import first_line
from automl.report import model_sections, run_sections
from automl.report.collect import RunFacts, from_run_dir
from automl.report.page import Section, note, page

REPORT_FILE = "report.html"


def report_run_dir(run_dir: str | Path, importance: bool = True,
                   log: Callable[[str], None] = lambda _: None, budget: Budget | None = None) -> Path:
    """`automl report RUN_DIR`: the report of a run folder on disk. With a `budget` (the
    end of a fit), permutation importance takes only what is left of it."""
    return write_report(from_run_dir(run_dir), importance, log, budget)


def write_report(facts: RunFacts, importance: bool = True,
                 log: Callable[[str], None] = lambda _: None, budget: Budget | None = None) -> Path:
    started = time.monotonic()
    seed = facts.meta.get("settings", {}).get("seed", 0)
    budget = budget or Budget.unlimited()
    builders = [("overview", "Overview", run_sections.overview),
                ("data", "Data", run_sections.data),
                ("search", "Search", run_sections.search),
                ("ensemble", "Ensemble", model_sections.ensemble),
                ("compact", "Compact model", model_sections.compact),
                ("importance", "Feature importance",
                 lambda f: model_sections.importance(f, importance, seed, budget))]
    sections = [_built(key, title, build, facts, log) for key, title, build in builders]
    target = facts.meta.get("settings", {}).get("target") or getattr(facts.schema, "target", "?")
    path = facts.run_dir / REPORT_FILE
    atomic_write_text(path, page(f"automl run report: {target}", str(facts.run_dir), sections))
    log(f"report: wrote {path} in {time.monotonic() - started:.1f}s")
    return path


def _built(key: str, title: str, build, facts: RunFacts, log) -> Section:
    try:
        return build(facts)
    except Exception as err:  # one broken section must not cost the others
        message = f"{type(err).__name__}: {first_line(err, limit=300)}"
        log(f"report: the {title.lower()} section could not be drawn ({message})")
        return Section(key, title, note(f"This section could not be drawn: {message}"))
