"""The project itself, benchmarked through its public API exactly as a user calls it.

It yields one result row per model a run produces: "ensemble" (the run's final model)
now; the compact model joins as variant "compact" when the compression stage lands.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from automl.bench.protocol import align_proba
from automl.bench.systems import FitJob, Fitted


def fit_automl(job: FitJob) -> list[Fitted]:
    from automl.api import AutoML

    train = job.train
    # holdout=0: the bench's 20% is the test part; the run keeps its own validation split
    model = AutoML(time_budget=job.budget, holdout=0.0, verbose=False, out=job.runs_dir,
                   task=train.task)
    model.fit(train.frame(), target=train.dataset.target)

    def predict(X: pd.DataFrame) -> np.ndarray:
        if train.classes is None:
            return model.predict(X)
        return align_proba(model.predict_proba(X), model.classes_, train.classes)

    def save(_folder: Path) -> Path:
        return Path(model.run_dir_) / "model"  # the bundle `automl predict` loads

    return [Fitted("ensemble", predict, save)]
