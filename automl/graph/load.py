"""Load a pipeline graph from YAML and validate it completely before anything trains.

Every problem found is reported at once, each naming the node and what to change.
"""

from __future__ import annotations

import graphlib
import typing
from pathlib import Path

import yaml
from pydantic import ValidationError

from automl.bounds import allowed, problem
from automl.config import DENSE_BRANCH_PARAMS
from automl.errors import GraphError, did_you_mean, listing
from automl.graph.spec import INPUTS, NODE_TYPES, GraphSpec, Slot
from automl.resources import resource_dir

BRANCHES = typing.get_args(NODE_TYPES["preprocess"].model_fields["params"].annotation
                           .model_fields["branch"].annotation)


def preset_names() -> list[str]:
    return sorted(p.stem for p in resource_dir("pipelines").glob("*.yaml"))


def resolve_pipeline(pipeline: str | Path) -> Path:
    """A file path as given, or the shipped preset of that name."""
    path = Path(pipeline)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise GraphError(f"pipeline file not found: {path}")
        return path
    preset = resource_dir("pipelines") / f"{pipeline}.yaml"
    if not preset.is_file():
        names = preset_names()
        raise GraphError(
            f"no pipeline preset {str(pipeline)!r}{did_you_mean(str(pipeline), names)}; "
            f"presets are {listing(names)}, or give the path of a .yaml file"
        )
    return preset


def load_graph(pipeline: str | Path) -> GraphSpec:
    path = resolve_pipeline(pipeline)
    return parse_graph(path.read_text(), str(path))


def parse_graph(text: str, origin: str = "<graph>") -> GraphSpec:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise GraphError(f"{origin}{where}: not valid YAML ({problem})") from None
    return validate_graph(raw, origin)


def validate_graph(raw, origin: str = "<graph>") -> GraphSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("nodes"), list) or not raw["nodes"]:
        raise GraphError(f"{origin}: a pipeline is a mapping with a non-empty 'nodes' list")
    problems = [f"unknown top-level key {k!r} (allowed: {', '.join(GraphSpec.model_fields)})"
                for k in raw if k not in GraphSpec.model_fields]
    problems += _top_level_problems(raw)
    nodes = []
    for index, raw_node in enumerate(raw["nodes"]):
        node, node_problems = _validate_node(raw_node, index)
        problems += node_problems
        if node is not None:
            nodes.append(node)
    problems += _check_edges([_Shape.of(n) for n in raw["nodes"] if isinstance(n, dict)])
    if problems:
        raise GraphError(_summary(origin, problems))
    spec = GraphSpec(name=raw.get("name", "pipeline"), summary=raw.get("summary", ""),
                     description=raw.get("description", ""), nodes=nodes)
    execution_order(spec)  # raises on a cycle; edges are known to be sound here
    _check_families(spec)
    return spec


def _top_level_problems(raw: dict) -> list[str]:
    """The graph's own fields (name, description, how many nodes) in our words."""
    top = {k: v for k, v in raw.items() if k in GraphSpec.model_fields}
    try:
        GraphSpec.model_validate({**top, "nodes": [{"name": "n", "kind": "ingest"}] * len(raw["nodes"])})
    except ValidationError as err:
        return [problem(f"top-level {e['loc'][0]!r}", e.get("input"), e,
                        GraphSpec.model_fields[str(e["loc"][0])])
                for e in err.errors() if len(e["loc"]) == 1]
    return []


def _summary(origin: str, problems: list[str]) -> str:
    if len(problems) == 1:  # one problem, one line
        return f"{origin}: {problems[0]}"
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"{origin}: {len(problems)} problem(s) in the pipeline graph:\n{lines}"


