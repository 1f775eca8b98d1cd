"""Every stage's params: the typed options a pipeline graph's nodes carry.

The stages read their own params from here and the graph's node models (graph/spec.py)
wrap them, so both import this module and neither imports the other. Budget, seed and
resources are their own fields, never keys hidden in a hyperparameter dict.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- params, one model per kind ---------------------------------------------------------


class IngestParams(Strict):
    validation: Literal["auto", "holdout", "kfold"] = Field(
        "auto", description="how models are judged: a validation part (holdout), k-fold "
                            "cross-validation with out-of-fold predictions (kfold), or by the "
                            "table's size (auto: kfold up to kfold_max_rows training rows)")
    folds: int = Field(5, ge=2, le=10, description="folds of kfold validation")
    kfold_max_rows: int = Field(20_000, ge=0, le=10_000_000,
                                description="auto: kfold up to this many rows, holdout above")
    valid_fraction: float = Field(0.2, gt=0, lt=0.9,
                                  description="share of rows for validation (holdout)")
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
    keep_models: int = Field(20, ge=1, le=1000, description="best trials whose fitted models are kept")
    sample_rows: int | None = Field(
        20_000, ge=100, le=10_000_000,
        description="on a table with a validation part and over twice this many training "
                    "rows, trials learn from a sample of this many, and the best are then "
                    "fitted on all rows (null: always all rows)")
    all_rows_share: float = Field(0.4, gt=0, lt=1, description="share of the search's budget "
                                  "for fitting the best sampled trials on all rows")


class EnsembleParams(Strict):
    budget_share: float = Field(0.15, gt=0, le=1, description="share of the run's time budget "
                                                               "(selection stops when it is spent)")
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
    hard_labels: float = Field(0.0, ge=0, le=1, description="holdout runs: share of the true "
                               "label mixed into the teacher's in-sample label of each "
                               "training row (kfold runs label them out of fold)")


class CompressParams(Strict):
    budget_share: float = Field(0.05, gt=0, le=1, description="share of the run's time budget "
                                                               "for fine-tuning the pruned MLP")
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
