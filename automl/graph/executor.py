"""Run a validated graph in topological order, reusing every node whose key is stored.

A node's key hashes its kind, params, its inputs' keys and the run settings; so changing
one node re-runs it and what depends on it, and nothing else.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from typing import Any, Callable

from automl.budget import Budget
from automl.errors import GraphError
from automl.graph.context import RunContext, StageInputs
from automl.graph.load import execution_order
from automl.graph.spec import UNBUDGETED, GraphSpec
from automl.runfolder import RunStore

# kind -> "module:function" taking (node, inputs, context) and returning the node's output.
# A stage module may also have `prepare(node, context)`, called when the run starts, for
# work that can go on while earlier stages run (the search starts Ray there).
STAGES: dict[str, str] = {
    "ingest": "automl.data.stage:run",
    "preprocess": "automl.preprocess.stage:run",
    "search": "automl.search.stage:run",
    "ensemble": "automl.ensemble.stage:run",
    "distill": "automl.compress.distill:run",
    "compress": "automl.compress.choose:run",
    "export": "automl.compress.export:run",
    "report": "automl.report.stage:run",
}


def unimplemented_kinds(spec: GraphSpec) -> list[str]:
    return sorted({n.kind for n in spec.nodes if n.kind not in STAGES})


def check_runnable(spec: GraphSpec) -> None:
    missing = unimplemented_kinds(spec)
    if missing:
        nodes = [n.name for n in spec.nodes if n.kind in missing]
        raise GraphError(
            f"this version of automl cannot run node kind(s) {', '.join(missing)} yet "
            f"(nodes {', '.join(nodes)}); remove them from the pipeline or use a shipped preset"
        )


def _stage_module(kind: str):
    return importlib.import_module(STAGES[kind].split(":")[0])


def _stage(kind: str) -> Callable[..., Any]:
    return getattr(_stage_module(kind), STAGES[kind].split(":")[1])


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


def stage_budget(node, run_budget: Budget) -> Budget:
    """The node's share of the run's budget (`budget_share`), or what is left of it, less
    the reserve the run keeps for finishing (bundle, metrics)."""
    return run_budget.share(getattr(node.params, "budget_share", 1.0), keep=run_budget.reserve())


def prepare(spec: GraphSpec, context: RunContext) -> None:
    """Each stage's `prepare` hook, once per kind, before the first node runs."""
    for kind in dict.fromkeys(n.kind for n in spec.nodes):
        hook = getattr(_stage_module(kind), "prepare", None)
        if hook is not None:
            hook([n for n in spec.nodes if n.kind == kind], context)


def execute(spec: GraphSpec, context: RunContext, store: RunStore) -> dict[str, Any]:
    """Every node's output by name; each finished node is saved before the next starts."""
    check_runnable(spec)
    prepare(spec, context)
    outputs: dict[str, Any] = {}
    keys: dict[str, str] = {}
    ran: set[str] = set()  # nodes computed afresh in this execution
    for name in execution_order(spec):
        node = spec.node(name)
        keys[name] = key = node_key(node, [keys[i] for i in node.inputs], context)
        # A stored output built on an input that has just been recomputed is stale, even
        # under the same key (a resumed search finishes with other trials than before).
        if store.has(name, key) and not ran.intersection(node.inputs):
            outputs[name] = store.load(name, key)
            context.log(f"{name} ({node.kind}): reused the stored output (key {key})")
            continue
        context.log(f"{name} ({node.kind}): running")
        started = time.monotonic()
        context.node_dir = store.artifact_dir(name, key)
        context.budget = stage_budget(node, context.run_budget)
        inputs = StageInputs({i: outputs[i] for i in node.inputs},
                             {i: spec.node(i).kind for i in node.inputs})
        outputs[name] = _stage(node.kind)(node, inputs, context)
        ran.add(name)
        seconds = time.monotonic() - started
        store.save(name, key, outputs[name], {"kind": node.kind, "seconds": seconds})
        context.log(f"{name} ({node.kind}): done in {seconds:.1f}s")
    return outputs
