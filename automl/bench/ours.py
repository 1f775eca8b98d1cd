"""The project itself, benchmarked through its public API exactly as a user calls it.

It yields one result row per model a run produces: "ensemble" (the run's final model, as
`automl predict` serves it: model/ensemble.onnx in onnxruntime, its size that file's),
"single" (the search's best trial alone, what the ensemble is measured against) and,
when the pipeline exports one (`--pipeline compact`), "compact": compact.onnx run in
onnxruntime, the file a production engineer would ship.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from automl.atomic import atomic_dump
from automl.bench.protocol import align_proba
from automl.bench.systems import FitJob, Fitted
from automl.runfolder import RunStore


def fit_automl(job: FitJob) -> list[Fitted]:
    from automl.api import AutoML

    train = job.train
    # holdout=0: the bench's 20% is the test part; the run keeps its own validation split
    # report=False: the HTML report (permutation importance) is not part of the fit we time;
    # verbosity=1: the run's progress lines go to the worker's log, to tell where time went
    model = AutoML(pipeline=job.pipeline, time_budget=job.budget, holdout=0.0, verbosity=1,
                   out=job.runs_dir, task=train.task, report=False)
    model.fit(train.frame(), target=train.dataset.target, sample_weight=train.weight)

    fitted = [_served_ensemble(Path(model.run_dir_), model.predictor_, train)]
    search = RunStore(model.run_dir_).latest("search")
    if search is not None:
        single = search.predictor()

        def save_single(folder: Path) -> Path:
            atomic_dump(folder / "single.joblib", single)
            return folder / "single.joblib"

        fitted.append(Fitted("single", _predict_with(single, train), save_single))
    onnx_path = Path(model.run_dir_) / "compact" / "compact.onnx"
    if onnx_path.is_file():
        fitted.append(Fitted("compact", _predict_onnx(onnx_path, model.predictor_.schema, train),
                             lambda _folder: onnx_path))
    return fitted


def _served_ensemble(run_dir: Path, predictor, train) -> Fitted:
    """The ensemble as `automl predict` serves it: model/ensemble.onnx, or (a member with
    no converter) the pickled bundle, sized as the whole model/ folder."""
    path = run_dir / "model" / "ensemble.onnx"
    if path.is_file():
        return Fitted("ensemble", _predict_onnx(path, predictor.schema, train), lambda _folder: path)
    return Fitted("ensemble", _predict_with(predictor, train), lambda _folder: run_dir / "model")


def _predict_onnx(path: Path, schema, train):
    from automl.serving.onnx_predictor import OnnxPredictor

    model = OnnxPredictor(path)  # one thread, as the other systems' one-row latency is taken

    def predict(X: pd.DataFrame) -> np.ndarray:
        output = model.predict_raw(X)
        return output if train.classes is None else align_proba(output, schema.classes, train.classes)

    return predict


def _predict_with(predictor, train):
    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return predictor.predict(X)
        return align_proba(predictor.predict_raw(X), predictor.schema.classes, train.classes)

    return predict
