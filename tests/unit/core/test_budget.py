"""The one budget: parsed once, shared out to stages, handed down to trials and fits."""

from __future__ import annotations

import pickle
import time

import pytest

from automl.budget import DEFAULT, Budget, parse_duration, parse_time_budget, resolve_time_budget
from automl.errors import ConfigError


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("5m", 300), ("1.5h", 5400), ("45", 45),
                                           (30, 30), ("2 min", 120)])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-5s", "0", "soon", "5 days", True])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ConfigError, match="time budget"):
        parse_duration(text)


def test_an_unlimited_budget_never_runs_out():
    budget = Budget.unlimited()
    assert budget.remaining() is None and not budget.expired() and not budget.limited
    assert budget.share(0.5).remaining() is None and budget.cap(None).remaining() is None
    assert budget.cap(2.0).remaining() == pytest.approx(2.0, abs=0.05)  # a cap still caps


def test_a_share_is_a_fraction_of_the_whole_and_ends_with_its_parent():
    run = Budget(100.0)
    assert run.share(0.5).remaining() == pytest.approx(50.0, abs=0.1)
    assert run.share(1.0, keep=run.reserve()).remaining() == pytest.approx(100 - run.reserve(), abs=0.1)
    late = Budget(end=time.time() + 10.0)  # most of a 100 s run already spent
    late.total = 100.0
    assert late.share(0.5).remaining() == pytest.approx(10.0, abs=0.1)  # never past the end


def test_caps_and_splits_never_outlast_the_budget():
    budget = Budget(10.0)
    assert budget.cap(60.0).remaining() == pytest.approx(10.0, abs=0.1)
    assert budget.cap(2.0).remaining() == pytest.approx(2.0, abs=0.1)
    assert budget.split(4).remaining() == pytest.approx(2.5, abs=0.1)


def test_a_spent_budget_is_expired_and_has_nothing_left():
    spent = Budget(0.01)
    time.sleep(0.02)
    assert spent.expired() and spent.remaining() == 0.0
    assert spent.share(0.5).expired() and spent.split(3).expired()


def test_a_budget_crosses_processes_as_a_wall_clock_end():
    budget = Budget(30.0)
    copy = pickle.loads(pickle.dumps(budget))  # as Ray hands it to a trial
    assert copy.end == budget.end and copy.remaining() == pytest.approx(budget.remaining(), abs=0.1)


def test_the_reserve_grows_with_the_budget_and_is_capped():
    assert Budget(10.0).reserve() < Budget(100.0).reserve() <= Budget(10_000.0).reserve()
    assert Budget.unlimited().reserve() == 0.0


@pytest.mark.parametrize("text, why", [("-5s", "negative"), ("2s", "too short"),
                                       ("8d", "too long"), ("nan", "not a duration")])
def test_a_duration_out_of_bounds_says_what_is_allowed(text, why):
    with pytest.raises(ConfigError, match=rf"^time budget '{text}' is {why}; allowed: 5s to 7d, "
                                          r"written like '90s', '5m', '1.5h' or '2d'"):
        parse_duration(text)


def test_a_time_budget_left_out_is_the_default_and_none_is_no_limit():
    assert parse_time_budget(None) == DEFAULT
    assert parse_time_budget("none") is None and parse_time_budget(" None ") is None
    assert parse_time_budget("2d") == 2 * 86400
    assert resolve_time_budget(DEFAULT) == (300.0, "time budget: 5m (the default; "
                                                   "--time-budget or time_budget= to change)")
    assert resolve_time_budget(None) == (None, "time budget: none (no limit)")
    assert resolve_time_budget(90.0) == (90.0, "time budget: 90s")
