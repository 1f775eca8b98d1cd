"""Every stage's params: the typed options a pipeline graph's nodes carry.

The stages read their own params from here and the graph's node models (graph/spec.py)
wrap them, so both import this module and neither imports the other. Budget, seed and
resources are their own fields, never keys hidden in a hyperparameter dict.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automl.bounds import NO_UPPER_BOUND, Distinct
from automl.units import (MAX_LATENCY_MS, MAX_SIZE, MIN_LATENCY_MS, MIN_SIZE, latency_ms,
                          size_bytes)

# Bounds. Every number has a lower and an upper bound (tests/unit/core/test_bounds.py holds new
# params to it); where the upper one is a judgement, the comment beside it says why.
# NaN and infinity are refused everywhere: no param means anything by them.


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
    # every trial predicts the whole validation part (each boosting round, for early
    # stopping): on a 20,000-row sample xgboost's default fit takes 2.8 s with 5,000
    # validation rows, 7.8 s with 50,000. 20,000 rows measure AUC to about +-0.003
    # (AutoGluon holds out 1% of a 1M-row table: 10,000)
    max_valid_rows: int | None = Field(
        20_000, ge=100, le=100_000_000,
        description="holdout: at most this many validation rows, the rest train (null: the "
                    "valid_fraction share, however many rows)")
    test_fraction: float = Field(
        0.0, ge=0, lt=0.9, description="share of rows held out for the final test score (0: none)"
    )
    # a billion rows is past what one machine's memory holds as a frame; above it is a typo
    max_rows: int | None = Field(None, ge=20, le=1_000_000_000,
                                 description="sample this many rows (seed 0) when larger")


# The branch a preprocess node fits, by the name its graph gives. There is one: the trees
# branch (categories as ordinal codes); linear and mlp encode it for themselves with the
# one dense encoding (automl/models/dense_code.py) that the distillation's students use.
# "dense" named a second branch (impute, one-hot, scale) that only linear still read; a
# graph written with it still validates and runs, its dense node fitting the trees branch.
FITTED_BRANCH = {"trees": "trees", "dense": "trees"}
# params of that dense branch: a graph that sets one is told to remove it
DENSE_BRANCH_PARAMS = ("max_onehot_levels", "rare_min_fraction", "high_cardinality", "clip_numbers")


class PreprocessParams(Strict):
    branch: Literal["trees", "dense"] = Field(
        description="trees: categories as ordinal codes, numbers as they are (dense: an older "
                    "name of trees, from when linear models read a branch of their own)")

    @property
    def fitted_branch(self) -> str:
        return FITTED_BRANCH[self.branch]


class SearchParams(Strict):
    # the registry holds about ten (plugins add a few); fifty is room, not a plan
    families: Annotated[list[str], Distinct] = Field(min_length=1, max_length=50)
    searcher: Literal["tpe", "nsga2", "pso", "random"] = "tpe"
    scheduler: Literal["asha", "fifo"] = "asha"
    budget_share: float = Field(0.7, gt=0, le=1, description="share of the run's time budget")
    # every trial's validation predictions stay in the driver's memory until the ensemble
    max_trials: int | None = Field(None, ge=1, le=100_000)
    # a trial runs on one node; the largest machines have a few hundred cores. The search
    # also checks it against the nodes of the Ray it runs on (search/stage.py: prepare)
    cpus_per_trial: float = Field(1.0, gt=0, le=1024)
    # Tune's driver loop handles every running trial; a thousand at once is past what it serves
    concurrency: int | None = Field(None, ge=1, le=1000,
                                    description="trials at once (default: free CPUs)")
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
    # Caruana et al. saw no gain past a few hundred rounds; each round scores every
    # candidate on the validation rows, so 10,000 already takes minutes on a large table
    size: int = Field(25, ge=1, le=10_000,
                      description="rounds of greedy selection (with replacement)")
    bags: int = Field(0, ge=0, le=200, description="greedy selection on this many bootstrap "
                                                  "samples of the validation rows, weights "
                                                  "averaged, where the validation part has at "
                                                  "most 5,000 rows; 0 or 1: plain greedy")
    # no search keeps more than 1000 models (search keep_models)
    max_candidates: int = Field(
        20, ge=1, le=1000,
        description="best trials with a kept model to choose from (each family's best first)")
    stacking_folds: int = Field(5, ge=2, le=20, description="cross-validation folds of the meta-model")
    refit: bool = Field(False, description="refit the members on train + validation before saving")
    refit_full: bool = Field(
        False, description="kfold: refit each bagged member once on all training rows, for "
                           "as long as its folds trained (their median), in place of its "
                           "fold models; its folds' out-of-fold predictions chose the weights")
    # the bounds are automl/units.py's: a size as '50MB', a latency as '10ms' also
    max_size_bytes: int | None = Field(
        None, ge=MIN_SIZE, le=MAX_SIZE,
        description="greedy selection adds a member only while the members' pickled size "
                    "stays within this many bytes (null: no cap)")
    max_latency_ms: float | None = Field(
        None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS,
        description="and while their one-row predict latencies, summed, stay within this "
                    "many milliseconds (null: no cap)")
    calibrate: Literal["auto", "off"] = Field(
        "auto", description="auto: where the metric is log loss, at least 500 rows are "
                            "scored and no stacker combines the members, one temperature "
                            "fitted on those rows sharpens or softens the class "
                            "probabilities (the predicted classes stay as they are)")

    @field_validator("max_size_bytes", mode="before")
    @classmethod
    def _size_with_unit(cls, value):
        return size_bytes(value, "max_size_bytes") if isinstance(value, str) else value

    @field_validator("max_latency_ms", mode="before")
    @classmethod
    def _latency_with_unit(cls, value):
        return latency_ms(value, "max_latency_ms") if isinstance(value, str) else value


class DistillParams(Strict):
    # small xgboost and LightGBM models, shallow trees (rules), a linear model and small MLPs
    # and a blend: the best tree student and MLP student averaged (distill/blend.py); and
    # memo: the best tree students with the teacher's output on recurring rows (distill/memo.py)
    students: Annotated[list[Literal["gbdt", "lgbm", "rules", "linear", "mlp", "blend", "memo"]],
                        Distinct] = Field(["gbdt", "lgbm", "rules", "linear", "mlp", "blend", "memo"],
                                          min_length=1, max_length=7)
    augment: Literal["munge", "gibbs", "none"] = "munge"
    multiplier: float = Field(2.0, ge=0, le=20)
    budget_share: float = Field(0.2, gt=0, le=1)
    search: bool = Field(True, description="also tune a gbdt and an MLP student on Ray Tune "
                                           "(families student_gbdt, student_mlp)")
    search_share: float = Field(0.5, gt=0, le=1, description="share of the stage's budget "
                                                             "the student search may use")
    search_trials: int | None = Field(None, ge=1, le=10_000, description="most trials in the student "
                                                              "search (default: as time allows; "
                                                              "8 without a time budget)")
    max_lesson_rows: int = Field(100_000, ge=1_000, le=10_000_000, description="most rows the "
                                 "students learn from, real and synthetic: a large table gets "
                                 "fewer synthetic rows (none past this many real ones)")
    hard_labels: float = Field(0.0, ge=0, le=1, description="share of the true label mixed "
                               "into the teacher's label of each training row the "
                               "students learn from")
    # the gbdt students the ladder and the search fit are cut to this size, so that their
    # time goes to students the compress stage's max_size_kb lets through
    max_student_kb: float | None = Field(None, gt=0, le=2 * 1024 * 1024,
                                         description="aim the gbdt students at this ONNX size: "
                                                     "their rounds are cut to fit (null: no aim)")
    max_student_share: float | None = Field(None, gt=0, le=1, description="aim them also at "
                                            "this share of the teacher's size (its pickled "
                                            "predictor), where that is smaller")

    @model_validator(mode="after")
    def _derived_students_have_their_bases(self) -> DistillParams:
        kinds = set(self.students)
        if "blend" in kinds and not ("mlp" in kinds and kinds & {"gbdt", "lgbm"}):
            raise ValueError("the blend student averages an mlp student with a gbdt or lgbm "
                             "one: list mlp and gbdt or lgbm in students too, or drop blend")
        if "memo" in kinds and not kinds & {"gbdt", "lgbm"}:
            raise ValueError("a memo student is a gbdt, lgbm or blend student with a memo: "
                             "list gbdt or lgbm in students too, or drop memo")
        return self


class CompressParams(Strict):
    budget_share: float = Field(0.05, gt=0, le=1, description="share of the run's time budget "
                                                               "for fine-tuning the pruned MLP")
    # steps tried on the best MLP student, each kept only if its score holds (distill/shrink.py)
    prune: bool = True
    lowrank: bool = True
    int8: bool = True
    max_score_drop: float | None = Field(
        None, ge=0, description="most the validation score may fall below the teacher's, "
                                "in the metric's units",
        json_schema_extra={NO_UPPER_BOUND: "in the metric's own units (an RMSE in dollars can "
                                           "be in the thousands); any finite drop is a choice"})
    # a share of the teacher's metric value: past 1 any student passes, which is no constraint
    max_relative_drop: float | None = Field(0.005, ge=0, le=1, description="most the validation "
                                            "score may fall below the teacher's, as a share of "
                                            "the teacher's metric value (0.005: 0.5%)")
    # the share of the teacher's gain over the distillation's reference (xgboost's defaults
    # on the same rows' true labels) a student keeps on the judged rows; past 1 a student
    # must beat the teacher. No gain (the teacher no better than the reference): no constraint
    min_gain_kept: float | None = Field(None, ge=0, le=1, description="least share of the "
                                        "teacher's validation gain over xgboost's defaults "
                                        "a student keeps (0.97: 97%)")
    # one ONNX protobuf holds at most 2 GiB; the export writes no external data
    max_size_kb: float | None = Field(None, gt=0, le=2 * 1024 * 1024)
    max_size_share: float | None = Field(None, gt=0, le=1, description="most a student's size "
                                         "may be, as a share of the teacher's (its pickled "
                                         "predictor, as model/predictor.joblib holds it)")
    # a minute for one row constrains nothing a service would call
    max_latency_ms: float | None = Field(None, gt=0, le=60_000)


class ExportParams(Strict):
    format: Literal["onnx"] = "onnx"
    # probabilities differ by at most 1, and regression is compared relative to its scale:
    # a tolerance of 1 checks nothing
    parity_tolerance: float = Field(1e-4, gt=0, lt=1)
    rules: bool = True


class ReportParams(Strict):
    permutation_importance: bool = True
