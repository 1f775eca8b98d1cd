"""Python facade: `AutoML`, `AutoMLClassifier` and `AutoMLRegressor` follow the sklearn
estimator contract over `fit_run`.

`AutoML` takes any task (inferred from the target, or `task=`), a table with its target
column (`fit(frame, target="y")`, also a file path) or sklearn's `fit(X, y)`. The two
typed estimators take `fit(X, y)` as sklearn's tools hand it (`cross_val_score`,
`GridSearchCV`, `Pipeline`): they check X and y as sklearn estimators do, carry sklearn's
classifier / regressor tags, and fix the task.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d, validate_data

from automl.data.ingest import read_table, with_text_column_names
from automl.data.weights import check_class_weight
from automl.errors import AutoMLError, ConfigError
from automl.graph.compose import (with_compact, with_ensemble_options, with_holdout,
                                  with_max_trials)
from automl.graph.context import Settings
from automl.graph.load import load_graph
from automl.graph.run import fit_run
from automl.runfolder import read_json
from automl.options import RunOptions, check_run_options
from automl.metrics import BINARY, MULTICLASS, REGRESSION, default_metric, get_metric
from automl.serving.interface import ServedModel
from automl.serving.load import load_model

VERBOSITY = {0: "quiet", 1: "progress lines, as the CLI prints them"}


class NotFittedError(AutoMLError, SklearnNotFittedError):
    """predict, score or save before fit: sklearn's NotFittedError, in automl's family."""


class _AutoMLBase(BaseEstimator):
    """What the three estimators share; each class adds how it fixes the task.

    `score(X, y)` is the metric the run optimised (`metric`, else roc_auc, log_loss or
    rmse by task), oriented so that higher is better: losses come negated, as sklearn's
    `neg_*` scorers give them. Not accuracy or R², as sklearn's mixins would: a run that
    optimised log loss is judged by log loss. `verbosity`: 0 (quiet), 1 (progress lines).
    `time_budget`: '90s', '5m', '1h' or seconds, from 5 s to 7 days; None (the default)
    is 5 minutes, 'none' no limit (the search then ends by its max_trials). `compact`:
    also distil the final model into compact/compact.onnx (`automl fit --compact`).
    `refit_full`: refit each bagged member of a kfold run once on all training rows
    (None: as the pipeline says). `max_model_size` ('50MB') and `max_latency` ('10ms'):
    the ensemble takes members only while their size and one-row latency stay within
    these (`automl fit --max-model-size`, `--max-latency`).
    """

    def __init__(self, pipeline: str | Path = "default", time_budget: str | float | None = None,
                 metric: str | None = None, seed: int = 0, out: str | Path = "runs",
                 address: str | None = None, holdout: float | None = None, verbosity: int = 0,
                 report: bool = True, encoding: str | None = None, max_trials: int | None = None,
                 compact: bool = False, refit_full: bool | None = None,
                 max_model_size: str | int | None = None, max_latency: str | float | None = None,
                 class_weight: str | None = None):
        self.pipeline = pipeline
        self.time_budget = time_budget
        self.metric = metric
        self.seed = seed
        self.out = out
        self.address = address
        self.holdout = holdout
        self.verbosity = verbosity
        self.report = report
        self.encoding = encoding
        self.max_trials = max_trials
        self.compact = compact
        self.refit_full = refit_full
        self.max_model_size = max_model_size
        self.max_latency = max_latency
        self.class_weight = class_weight

    def fit(self, X, y=None, *, target: str | None = None, sample_weight=None):
        """Fit on `X` and `y`, or on a table (a DataFrame or a file path) and its `target`
        column. `sample_weight`: each row's weight (an array as long as X), or the name of
        the table's column that holds them: every family fits with them and every metric
        scores with them."""
        started = time.time()  # the time budget holds for the whole call
        return self.fit_checked(self._checked_options(), X, y, target=target, started=started,
                                sample_weight=sample_weight)

    def fit_checked(self, options: RunOptions, X=None, y=None, *, target: str | None = None,
                    resume: str | Path | None = None, started: float | None = None,
                    sample_weight=None):
        """`fit`, given this estimator's run options already checked (`check_run_options`
        on its arguments: what `automl fit` does before it joins a cluster). `resume`: the
        folder of an interrupted run to finish; X and target may then be left out, and a
        pipeline of None is the run's own graph. The time budget counts from `started`."""
        source, target = self._source_and_target(X, y, target, resume)
        source, weight = _with_weights(source, sample_weight)
        settings = None if target is None else Settings(
            target=target, task=self._task(source, target), metric=self.metric,
            seed=options.seed, time_budget=options.time_budget, address=options.address,
            encoding=options.encoding, weight=weight, class_weight=self.class_weight)
        result = fit_run(source, settings, self._graph(options, resume), out=options.out,
                         resume=resume, verbose=self.verbosity >= 1, report=self.report,
                         started=started)
        self.run_dir_ = result.run_dir
        self.metrics_ = result.metrics
        self.metric_ = self.metric or default_metric(result.metrics["task"])
        self._set_predictor(result.predictor)
        return self

    def predict(self, X) -> np.ndarray:
        """Class labels or values, one per row of X (a DataFrame, an array, a file path, or
        one row as a dict of column -> value)."""
        return self._fitted().predict(self._features(X, reset=False))

    def score(self, X, y, sample_weight=None) -> float:
        """The run's metric (`metric_`) on X and y, higher is better (losses negated),
        rows weighted by `sample_weight` where given."""
        predictor = self._fitted()
        raw = predictor.predict_raw(self._features(X, reset=False))
        schema = predictor.schema
        y_codes = schema.encode_target(pd.Series(column_or_1d(y, warn=True)))
        weight = None if sample_weight is None else _checked_weights(sample_weight, len(y_codes))
        metric = get_metric(self.metric_, schema.task)
        if metric.decides:  # labels as the model gives them (its decision threshold, if any)
            return metric.score(y_codes, schema.label_codes(raw), weight)
        return metric.score(y_codes, raw, weight)

    def explain(self, X, target_class=None) -> pd.DataFrame:
        """Per-row contributions of each column of X (a DataFrame, an array, a file path,
        or one row as a dict) to the model's output: one row per row of X, with `base` and
        one column per feature column, base + their sum = the output explained. That is
        the value (regression), or the probability of `explained_class`: `target_class`
        where given, else the positive class (binary) or the predicted class (multiclass).
        The run's final model is explained from model/predictor.joblib (its Python form;
        load only run folders you trust); methods: automl/serving/explain/."""
        self._fitted()
        if getattr(self, "_explainer", None) is None:
            from automl.serving.explain import explainer_for

            self._explainer = explainer_for(self.predictor_, getattr(self, "run_dir_", None))
        rows = self._features(X, reset=False)
        return self._explainer.explain(rows).frame(target_class)

    def write_report(self, importance: bool = True) -> Path:
        """Write report.html in the run folder (again) and return its path."""
        from automl.report.write import report_run_dir

        self._fitted()
        return report_run_dir(self.run_dir_, importance=importance)

    def save(self, path: str | Path) -> Path:
        """Copy the run folder (model, schema, metrics, leaderboard) to `path`."""
        self._fitted()
        path = Path(path)
        if path.resolve() != Path(self.run_dir_).resolve():
            shutil.copytree(self.run_dir_, path, dirs_exist_ok=True)
        return path

    @classmethod
    def load(cls, run_dir: str | Path, model: str = "ensemble"):
        """The fitted model of a run folder: `model="ensemble"` (the default) is the run's
        final model, model/ensemble.onnx in onnxruntime; `model="compact"` its
        compact/compact.onnx. Neither unpickles anything, and one row (a dict or a one-row
        DataFrame) is predicted without pandas on the way. `model="python"` unpickles
        model/predictor.joblib (load only run folders you trust), as does "ensemble" for
        a run folder written before ensemble.onnx existed, with a warning."""
        fitted = cls()
        fitted.run_dir_ = Path(run_dir)
        fitted._set_predictor(load_model(run_dir, model))
        fitted._check_task(fitted.predictor_.schema.task, f"the run folder {run_dir}")
        fitted.metric_ = _run_metric(Path(run_dir), fitted.predictor_.schema.task)
        return fitted

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "predictor_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing value is a value to the models
        tags.input_tags.string = True  # text columns are categories
        tags.input_tags.categorical = True
        tags.non_deterministic = True  # a time budget: what finishes in time varies
        tags.target_tags.required = True
        return tags

    # ---- what each estimator decides ------------------------------------------------

    def _task(self, source, target: str) -> str | None:
        raise NotImplementedError

    def _check_task(self, task: str, where: str) -> None:
        raise NotImplementedError

    def _checked_target(self, y) -> np.ndarray:
        raise NotImplementedError

    # ---- helpers ------------------------------------------------------------------------

    def _checked_options(self) -> RunOptions:
        """The run options, once every argument is within its bounds: before anything is
        read or trained."""
        if self.verbosity not in VERBOSITY:
            allowed = ", ".join(f"{level} ({meaning})" for level, meaning in VERBOSITY.items())
            raise ConfigError(f"verbosity must be one of {allowed}; got {self.verbosity!r}")
        check_class_weight(self.class_weight, None)
        return check_run_options(time_budget=self.time_budget, seed=self.seed,
                                 holdout=self.holdout, address=self.address,
                                 max_trials=self.max_trials, out=self.out, encoding=self.encoding,
                                 refit_full=self.refit_full, max_model_size=self.max_model_size,
                                 max_latency=self.max_latency)

    def _graph(self, options: RunOptions, resume=None):
        """The pipeline graph with the holdout, --compact and max_trials applied; None (a
        resumed run's own graph) when `pipeline` is None."""
        if self.pipeline is None:
            if resume is None:
                raise ConfigError("pipeline is None, which stands for a resumed run's own graph; "
                                  "give a preset name (e.g. 'default') or a .yaml file")
            return None
        if self.compact and options.refit_full:
            raise ConfigError("refit_full and compact do not go together: the distillation "
                              "teaches and judges its students by the teacher's fold models, "
                              "which refit_full replaces; leave one of them out")
        spec = with_holdout(load_graph(self.pipeline), options.holdout)
        spec = with_ensemble_options(spec, refit_full=options.refit_full,
                                     max_size_bytes=options.max_size_bytes,
                                     max_latency_ms=options.max_latency_ms)
        return with_max_trials(with_compact(spec) if self.compact else spec, options.max_trials)

    def _source_and_target(self, X, y, target, resume=None):
        """The table to fit on (a frame, or a file path the run reads) and its target; a
        resumed run may take both from its folder."""
        if resume is not None and y is None:  # the run folder knows its table and target
            return (X if X is None or isinstance(X, pd.DataFrame) else str(X)), target
        if y is None:
            if target is None:
                raise ConfigError(f"{type(self).__name__} requires y to be passed, but the target "
                                  "y is None: give fit(X, y), or fit(frame, target='column')")
            self._forget_features()
            return (X if isinstance(X, pd.DataFrame) else str(X)), target
        if target is not None:
            raise ConfigError("give either y or target=, not both")
        frame = self._features(X, reset=True).copy()
        name = getattr(y, "name", None) or "target"
        y = self._checked_target(y)
        check_consistent_length(frame, y)
        if name in frame.columns:
            raise ConfigError(f"y is named {name!r}, which is also a column of X; rename one")
        frame[name] = np.asarray(y)
        return frame, name

    def _features(self, X, reset: bool) -> pd.DataFrame:
        """X as a DataFrame. Arrays get sklearn's checks (2-D, not empty, not complex), and
        after fit(X, y) the number and names of columns are checked against fit's."""
        if isinstance(X, (str, Path)):
            return read_table(X, encoding=self.encoding)
        if isinstance(X, Mapping):  # one row: column -> value, as the model reads it
            return X
        array = None if isinstance(X, pd.DataFrame) else check_array(X, dtype=None,
                                                                       ensure_all_finite=False)
        if reset or hasattr(self, "n_features_in_"):
            validate_data(self, X if array is None else array, reset=reset, skip_check_array=True)
        if array is None:
            return with_text_column_names(X)
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])

    def _forget_features(self) -> None:
        """A table with its target: no column count to hold predict's input to."""
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                delattr(self, name)

    def _fitted(self) -> ServedModel:
        """The predictor, or NotFittedError before fit."""
        if not hasattr(self, "predictor_"):
            name = type(self).__name__
            raise NotFittedError(f"this {name} is not fitted yet; call fit(X, y) first, or "
                                 f"{name}.load(RUN_DIR) for a finished run")
        return self.predictor_

    def _set_predictor(self, predictor: ServedModel) -> None:
        self.predictor_ = predictor
        self._explainer = None  # made from the predictor on the first explain
        if predictor.schema.classes is not None:
            self.classes_ = predictor.schema.class_array()


