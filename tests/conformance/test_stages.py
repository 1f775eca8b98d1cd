"""Every stage kind the executor runs (`automl.graph.executor.STAGES`) passes the same checks
of the stage contract (DESIGN.md, "Stage"):

- inputs: a stage is handed exactly the outputs of the nodes its node names, and runs on
  them alone, in a fresh run folder without the table (no reaching past its inputs);
- keys: its node key changes with each of its params (and its inputs' keys, the seed),
  and with nothing else; a changed param re-runs the node and what reads it, no more;
- atomic writes: a stage killed at its first write, or at the write of its stored output,
  leaves no done marker, nothing half-written and no changed file, so a resume runs it
  again rather than trusting what it left;
- resume: a second execution on the same run folder reuses every stored output, calling
  no stage.

One run of a graph with a node of every kind is shared by the module: a few hundred rows
of data/adult_sample.csv, a search of two `linear` trials without a time budget (so the
same seed gives the same run), the distillation's rules students only. The checks that
need a stage's own work run it again for real; those about the executor's bookkeeping
run a stand-in that returns the stored output.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os as _os  # the real one: the tests put a stand-in in automl.atomic
import shutil
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import joblib
import pandas as pd
import pytest
import yaml

from automl import atomic
from automl.graph.context import RunContext, Settings, StageInputs
from automl.graph.executor import STAGES, execute, node_key
from automl.graph.load import execution_order, validate_graph
from automl.graph.spec import UNBUDGETED, GraphSpec
from automl.runfolder import RunStore
from tests.conftest import SAMPLE

KINDS = list(STAGES)
ROWS = 300
SETTINGS = Settings(target="income", seed=0, time_budget=None)

# One node of every kind; each names only some of what comes before it, so that "exactly
# its inputs" is more than "everything so far".
GRAPH = {"name": "stages", "nodes": [
    {"name": "data", "kind": "ingest", "params": {"validation": "holdout", "valid_fraction": 0.25}},
    {"name": "trees", "kind": "preprocess", "inputs": ["data"], "params": {"branch": "trees"}},
    {"name": "search", "kind": "search", "inputs": ["trees"],
     "params": {"families": ["linear"], "searcher": "random", "max_trials": 2, "concurrency": 1}},
    {"name": "ensemble", "kind": "ensemble", "inputs": ["search"],
     "params": {"size": 3, "max_candidates": 2}},
    {"name": "distill", "kind": "distill", "inputs": ["ensemble", "data", "trees"],
     "params": {"students": ["rules"], "search": False, "augment": "none", "multiplier": 0.0}},
    {"name": "compress", "kind": "compress", "inputs": ["distill"]},
    {"name": "export", "kind": "export", "inputs": ["compress"]},
    {"name": "report", "kind": "report", "inputs": ["search", "export"]},
]}

# Values for params the generic alternatives below cannot make (a list of free text).
OTHER_VALUES = {("search", "families"): ["linear", "xgboost"],
                ("ensemble", "max_size_bytes"): 2**20, ("ensemble", "max_latency_ms"): 10.0}


class Killed(BaseException):
    """A kill mid-write: no `except Exception` in a stage may swallow it."""


@dataclass
class Call:
    node: str
    inputs: dict[str, Any]
    kinds: dict[str, str]


@dataclass
class Fitted:
    spec: GraphSpec
    source: Path
    run_dir: Path
    outputs: dict[str, Any]
    keys: dict[str, str]
    calls: list[Call]

    def nodes(self, kind: str) -> list:
        return self.spec.by_kind(kind)


# ---- the shared run -------------------------------------------------------------------


def _context(source, run_dir: Path) -> RunContext:
    return RunContext(str(source), SETTINGS, Path(run_dir))


def _keys(spec: GraphSpec, context: RunContext) -> dict[str, str]:
    """Every node's key, as the executor derives it: from its inputs' keys, in order."""
    keys = {}
    for name in execution_order(spec):
        node = spec.node(name)
        keys[name] = node_key(node, [keys[i] for i in node.inputs], context)
    return keys


@contextlib.contextmanager
def stages_as(make: Callable[[str, Callable], Callable]):
    """Every kind's stage function replaced by `make(kind, real)` for the block. The
    stand-in keeps the real one's module, where the executor finds the kind's `prepare`."""
    saved = {kind: STAGES.raw(kind) for kind in KINDS}
    try:
        for kind in KINDS:
            real = STAGES[kind]
            stand_in = functools.wraps(real)(make(kind, real))
            STAGES.pop(kind)
            STAGES.register(kind, stand_in)
        yield
    finally:
        for kind, entry in saved.items():
            STAGES.pop(kind)
            STAGES.register(kind, entry)


def recorded(calls: list[Call], then: Callable) -> Callable[[str, Callable], Callable]:
    """Stages that note what they are handed, then do `then(kind, real, node, inputs, context)`."""
    def make(kind, real):
        def stage(node, inputs, context):
            calls.append(Call(node.name, dict(inputs.outputs), dict(inputs.kinds)))
            return then(kind, real, node, inputs, context)
        return stage
    return make


def run_real(kind, stage, node, inputs, context):
    return stage(node, inputs, context)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Fitted:
    from automl.search import runtime

    ray_before = runtime.started()
    home = tmp_path_factory.mktemp("stages")
    source = home / "table.csv"  # a file: its fingerprint is its path, size and time
    pd.read_csv(SAMPLE).head(ROWS).to_csv(source, index=False)
    spec = validate_graph(GRAPH, "the stage conformance graph")
    run_dir, calls = home / "run", []
    context = _context(source, run_dir)
    with stages_as(recorded(calls, run_real)):
        outputs = execute(spec, context, RunStore(run_dir))
    yield Fitted(spec, source, run_dir, outputs, _keys(spec, context), calls)
    if not ray_before:
        import ray

        ray.shutdown()


def test_the_graph_has_a_node_of_every_registered_kind(fitted):
    missing = [kind for kind in KINDS if not fitted.nodes(kind)]
    assert not missing, f"add a node of each of {missing} to GRAPH"


def test_every_node_ran_once_and_is_stored_under_its_key(fitted):
    assert sorted(c.node for c in fitted.calls) == sorted(n.name for n in fitted.spec.nodes)
    store = RunStore(fitted.run_dir)
    for name, key in fitted.keys.items():
        assert store.has(name, key), f"{name}: no done marker under the key node_key gives"
        done = json.loads((fitted.run_dir / "nodes" / name / key / "done.json").read_text())
        assert done["key"] == key


# ---- (a) a stage receives exactly its declared inputs ---------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_stage_is_handed_exactly_the_outputs_of_the_nodes_it_names(fitted, kind):
    for node in fitted.nodes(kind):
        call = next(c for c in fitted.calls if c.node == node.name)
        assert list(call.inputs) == node.inputs
        assert call.kinds == {i: fitted.spec.node(i).kind for i in node.inputs}
        for name, output in call.inputs.items():
            assert output is fitted.outputs[name], f"{node.name} got another {name} output"


@pytest.mark.parametrize("kind", KINDS)
def test_a_stage_runs_on_its_inputs_alone(fitted, kind, tmp_path):
    """In a fresh run folder, without the table unless it is the ingest (which reads it):
    a stage that reached past its inputs, into the run folder or the table, fails here."""
    for node in fitted.nodes(kind):
        source = fitted.source if kind == "ingest" else tmp_path / "no-table-here.csv"
        context = _context(source, tmp_path / "alone")
        context.node_dir = RunStore(context.run_dir).artifact_dir(node.name, "alone")
        inputs = StageInputs({i: fitted.outputs[i] for i in node.inputs},
                             {i: fitted.spec.node(i).kind for i in node.inputs})
        output = STAGES[kind](node, inputs, context)
        assert type(output) is type(fitted.outputs[node.name])
        assert sorted(p.name for p in (context.run_dir / "nodes").iterdir()) == [node.name]


# ---- (b) the node key -------------------------------------------------------------------


def _literals(annotation) -> list:
    """Every value a Literal anywhere in `annotation` allows."""
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    return [v for arg in typing.get_args(annotation) for v in _literals(arg)]


def _candidates(value, annotation) -> list:
    literals = _literals(annotation)
    found = [v for v in literals if v != value]
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, float):
        return [value / 2, value * 1.5, 0.1, 1.0] if value else [0.1, 1.0]
    if value is None:
        return found + [1, 1000, 0.5]
    if isinstance(value, list):
        return ([value[:-1]] if len(value) > 1 else []) + [value + [v] for v in found] + \
            [[v] for v in found]
    return found


def other_params(kind: str, params) -> dict[str, Any]:
    """Per param of `params`: a valid value other than its own (none where the param allows
    only one value); a param that gets no alternative fails here, naming it."""
    others, model = {}, type(params)
    dump = params.model_dump(mode="json")
    for name, info in model.model_fields.items():
        if len(_literals(info.annotation)) == 1:
            continue  # a param of one allowed value (export's format: onnx) cannot change
        tries = [OTHER_VALUES[kind, name]] if (kind, name) in OTHER_VALUES else \
            _candidates(dump[name], info.annotation)
        for value in tries:
            try:
                changed = model.model_validate({**dump, name: value})
            except ValueError:
                continue
            if changed.model_dump(mode="json") != dump:
                others[name] = changed
                break
        else:
            pytest.fail(f"{kind}.{name}: no other valid value found for {dump[name]!r}; "
                        "add one to OTHER_VALUES")
    return others


@pytest.mark.parametrize("kind", KINDS)
def test_the_key_changes_with_each_param_and_only_with_a_change(fitted, kind):
    context = _context(fitted.source, fitted.run_dir)
    for node in fitted.nodes(kind):
        inputs = [fitted.keys[i] for i in node.inputs]
        key = fitted.keys[node.name]
        same = type(node).model_validate(node.model_dump(mode="json"))
        assert node_key(same, inputs, context) == key
        others = other_params(kind, node.params)
        assert others, f"{kind} has no param that can change"
        for name, params in others.items():
            changed = node.model_copy(update={"params": params})
            assert node_key(changed, inputs, context) != key, f"{kind}.{name} is not in the key"


@pytest.mark.parametrize("kind", KINDS)
def test_the_key_follows_the_inputs_keys_and_the_run_settings(fitted, kind, tmp_path):
    other_table = tmp_path / "table.csv"
    pd.read_csv(fitted.source).head(ROWS - 1).to_csv(other_table, index=False)
    for node in fitted.nodes(kind):
        inputs, key = [fitted.keys[i] for i in node.inputs], fitted.keys[node.name]
        if inputs:
            assert node_key(node, inputs[:-1] + ["0" * 16], _context(fitted.source, fitted.run_dir)) != key
        for change, differs in [({"seed": 1}, True), ({"address": "ray://elsewhere:10001"}, False),
                                ({"time_budget": 600.0}, kind not in UNBUDGETED)]:
            context = _context(fitted.source, fitted.run_dir)
            context.settings = Settings(**{**vars(SETTINGS), **change})
            assert (node_key(node, inputs, context) != key) is differs, f"{kind}: {change}"
        # the table enters through the ingest's key (its fingerprint), the others' through it
        assert (node_key(node, inputs, _context(other_table, fitted.run_dir)) != key) is \
            (kind == "ingest")


def _descendants(spec: GraphSpec, name: str) -> set[str]:
    found, more = {name}, True
    while more:
        more = False
        for node in spec.nodes:
            if node.name not in found and found.intersection(node.inputs):
                found.add(node.name)
                more = True
    return found


def stored(fitted: Fitted):
    """Stand-ins for every stage: the shared run's output of the node, at no cost."""
    def then(kind, real, node, inputs, context):
        return fitted.outputs[node.name]
    return then