def _validate_node(raw_node, index: int):
    if not isinstance(raw_node, dict):
        return None, [f"nodes[{index}] is {type(raw_node).__name__}; each node is a mapping "
                      "with name, kind, inputs and params"]
    name = raw_node.get("name", f"nodes[{index}]")
    label = f"node {name!r}"
    kind = raw_node.get("kind")
    if kind is None:
        return None, [f"{label}: no 'kind'; choose one of {listing(NODE_TYPES)}"]
    if kind not in NODE_TYPES:
        return None, [f"{label}: unknown kind {kind!r}{did_you_mean(kind, NODE_TYPES)}; "
                      f"valid kinds are {listing(NODE_TYPES)}"]
    try:
        return NODE_TYPES[kind].model_validate(raw_node), []
    except ValidationError as err:
        return None, [f"{label}: {_explain(e, NODE_TYPES[kind])}" for e in err.errors()]


def _explain(error: dict, node_type) -> str:
    """One pydantic error in our words: which field, what it got, what is allowed, the fix."""
    loc = [str(part) for part in error["loc"]]
    in_params = loc[:1] == ["params"] and len(loc) > 1
    fields = node_type.model_fields["params"].annotation.model_fields if in_params \
        else node_type.model_fields
    field, *index = loc[1:] if in_params else loc
    what = "param" if in_params else "field"
    if error["type"] == "extra_forbidden" and in_params and node_type is NODE_TYPES["preprocess"] \
            and field in DENSE_BRANCH_PARAMS:
        return (f"param {field!r} went with the dense branch (linear and mlp now encode the "
                f"trees branch themselves); remove it")
    if error["type"] == "extra_forbidden":
        return (f"unknown {what} {field!r}{did_you_mean(field, fields)}; "
                f"allowed: {', '.join(fields)}")
    if error["type"] == "missing":
        return f"{what} {field!r} is required; allowed: {allowed(fields[field])}"
    path = field + "".join(f"[{i}]" for i in index)  # an item of a list: students[1]
    return problem(f"{what} {path!r}", error.get("input"), error, fields.get(field))


class _Shape:
    """Name, kind, inputs and params of a raw node: enough to check edges even when its
    params are bad."""

    def __init__(self, name, kind, inputs, params):
        self.name, self.kind, self.inputs, self.params = name, kind, inputs, params

    @classmethod
    def of(cls, raw: dict) -> "_Shape":
        inputs = raw.get("inputs") or []
        params = raw.get("params") if isinstance(raw.get("params"), dict) else {}
        return cls(raw.get("name"), raw.get("kind"), inputs if isinstance(inputs, list) else [],
                   params)

    @property
    def branch(self) -> str | None:
        return self.params.get("branch") if self.kind == "preprocess" else None

    @property
    def reported(self) -> bool:
        """Whether its kind or branch is bad, a problem reported on its own: the edges to it
        are not checked, so one slip is one problem, not three."""
        if self.kind not in NODE_TYPES:
            return True
        return self.kind == "preprocess" and self.branch not in BRANCHES


def _check_edges(nodes: list[_Shape]) -> list[str]:
    problems, by_name = [], {}
    for node in nodes:
        if node.name in by_name:
            problems.append(f"two nodes are named {node.name!r}; names must be unique")
        by_name[node.name] = node
    ingests = [n.name for n in nodes if n.kind == "ingest"]
    if len(ingests) != 1:
        problems.append(f"a pipeline has exactly one 'ingest' node; found {len(ingests)}")
    for node in nodes:
        if node.kind in NODE_TYPES:
            problems += _check_inputs(node, by_name)
    return problems


def _check_inputs(node: _Shape, by_name: dict) -> list[str]:
    """Every input a node of this graph; each one filling a slot of the node's kind
    (INPUTS); each slot filled as often as it takes."""
    problems, label, slots = [], f"node {node.name!r}", INPUTS[node.kind]
    filled: dict[str, list[str]] = {slot.name: [] for slot in slots}
    unknown = [source for source in node.inputs if source not in by_name]
    for source in node.inputs:
        if source in unknown:
            problems.append(f"{label}: input {source!r} is not a node of this graph"
                            f"{did_you_mean(source, by_name)}")
            continue
        upstream = by_name[source]
        if upstream.reported:
            continue
        slot = next((s for s in slots if s.accepts(upstream.kind, upstream.branch)), None)
        if slot is None:
            problems.append(f"{label}: a {node.kind} node cannot read {source!r} (a "
                            f"{_described(upstream)} node); it reads {_wanted(slots)}")
        else:
            filled[slot.name].append(source)
    # a misspelt input (or one of a bad kind) would be counted missing too: one problem is enough
    if not unknown and not any(by_name[source].reported for source in node.inputs):
        for slot in slots:
            problems += _count_problems(node, slot, filled[slot.name], by_name)
    return problems


