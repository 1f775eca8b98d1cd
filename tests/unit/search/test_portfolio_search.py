"""The portfolio in the search: entries run first, rank by rank across families, reach
their trials whole, and are recognised whatever searcher carried them."""

from __future__ import annotations

from automl.search.portfolio import entry_for, points
from automl.search.trainable import trial_params
from automl.space import ChoiceParam, NumberParam, PortfolioEntry, Space


def _spaces() -> dict[str, Space]:
    gbm = Space(default={"rate": 0.1, "leaves": 31, "early": 50},
                params={"rate": NumberParam(type="float", low=0.01, high=0.3, log=True),
                        "leaves": NumberParam(type="int", low=4, high=256, log=True)},
                portfolio=[PortfolioEntry(params={"rate": 0.1, "leaves": 31}, source="default"),
                           PortfolioEntry(params={"rate": 0.03, "leaves": 128, "early": 100},
                                          source="study"),
                           PortfolioEntry(params={"rate": 0.2, "leaves": 8}, source="study")])
    linear = Space(default={"C": 1.0, "penalty": "l2"},
                   params={"C": NumberParam(type="float", low=1e-4, high=1e3, log=True),
                           "penalty": ChoiceParam(type="choice", values=["l2", "l1"])})
    return {"gbm": gbm, "linear": linear}


def test_entries_run_rank_by_rank_across_families():
    first = points(_spaces(), flat=False)
    assert [(p["family"], p.get("gbm__leaves")) for p in first] == \
        [("gbm", 31), ("linear", None), ("gbm", 128), ("gbm", 8)]
    assert first[1] == {"family": "linear", "linear__C": 1.0, "linear__penalty": "l2"}
    flat = points(_spaces(), flat=True)
    assert flat[0]["linear__C"] == 1.0 and flat[1]["gbm__rate"] == 0.1  # every key, filled


def test_a_trial_takes_its_entry_whole_and_a_proposal_takes_its_sampled_values():
    spaces = _spaces()
    entry = {"family": "gbm", "gbm__rate": 0.03, "gbm__leaves": 128}  # as a searcher carries it
    assert entry_for(entry, spaces) == {"rate": 0.03, "leaves": 128, "early": 100}
    assert trial_params(entry, spaces) == {"rate": 0.03, "leaves": 128, "early": 100}
    proposal = {"family": "gbm", "gbm__rate": 0.05, "gbm__leaves": 20}
    assert entry_for(proposal, spaces) is None
    assert trial_params(proposal, spaces) == {"rate": 0.05, "leaves": 20, "early": 50}


def test_floats_that_came_back_through_a_transform_still_match():
    nudged = {"family": "gbm", "gbm__rate": 0.20000000000000004, "gbm__leaves": 8}
    assert entry_for(nudged, _spaces()) == {"rate": 0.2, "leaves": 8}
