"""Run a validated graph in topological order, reusing every node whose key is stored.

A node's key hashes its kind, params, its inputs' keys and the run settings; so changing
one node re-runs it and what depends on it, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from automl.budget import Budget
from automl.graph.context import RunContext, StageInputs
from automl.graph.load import execution_order
from automl.graph.spec import UNBUDGETED, GraphSpec
from automl.registry import Registry
from automl.runfolder import RunStore

# kind -> "module:function" taking (node, inputs, context) and returning the node's output.
# A stage module may also have `prepare(node, context)`, called when the run starts, for
# work that can go on while earlier stages run (the search starts Ray there). Every kind
# a graph may name (graph/spec.py) is here: validation refuses any other before a run.
STAGES = Registry("stage", "stages", {
    "ingest": "automl.data.stage:run",
    "preprocess": "automl.preprocess.stage:run",
    "search": "automl.search.stage:run",
    "ensemble": "automl.ensemble.stage:run",
    "distill": "automl.distill.stage:run",
    "compress": "automl.distill.compress:run",
    "export": "automl.onnx.stage:run",
    "report": "automl.report.stage:run",
})


def _stage_module(kind: str):
    return sys.modules[STAGES[kind].__module__]


def node_key(node, input_keys: list[str], context: RunContext) -> str:
    payload = {
        "kind": node.kind,
        "params": node.params.model_dump(mode="json"),
        "inputs": input_keys,
        "settings": context.settings.key_fields(budgeted=node.kind not in UNBUDGETED),
    }
    if node.kind == "ingest":
        payload["data"] = context.data_fingerprint()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def stage_budget(run_budget: Budget, shares_until: float | None) -> Budget:
    """A stage's budget: until the shares of the stages so far, itself included, have
    passed since the run started (time the stages before it did not use is its too), or
    for a node without a share what is left; always less the reserve the run keeps for
    finishing (bundle, scores, report)."""
    keep = run_budget.reserve()
    if shares_until is None:
        return run_budget.share(1.0, keep=keep)
    return run_budget.until(shares_until, keep=keep)


def _prepare_hooks(spec: GraphSpec, context: RunContext,
                   reused: set[str]) -> dict[str, Callable[[], None]]:
    """Each stage kind's `prepare` hook, by kind, bound to its nodes that will run (not
    those in `reused`) and the run: a resume whose searches are all stored starts no Ray."""
    hooks = {}
    for kind in dict.fromkeys(n.kind for n in spec.nodes):
        hook = getattr(_stage_module(kind), "prepare", None)
        nodes = [n for n in spec.nodes if n.kind == kind and n.name not in reused]
        if hook is not None and nodes:
            hooks[kind] = lambda hook=hook, nodes=nodes: hook(nodes, context)
    return hooks


def _to_reuse(spec: GraphSpec, order: list[str], context: RunContext, store: RunStore) -> set[str]:
    """The nodes this execution will load from the store: each stored under its key, and
    so is every node it reads (what `_Execution.node` will find, known before it runs)."""
    keys, stored = {}, set()
    for name in order:
        node = spec.node(name)
        keys[name] = key = node_key(node, [keys[i] for i in node.inputs], context)
        if store.has(name, key) and stored.issuperset(node.inputs):
            stored.add(name)
    return stored


def execute(spec: GraphSpec, context: RunContext, store: RunStore) -> dict[str, Any]:
    """Every node's output by name; each finished node is saved before the next starts.

    The stages' `prepare` hooks (starting Ray takes seconds) run on the main thread, as
    they must, while the nodes before the first one of those kinds (ingest, branches) run
    in a worker thread beside them.
    """
    order = execution_order(spec)
    hooks = _prepare_hooks(spec, context, _to_reuse(spec, order, context, store))
    first = next((i for i, name in enumerate(order) if spec.node(name).kind in hooks), len(order))
    run = _Execution(spec, context, store)
    with ThreadPoolExecutor(1, thread_name_prefix="automl-nodes") as pool:
        early = pool.submit(run.nodes, order[:first])
        for hook in hooks.values():
            hook()
        early.result()
    run.nodes(order[first:])
    return run.outputs


class _Execution:
    """The outputs and keys of the nodes run so far in one execution of a graph."""

    def __init__(self, spec: GraphSpec, context: RunContext, store: RunStore):
        self.spec, self.context, self.store = spec, context, store
        self.outputs: dict[str, Any] = {}
        self.keys: dict[str, str] = {}
        self.ran: set[str] = set()  # nodes computed afresh in this execution
        self.shares = 0.0  # the budget shares of the nodes so far (see stage_budget)

    def nodes(self, names: list[str]) -> None:
        for name in names:
            self.node(name)

    def node(self, name: str) -> None:
        spec, context, store = self.spec, self.context, self.store
        node = spec.node(name)
        share = getattr(node.params, "budget_share", None)
        self.shares += share or 0.0
        self.keys[name] = key = node_key(node, [self.keys[i] for i in node.inputs], context)
        # A stored output built on an input that has just been recomputed is stale, even
        # under the same key (a resumed search finishes with other trials than before).
        if store.has(name, key) and not self.ran.intersection(node.inputs):
            self.outputs[name] = store.load(name, key)
            context.log(f"{name} ({node.kind}): reused the stored output (key {key})")
            return
        context.log(f"{name} ({node.kind}): running")
        started = time.monotonic()
        context.node_dir = store.artifact_dir(name, key)
        context.budget = stage_budget(context.run_budget, self.shares if share else None)
        inputs = StageInputs({i: self.outputs[i] for i in node.inputs},
                             {i: spec.node(i).kind for i in node.inputs})
        self.outputs[name] = STAGES[node.kind](node, inputs, context)
        self.ran.add(name)
        seconds = time.monotonic() - started
        store.save(name, key, self.outputs[name], {"kind": node.kind, "seconds": seconds})
        context.log(f"{name} ({node.kind}): done in {seconds:.1f}s")