def _is_set(params, name: str, value) -> bool:
    """Whether `value` of param `name` asks for the slot: true, or a size or a number.
    An invalid one ('maybe', 2 for a flag) is its param's own problem, reported once, there."""
    try:
        checked = params.model_validate({name: value})
    except ValueError:
        return False
    return getattr(checked, name) not in (None, False)


def _count_problems(node: _Shape, slot: Slot, names: list[str], by_name: dict) -> list[str]:
    label = f"node {node.name!r} ({node.kind})"
    params = NODE_TYPES[node.kind].model_fields["params"].annotation
    required = [p for p in slot.required_by if _is_set(params, p, node.params.get(p))]
    low = max(slot.low, 1) if required else slot.low
    if len(names) < low:
        said = [f"{p} is {'true' if node.params[p] is True else 'set'}" for p in required]
        why = f" (because {' and '.join(said)})" if required else ""
        offer = [n.name for n in by_name.values() if n.kind in NODE_TYPES and n.name != node.name
                 and slot.accepts(n.kind, n.branch)]
        hint = f"; add {listing(offer)} to its inputs" if offer else \
            f"; add a {_slot_kinds(slot)} node to the graph and to its inputs"
        wanted = "an input" if low == 1 else f"at least {low} inputs"
        return [f"{label} needs {wanted} of kind {_slot_kinds(slot)} ({slot.name}){why}, "
                f"has {len(names)}{hint}"]
    if slot.high is not None and len(names) > slot.high:
        return [f"{label} takes at most {slot.high} {_slot_kinds(slot)} input(s) ({slot.name}), "
                f"got {len(names)}: {listing(names)}; keep one"]
    return []


def _slot_kinds(slot: Slot) -> str:
    kinds = " or ".join(slot.kinds)
    return f"{kinds} (branch: {slot.branch})" if slot.branch else kinds


def _wanted(slots: tuple[Slot, ...]) -> str:
    return "; ".join(f"{_slot_kinds(s)} ({s.name})" for s in slots) or "no inputs"


def _described(node: _Shape) -> str:
    return f"{node.kind} (branch: {node.branch})" if node.branch else node.kind


def execution_order(spec: GraphSpec) -> list[str]:
    """Node names in an order where every node follows its inputs; a cycle is named."""
    sorter = graphlib.TopologicalSorter({n.name: n.inputs for n in spec.nodes})
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as err:
        loop = " -> ".join(reversed(err.args[1]))
        raise GraphError(f"the graph has a cycle: {loop}; remove one of these inputs") from None


def _check_families(spec: GraphSpec) -> None:
    from automl.models.registry import family_class, family_keys

    problems = []
    for node in spec.by_kind("search"):
        branches = {spec.node(i).params.fitted_branch for i in node.inputs}
        for key in node.params.families:
            if key not in family_keys():
                problems.append(f"node {node.name!r}: unknown family {key!r}"
                                f"{did_you_mean(key, family_keys())}; families are {listing(family_keys())}")
            elif family_class(key).branch not in branches:
                branch = family_class(key).branch
                problems.append(
                    f"node {node.name!r}: family {key!r} reads the {branch!r} branch, but no input "
                    f"of {node.name!r} is a preprocess node with branch: {branch}; add one to its inputs"
                )
    if problems:
        raise GraphError(_summary(spec.name, problems))


def dump_graph(spec: GraphSpec) -> str:
    return yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False)
