"""Baselines: xgboost and a random forest with library defaults, one shared encoding.

Both get the same simple encoding (categories -> ordinal codes, dates -> seconds, missing
values left as NaN, which both libraries handle), so they differ only in the model.
"""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder

from automl.bench.protocol import align_proba
from automl.bench.systems import FitJob, Fitted
from automl.metrics import REGRESSION


def fit_xgb_default(job: FitJob) -> list[Fitted]:
    from xgboost import XGBClassifier, XGBRegressor

    model_class = XGBRegressor if job.train.task == REGRESSION else XGBClassifier
    return [_fit_default(job, model_class(n_jobs=job.n_jobs))]


def fit_random_forest(job: FitJob) -> list[Fitted]:
    regression = job.train.task == REGRESSION
    model_class = RandomForestRegressor if regression else RandomForestClassifier
    return [_fit_default(job, model_class(n_jobs=job.n_jobs, random_state=0))]


def ordinal_encoding(X: pd.DataFrame) -> ColumnTransformer:
    """Categories (text, booleans) to ordinal codes, dates to seconds, numbers as they are."""
    dates = [c for c in X.columns if pd.api.types.is_datetime64_any_dtype(X[c])]
    categorical = [c for c in X.columns if c not in dates and _is_categorical(X[c])]
    # unseen and missing categories both become NaN: the trees' missing-value branch
    codes = make_pipeline(FunctionTransformer(as_text),
                          OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan))
    return ColumnTransformer([("categories", codes, categorical),
                              ("dates", FunctionTransformer(as_seconds), dates)],
                             remainder="passthrough")


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every present value as text (so booleans and mixed types sort), missing as NaN."""
    return frame.astype(object).apply(lambda col: col.map(str).where(col.notna(), np.nan))


def as_seconds(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(_seconds)


def _seconds(col: pd.Series) -> pd.Series:
    if col.dt.tz is not None:
        col = col.dt.tz_convert(None)
    return (col - pd.Timestamp(0)).dt.total_seconds()


def _is_categorical(col: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col)


def _fit_default(job: FitJob, model) -> Fitted:
    train = job.train
    pipeline = Pipeline([("encode", ordinal_encoding(train.X)), ("model", model)])
    pipeline.fit(train.X, train.codes(), model__sample_weight=train.weight)

    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return pipeline.predict(X)
        # the model learned codes 0..k-1; map its columns back by code
        return align_proba(pipeline.predict_proba(X), pipeline.classes_,
                           list(range(len(train.classes))))

    def save(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(pipeline, folder / "model.joblib")
        return folder / "model.joblib"

    return Fitted("default", predict, save)