@pytest.mark.parametrize("kind", KINDS)
def test_a_changed_param_reruns_the_node_and_what_reads_it_and_nothing_else(fitted, kind, tmp_path):
    run_dir = _copy_run(fitted, tmp_path / "run")
    for node in fitted.nodes(kind):
        name, params = next(iter(other_params(kind, node.params).items()))
        nodes = [n.model_copy(update={"params": params}) if n.name == node.name else n
                 for n in fitted.spec.nodes]
        spec = fitted.spec.model_copy(update={"nodes": nodes})
        calls = []
        with stages_as(recorded(calls, stored(fitted))):
            execute(spec, _context(fitted.source, run_dir), RunStore(run_dir))
        assert {c.node for c in calls} == _descendants(fitted.spec, node.name), \
            f"{kind}.{name} changed"


# ---- (c) atomic writes ------------------------------------------------------------------


def _copy_run(fitted: Fitted, to: Path, without: str | None = None) -> Path:
    """The shared run folder copied, less node `without`'s stored outputs."""
    nodes = fitted.run_dir / "nodes"
    shutil.copytree(fitted.run_dir, to, ignore=lambda folder, names: (
        [without] if without and Path(folder) == nodes else []))
    return to


def _up_to(spec: GraphSpec, name: str) -> GraphSpec:
    """The graph of node `name` and the nodes it reads, directly or not: the same keys."""
    keep, more = {name}, True
    while more:
        more = False
        for node in spec.nodes:
            if node.name in keep and not keep.issuperset(node.inputs):
                keep.update(node.inputs)
                more = True
    return spec.model_copy(update={"nodes": [n for n in spec.nodes if n.name in keep]})


