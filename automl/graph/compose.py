"""Graphs made from other graphs: `with_compact` (what `automl fit --compact` runs),
`with_holdout` (`--holdout`), `with_max_trials` (`--max-trials`) and
`with_ensemble_options` (`--refit-full`, `--max-model-size`, `--max-latency`).

`--compact` adds the compact preset's distill, compress and export nodes to the chosen
graph rather than standing for the compact preset: the preset chooses the search
(`fast`, `best`, a file), `--compact` asks for a compact model of what it finds, and the
nodes and their params stay in one place, pipelines/compact.yaml.
"""

from __future__ import annotations

from automl.errors import GraphError
from automl.graph.load import load_graph, validate_graph
from automl.graph.spec import GraphSpec

COMPACT_PRESET = "compact"
COMPACT_KINDS = ("distill", "compress", "export")


def with_compact(spec: GraphSpec) -> GraphSpec:
    """`spec` with the compact preset's distill → compress → export after its teacher (its
    last ensemble, else its last search), reading its trees branch (added if missing).

    The distillation gets the share of the time budget it has in the preset: the other
    stages' shares are scaled down to leave it, so a run keeps its budget. The teacher
    keeps its fold models (no refit_full). A graph that already exports a compact model
    is returned as it is.
    """
    if spec.by_kind("export"):
        return spec
    teacher = (spec.by_kind("ensemble") or spec.by_kind("search") or [None])[-1]
    if teacher is None:
        raise GraphError(f"--compact distils an ensemble or a search, and graph {spec.name!r} "
                         "has neither; add a search node")
    nodes = [node.model_dump(mode="json") for node in spec.nodes]
    for node in nodes:
        # the distillation teaches and judges by the teacher's fold models (the judged
        # fold is new to those that left it out): a kfold teacher keeps them
        if node["name"] == teacher.name and node["params"].get("refit_full"):
            node["params"]["refit_full"] = False
    names = {node["name"] for node in nodes}
    ingest = spec.by_kind("ingest")[0].name
    trees = next((n.name for n in spec.by_kind("preprocess") if n.params.branch == "trees"), None)
    if trees is None:
        trees = _fresh("trees", names)
        nodes.append({"name": trees, "kind": "preprocess", "inputs": [ingest],
                      "params": {"branch": "trees"}})
    added = _compact_nodes(names, {"distill": [teacher.name, ingest, trees]})
    _leave_share(nodes, added[0]["params"]["budget_share"])
    return validate_graph({"name": f"{spec.name}+compact", "summary": spec.summary,
                           "description": spec.description, "nodes": nodes + added},
                          f"{spec.name} with --compact")


def with_holdout(spec: GraphSpec, test_fraction: float | None) -> GraphSpec:
    """The graph with its ingest node's test_fraction replaced (None: as the graph says), a
    share that `automl.options.check_holdout` has passed."""
    if test_fraction is None:
        return spec
    nodes = [n.model_copy(update={"params": n.params.model_copy(update={"test_fraction": test_fraction})})
             if n.kind == "ingest" else n for n in spec.nodes]
    return GraphSpec.model_validate({**spec.model_dump(), "nodes": [n.model_dump() for n in nodes]})


def with_max_trials(spec: GraphSpec, max_trials: int | None) -> GraphSpec:
    """`spec` with every search node's `max_trials` set (None: as the graph says)."""
    if max_trials is None:
        return spec
    nodes = [node.model_dump(mode="json") for node in spec.nodes]
    for node in nodes:
        if node["kind"] == "search":
            node["params"]["max_trials"] = max_trials
    return validate_graph({**spec.model_dump(mode="json"), "nodes": nodes},
                          f"{spec.name} with --max-trials {max_trials}")


def with_ensemble_options(spec: GraphSpec, **params) -> GraphSpec:
    """`spec` with these params (refit_full, max_size_bytes, max_latency_ms; None: as the
    graph says) set on every ensemble node. A refit and a cost cap read the branch data,
    so each such node also gets the preprocess nodes its searches read as inputs."""
    given = {name: value for name, value in params.items() if value is not None}
    if not given:
        return spec
    nodes = [node.model_dump(mode="json") for node in spec.nodes]
    by_name = {node["name"]: node for node in nodes}
    for node in nodes:
        if node["kind"] != "ensemble":
            continue
        node["params"].update(given)
        branches = [i for s in node["inputs"] for i in by_name[s]["inputs"]
                    if by_name[s]["kind"] == "search"]
        node["inputs"] += [b for b in dict.fromkeys(branches) if b not in node["inputs"]]
    flags = ", ".join(f"{name} {value}" for name, value in given.items())
    return validate_graph({**spec.model_dump(mode="json"), "nodes": nodes},
                          f"{spec.name} with {flags}")


def _compact_nodes(taken: set[str], inputs: dict[str, list[str]]) -> list[dict]:
    """The preset's distill, compress and export nodes, named apart from `taken`, each
    reading the one before."""
    preset = load_graph(COMPACT_PRESET)
    added, previous = [], None
    for kind in COMPACT_KINDS:
        node = preset.by_kind(kind)[0].model_dump(mode="json")
        node["name"] = _fresh(node["name"], taken)
        node["inputs"] = inputs.get(kind, [previous])
        added.append(node)
        previous = node["name"]
    return added


def _leave_share(nodes: list[dict], share: float) -> None:
    """Scale the nodes' budget shares down so that they end by 1 - `share` of the budget."""
    total = sum(node["params"].get("budget_share") or 0.0 for node in nodes)
    room = 1.0 - share
    if total <= room:
        return
    for node in nodes:
        if node["params"].get("budget_share"):
            node["params"]["budget_share"] = round(node["params"]["budget_share"] * room / total, 4)


def _fresh(name: str, taken: set[str]) -> str:
    fresh, count = name, 1
    while fresh in taken:
        count += 1
        fresh = f"{name}{count}"
    taken.add(fresh)
    return fresh
