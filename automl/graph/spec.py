"""The pipeline graph as typed data: named nodes, each a `kind` with its `inputs` and `params`.

The params models live in automl/config.py (the stages read them there too). Here: the
node models, and what each kind reads (`INPUTS`): a stage receives exactly the outputs
its node lists, so `automl validate` can tell before any training whether a graph gives
every stage what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import Field

from automl.bounds import Distinct
from automl.config import (CompressParams, DistillParams, EnsembleParams, ExportParams,
                           IngestParams, PreprocessParams, ReportParams, SearchParams, Strict)


# ---- nodes ----------------------------------------------------------------------------


# A graph is a handful of stages (the shipped ones have 5 to 8 nodes); 100 nodes leave
# room for many searches side by side, and a name of 64 characters is a sentence already.
MAX_NODES = 100


class _Node(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)
    inputs: Annotated[list[str], Distinct] = Field([], max_length=MAX_NODES)


class IngestNode(_Node):
    kind: Literal["ingest"]
    params: IngestParams = IngestParams()


class PreprocessNode(_Node):
    kind: Literal["preprocess"]
    params: PreprocessParams


class SearchNode(_Node):
    kind: Literal["search"]
    params: SearchParams


class EnsembleNode(_Node):
    kind: Literal["ensemble"]
    params: EnsembleParams = EnsembleParams()


class DistillNode(_Node):
    kind: Literal["distill"]
    params: DistillParams = DistillParams()


class CompressNode(_Node):
    kind: Literal["compress"]
    params: CompressParams = CompressParams()


class ExportNode(_Node):
    kind: Literal["export"]
    params: ExportParams = ExportParams()


class ReportNode(_Node):
    kind: Literal["report"]
    params: ReportParams = ReportParams()


NODE_TYPES = {
    cls.model_fields["kind"].annotation.__args__[0]: cls
    for cls in (IngestNode, PreprocessNode, SearchNode, EnsembleNode, DistillNode,
                CompressNode, ExportNode, ReportNode)
}

Node = Annotated[
    Union[IngestNode, PreprocessNode, SearchNode, EnsembleNode, DistillNode,
          CompressNode, ExportNode, ReportNode],
    Field(discriminator="kind"),
]

@dataclass(frozen=True)
class Slot:
    """One kind of input a node kind reads: which node kinds fill it, how many of them,
    and, for a preprocess input, which branch it must be (None: any)."""

    name: str  # what the stage calls it, in messages
    kinds: tuple[str, ...]
    low: int = 1
    high: int | None = 1  # None: no upper bound
    branch: str | None = None
    # params that, when one is set (true, or a value), make `low` at least 1
    required_by: tuple[str, ...] = ()

    def accepts(self, kind: str, branch: str | None) -> bool:
        return kind in self.kinds and (self.branch is None or branch == self.branch)


# What each kind reads. The data flows one way (DESIGN.md); every input must fill a slot.
INPUTS: dict[str, tuple[Slot, ...]] = {
    "ingest": (),
    "preprocess": (Slot("data", ("ingest",)),),
    "search": (Slot("branches", ("preprocess",), 1, None),),
    # the preprocess inputs: the branch data a refit trains on, and a cost cap's one row
    "ensemble": (Slot("searches", ("search",), 1, None),
                 Slot("branches", ("preprocess",), 0, None,
                      required_by=("refit", "refit_full", "max_size_bytes", "max_latency_ms"))),
    "distill": (Slot("teacher", ("ensemble", "search")), Slot("data", ("ingest",)),
                Slot("trees", ("preprocess",), branch="trees")),
    "compress": (Slot("students", ("distill",)),),
    "export": (Slot("compressed", ("compress",)),),
    "report": (Slot("nodes", ("ingest", "preprocess", "search", "ensemble", "distill", "compress",
                              "export"), 1, None),),
}

# Kinds whose output does not depend on the time budget (nor on the metric): their node
# keys leave those settings out, so a re-run with a longer budget reuses them.
UNBUDGETED = ("ingest", "preprocess")


class GraphSpec(Strict):
    name: str = Field("pipeline", max_length=100)
    summary: str = Field("", max_length=200)  # one line, for `automl fit --help`
    description: str = Field("", max_length=10_000)
    nodes: list[Node] = Field(min_length=1, max_length=MAX_NODES)

    def node(self, name: str):
        return next(n for n in self.nodes if n.name == name)

    def by_kind(self, kind: str) -> list:
        return [n for n in self.nodes if n.kind == kind]