@dataclass
class Writes:
    """automl.atomic's renames, the one that finishes every atomic write; `kill_at(path)`
    says which write (armed by the node under test) is killed before its rename."""

    kill_at: Callable[[Path], bool]
    armed: bool = False
    killed: Path | None = None
    seen: list[Path] = field(default_factory=list)

    def replace(self, tmp, path):
        if self.armed and self.killed is None and self.kill_at(Path(path)):
            self.killed = Path(path)
            raise Killed(f"killed writing {path}")
        self.seen.append(Path(path))
        return _os.replace(tmp, path)


class _AtomicOs:
    """What automl.atomic sees as `os`: the real one, but renames go through `writes`."""

    def __init__(self, writes: Writes):
        self._writes = writes

    def __getattr__(self, name):
        return self._writes.replace if name == "replace" else getattr(_os, name)


def _files(folder: Path) -> dict[Path, tuple]:
    """Each file's identity: a write in place or a rename over it changes it, even when
    the bytes come out the same."""
    stats = {p: p.stat() for p in folder.rglob("*") if p.is_file()}
    return {p: (s.st_ino, s.st_mtime_ns, s.st_size) for p, s in stats.items()}


def _temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")]


def _complete(path: Path) -> None:
    """Reading the file fails if it is half-written."""
    readers = {".joblib": joblib.load, ".json": lambda p: json.loads(p.read_text()),
               ".csv": pd.read_csv, ".parquet": pd.read_parquet,
               ".yaml": lambda p: yaml.safe_load(p.read_text())}
    reader = readers.get(path.suffix)
    if reader is not None:
        reader(path)


