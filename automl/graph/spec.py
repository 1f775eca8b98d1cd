"""The pipeline graph as typed data: named nodes, each a `kind` with its `inputs` and `params`.

Every stage kind of DESIGN.md has its params model here, also those a later issue
implements (the executor says which kinds it can run). Budget, seed and resources are
their own fields, never keys hidden in a hyperparameter dict.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- params, one model per kind ---------------------------------------------------------


class IngestParams(Strict):
    valid_fraction: float = Field(0.2, gt=0, lt=0.9, description="share of rows for validation")
    test_fraction: float = Field(
        0.0, ge=0, lt=0.9, description="share of rows held out for the final test score (0: none)"
    )
    max_rows: int | None = Field(None, ge=20, description="sample this many rows (seed 0) when larger")


class PreprocessParams(Strict):
    branch: Literal["trees", "dense"]
    max_onehot_levels: int = Field(50, ge=2, description="more levels: frequency/target encoding")
    rare_min_fraction: float = Field(0.005, ge=0, lt=0.5, description="rarer categories are grouped")
    high_cardinality: Literal["frequency", "target"] = "frequency"


class SearchParams(Strict):
    families: list[str] = Field(min_length=1)
    searcher: Literal["tpe", "nsga2", "pso", "random"] = "tpe"
    scheduler: Literal["asha", "fifo"] = "asha"
    budget_share: float = Field(0.7, gt=0, le=1, description="share of the run's time budget")
    max_trials: int | None = Field(None, ge=1)
    cpus_per_trial: float = Field(1.0, gt=0)
    concurrency: int | None = Field(None, ge=1, description="trials at once (default: free CPUs)")
    keep_models: int = Field(20, ge=1, description="best trials whose fitted models are kept")


class EnsembleParams(Strict):
    method: Literal["greedy", "stacking"] = Field(
        "greedy", description="stacking: a linear meta-model, kept only where its "
                              "cross-validated score beats the greedy ensemble's")
    size: int = Field(25, ge=1, description="rounds of greedy selection (with replacement)")
    bags: int = Field(0, ge=0, le=200, description="greedy selection on this many bootstrap "
                                                  "samples of the validation rows, weights "
                                                  "averaged, where the validation part has at "
                                                  "most 5,000 rows; 0 or 1: plain greedy")
    max_candidates: int = Field(
        20, ge=1, description="best trials with a kept model to choose from (each family's best first)")
    stacking_folds: int = Field(5, ge=2, le=20, description="cross-validation folds of the meta-model")
    refit: bool = Field(False, description="refit the members on train + validation before saving")


class DistillParams(Strict):
    # small xgboost models, shallow trees (rules), a linear model and small MLPs
    students: list[Literal["gbdt", "rules", "linear", "mlp"]] = Field(
        ["gbdt", "rules", "linear", "mlp"], min_length=1)
    augment: Literal["munge", "gibbs", "none"] = "munge"
    multiplier: float = Field(2.0, ge=0, le=20)
    budget_share: float = Field(0.2, gt=0, le=1)
    search: bool = Field(True, description="also tune a gbdt and an MLP student on Ray Tune "
                                           "(families student_gbdt, student_mlp)")
    search_share: float = Field(0.5, gt=0, le=1, description="share of the stage's budget "
                                                             "the student search may use")
    search_trials: int | None = Field(None, ge=1, description="most trials in the student "
                                                              "search (default: as time allows; "
                                                              "8 without a time budget)")


class CompressParams(Strict):
    # steps tried on the best MLP student, each kept only if its score holds (compress/shrink.py)
    prune: bool = True
    lowrank: bool = True
    int8: bool = True
    max_score_drop: float | None = Field(None, ge=0, description="most the validation score "
                                         "may fall below the teacher's, in the metric's units")
    max_relative_drop: float | None = Field(0.005, ge=0, description="most the validation "
                                            "score may fall below the teacher's, as a share of "
                                            "the teacher's metric value (0.005: 0.5%)")
    max_size_kb: float | None = Field(None, gt=0)
    max_latency_ms: float | None = Field(None, gt=0)


class ExportParams(Strict):
    format: Literal["onnx"] = "onnx"
    parity_tolerance: float = Field(1e-4, gt=0)
    rules: bool = True


class ReportParams(Strict):
    permutation_importance: bool = True


# ---- nodes ----------------------------------------------------------------------------


class _Node(Strict):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$")
    inputs: list[str] = []


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

# Which kinds a node may read: the data flows one way (DESIGN.md).
ALLOWED_INPUTS: dict[str, tuple[str, ...]] = {
    "ingest": (),
    "preprocess": ("ingest",),
    "search": ("preprocess",),
    "ensemble": ("search",),
    "distill": ("ensemble", "search"),
    "compress": ("distill",),
    "export": ("compress",),
    "report": ("ingest", "search", "ensemble", "distill", "compress", "export"),
}
# How many inputs each kind takes: (min, max); None is no upper bound.
INPUT_COUNT: dict[str, tuple[int, int | None]] = {
    "ingest": (0, 0), "preprocess": (1, 1), "search": (1, None), "ensemble": (1, None),
    "distill": (1, 1), "compress": (1, 1), "export": (1, 1), "report": (1, None),
}


class GraphSpec(Strict):
    name: str = "pipeline"
    description: str = ""
    nodes: list[Node] = Field(min_length=1)

    def node(self, name: str):
        return next(n for n in self.nodes if n.name == name)

    def by_kind(self, kind: str) -> list:
        return [n for n in self.nodes if n.kind == kind]
