"""The one registry helper, and the tables built on it (families, stages, systems, searchers)."""

from __future__ import annotations

import typing

import pytest

from automl.config import SearchParams
from automl.errors import ConfigError
from automl.graph.executor import STAGES
from automl.graph.spec import NODE_TYPES
from automl.registry import Registry, import_object, path_of


def test_a_path_is_imported_on_first_use_and_kept():
    table = Registry("thing", "things", {"dumps": "json:dumps"})
    assert table.raw("dumps") == "json:dumps"  # not imported yet
    import json

    assert table["dumps"] is json.dumps
    assert table.raw("dumps") is json.dumps and table.path("dumps") == "json:dumps"


def test_an_unknown_key_lists_the_known_ones():
    table = Registry("thing", "things", {"apple": "os:sep", "pear": "os:sep"})
    with pytest.raises(ConfigError, match=r"unknown thing 'aple' \(did you mean 'apple'\?\); "
                                          r"things are 'apple', 'pear'$"):
        table["aple"]
    own = Registry("thing", "things", {"b": 1, "a": 2}, unknown="no {noun} {key!r}; try {keys}")
    with pytest.raises(ConfigError, match=r"^no thing 'c'; try b, a$"):
        own.path("c")
    assert own.get("c") is None and own.get("a") == 2


def test_a_taken_key_is_refused_naming_both_and_the_same_entry_is_welcome():
    table = Registry("thing", "things", {"join": "os.path:join"})
    with pytest.raises(ConfigError, match=r"thing key 'join' is taken by os.path:join; "
                                          r"cannot register os.path:split"):
        table.register("join", "os.path:split")
    table.register("join", "os.path:join")
    assert list(table) == ["join"] and len(table) == 1 and "join" in table
    assert table.pop("join") == "os.path:join" and "join" not in table


def test_import_paths():
    assert import_object("os.path:join") is __import__("os").path.join
    assert path_of(Registry) == "automl.registry:Registry"
    with pytest.raises(ConfigError, match="'os.path' is not an import path"):
        import_object("os.path")


def test_every_node_kind_has_a_stage_and_every_searcher_a_factory():
    # validation refuses any other kind, so the executor never meets a kind without a stage
    assert sorted(STAGES) == sorted(NODE_TYPES)
    from automl.search.tuner import SEARCHERS

    allowed = typing.get_args(SearchParams.model_fields["searcher"].annotation)
    assert sorted(SEARCHERS) == sorted(allowed)