def killed_run(fitted: Fitted, node, run_dir: Path, monkeypatch, kill_at, then) -> tuple:
    """Node `node`, run by `then` in a copy of the shared run without its stored outputs
    (the nodes it reads reused), killed at the first write `kill_at` picks: that write and
    the run folder's files before the run."""
    _copy_run(fitted, run_dir, without=node.name)
    writes = Writes(kill_at)
    monkeypatch.setattr(atomic, "os", _AtomicOs(writes))

    def arm(kind, real, node_, inputs, context):
        writes.armed = node_.name == node.name
        return then(kind, real, node_, inputs, context)

    before = _files(run_dir)
    with stages_as(recorded([], arm)), pytest.raises(Killed):
        execute(_up_to(fitted.spec, node.name), _context(fitted.source, run_dir), RunStore(run_dir))
    monkeypatch.setattr(atomic, "os", _os)
    assert writes.killed is not None
    assert not _temp_files(run_dir), f"the killed write of {writes.killed} left its temp file"
    return writes, before


def _assert_resume_runs_it_again(fitted: Fitted, node, run_dir: Path) -> None:
    key = fitted.keys[node.name]
    assert not RunStore(run_dir).has(node.name, key)
    assert not list((run_dir / "nodes" / node.name).rglob("done.json"))
    calls = []
    with stages_as(recorded(calls, stored(fitted))):
        execute(_up_to(fitted.spec, node.name), _context(fitted.source, run_dir), RunStore(run_dir))
    assert [c.node for c in calls] == [node.name], "the resume trusted what the kill left"
    assert RunStore(run_dir).has(node.name, key)


@pytest.mark.parametrize("kind", KINDS)
def test_a_stage_killed_at_its_first_write_leaves_nothing_a_resume_would_trust(
        fitted, kind, tmp_path, monkeypatch):
    """The real stage, killed at the first atomic write it makes (its own files', else its
    stored output's): no file outside its folder touched, and every file in its folder
    (a search's finished trials, kept for a resumed search) complete."""
    for node in fitted.nodes(kind):
        run_dir = tmp_path / node.name
        writes, before = killed_run(fitted, node, run_dir, monkeypatch, lambda path: True, run_real)
        own = run_dir / "nodes" / node.name
        after = _files(run_dir)
        changed = [str(p) for p in set(before) | set(after)
                   if before.get(p) != after.get(p) and own not in p.parents]
        assert not changed, f"{node.name} touched files outside its folder before the kill"
        for path in own.rglob("*"):
            if path.is_file():
                _complete(path)
        _assert_resume_runs_it_again(fitted, node, run_dir)


@pytest.mark.parametrize("kind", KINDS)
def test_a_node_killed_writing_its_output_has_no_done_marker(fitted, kind, tmp_path, monkeypatch):
    """The done marker is written last: a kill at the output's write leaves none, so a
    resume runs the node again."""
    for node in fitted.nodes(kind):
        run_dir = tmp_path / node.name
        writes, _ = killed_run(fitted, node, run_dir, monkeypatch,
                               lambda path: path.name == "output.joblib", stored(fitted))
        assert writes.killed.parent.name == fitted.keys[node.name]
        _assert_resume_runs_it_again(fitted, node, run_dir)


# ---- (d) resume -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_second_run_on_the_same_folder_reuses_the_stored_output(fitted, kind, capsys):
    def refit(kind_, real, node, inputs, context):
        raise AssertionError(f"{node.name} ({kind_}) ran again on a run folder that has it")

    capsys.readouterr()
    with stages_as(recorded([], refit)):
        outputs = execute(fitted.spec, _context(fitted.source, fitted.run_dir),
                          RunStore(fitted.run_dir))
    log = capsys.readouterr().err
    for node in fitted.nodes(kind):
        key = fitted.keys[node.name]
        assert f"{node.name} ({kind}): reused the stored output (key {key})" in log
        assert type(outputs[node.name]) is type(fitted.outputs[node.name])