def _with_weights(source, sample_weight) -> tuple:
    """(the table, the name of its weight column or None): an array of weights becomes a
    column of the frame; a name must be a column of the table (checked by the run)."""
    if sample_weight is None or isinstance(sample_weight, str):
        return source, sample_weight
    if not isinstance(source, pd.DataFrame):
        raise ConfigError("sample_weight as an array needs X as a DataFrame or an array; "
                          f"for the file {source} give the name of its weight column instead")
    weights = _checked_weights(sample_weight, len(source))
    name = next(n for n in ("sample_weight", "__sample_weight__", "__automl_weight__")
                if n not in source.columns)
    return source.assign(**{name: weights}), name


def _checked_weights(sample_weight, n_rows: int) -> np.ndarray:
    weights = np.asarray(sample_weight)
    if weights.ndim != 1 or len(weights) != n_rows:
        raise ConfigError(f"sample_weight must hold one number per row: {n_rows} rows, "
                          f"got shape {weights.shape}")
    if not np.issubdtype(weights.dtype, np.number) or np.issubdtype(weights.dtype, np.bool_):
        raise ConfigError(f"sample_weight must hold numbers, got {weights.dtype} values")
    return weights.astype(np.float64)


class _Probabilities:
    """predict_proba, for the estimators that may classify (a regressor has none, as
    sklearn's tools tell a regressor by that)."""

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per class of `classes_`."""
        predictor = self._fitted()
        predictor.check_classifier()
        return predictor.predict_raw(self._features(X, reset=False))


class AutoML(_Probabilities, _AutoMLBase):
    """Fit a pipeline graph on a table; predict with the run's best model. Any task:
    inferred from the target, or given as `task`.

    >>> model = AutoML(time_budget="2m").fit(df, target="income")
    >>> model.predict(df.head()); model.score(df, df["income"])
    """

    def __init__(self, pipeline: str | Path = "default", time_budget: str | float | None = None,
                 metric: str | None = None, task: str | None = None, seed: int = 0,
                 out: str | Path = "runs", address: str | None = None,
                 holdout: float | None = None, verbosity: int = 0, report: bool = True,
                 encoding: str | None = None, max_trials: int | None = None,
                 compact: bool = False, refit_full: bool | None = None,
                 max_model_size: str | int | None = None, max_latency: str | float | None = None,
                 class_weight: str | None = None):
        super().__init__(pipeline=pipeline, time_budget=time_budget, metric=metric, seed=seed,
                         out=out, address=address, holdout=holdout, verbosity=verbosity,
                         report=report, encoding=encoding, max_trials=max_trials,
                         compact=compact, refit_full=refit_full, max_model_size=max_model_size,
                         max_latency=max_latency, class_weight=class_weight)
        self.task = task

    def _task(self, source, target: str) -> str | None:
        return self.task

    def _check_task(self, task: str, where: str) -> None:
        pass  # any task will do

    def _checked_target(self, y) -> np.ndarray:
        return y  # rows with a missing target are dropped, as in `automl fit`


class AutoMLClassifier(ClassifierMixin, _Probabilities, _AutoMLBase):
    """Classification, with sklearn's classifier tags: `cross_val_score(...,
    scoring="roc_auc")` and `"neg_log_loss"` read its `predict_proba` and `classes_`.
    Binary or multiclass follows the number of classes in y."""

    score = _AutoMLBase.score  # the run's metric, not ClassifierMixin's accuracy

    def _task(self, source, target: str) -> str | None:
        labels = _target_column(source, target, self.encoding)
        if labels is None:
            return None  # the run names the missing column
        return BINARY if len(pd.unique(self._checked_target(labels))) == 2 else MULTICLASS

    def _check_task(self, task: str, where: str) -> None:
        if task == REGRESSION:
            raise ConfigError(f"{where} holds a regression model; load it with AutoMLRegressor "
                              "or AutoML")

    def _checked_target(self, y) -> np.ndarray:
        # sklearn's messages for a missing label, a 2-D y, continuous values
        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=True, input_name="y")
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y


class AutoMLRegressor(RegressorMixin, _AutoMLBase):
    """Regression, with sklearn's regressor tags."""

    score = _AutoMLBase.score  # the run's metric, not RegressorMixin's R²

    def _task(self, source, target: str) -> str:
        labels = _target_column(source, target, self.encoding)
        if labels is not None:
            self._checked_target(labels)
        return REGRESSION

    def _check_task(self, task: str, where: str) -> None:
        if task != REGRESSION:
            raise ConfigError(f"{where} holds a {task} classification model; load it with "
                              "AutoMLClassifier or AutoML")

    def _checked_target(self, y) -> np.ndarray:
        # sklearn's messages for a missing, infinite or non-numeric target, or a 2-D y
        y = check_array(y, ensure_2d=False, dtype="numeric", ensure_all_finite=True, input_name="y")
        return column_or_1d(y, warn=True)


def _target_column(source, target: str, encoding: str | None) -> pd.Series | None:
    """The target column of the table to fit on (read first if it is a file), or None (also
    for a resumed run's table, which its folder names)."""
    if source is None:
        return None
    frame = source if isinstance(source, pd.DataFrame) else read_table(source, encoding=encoding)
    return frame[target] if target in frame.columns else None


def _run_metric(run_dir: Path, task: str) -> str:
    """The metric the run optimised, from run.json; a bare model/ folder (the bundle
    alone, as it may be shipped) does not say, and its task's default is taken."""
    chosen = None
    if (run_dir / "run.json").is_file():
        chosen = read_json(run_dir / "run.json")["settings"].get("metric")
    return chosen or default_metric(task)
