"""Every family's default config (search/<key>.yaml) learns a real table of each task.

Tables from ../shared/data (MANIFEST.csv), sampled to a few thousand rows. "Learns" means
it clearly beats the best constant prediction of the training part on the validation part.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from automl.budget import Budget
from automl.metrics import BINARY, MULTICLASS
from automl.models.registry import family_class

from automl.models.registry import family_space

from .helpers import FAMILIES, check_output, shared_table

ROWS = 3000
TABLES = ["adult", "cardiotocography", "wine_quality"]  # binary, multiclass, regression


@pytest.mark.parametrize("key", FAMILIES)
@pytest.mark.parametrize("name", TABLES)
def test_default_config_learns_a_real_table(key, name, shared_data):
    cls = family_class(key)
    data = shared_table(shared_data, name, cls.branch, ROWS)
    task = data.schema.task
    if task not in cls.tasks:
        pytest.skip(f"family {key!r} declares it does not support {task}")
    config = family_space(key).resolve(len(data.y_train)).default
    model = cls(task=task, n_classes=data.n_classes, params=config,
                categorical=data.branch.categorical, seed=0, n_jobs=1)
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid, budget=Budget(60))
    prediction = model.predict_raw(data.X_valid)
    check_output(prediction, len(data.y_valid), task, data.n_classes)
    _assert_beats_constant(task, data.y_train, data.y_valid, prediction)


def _assert_beats_constant(task, y_train, y_valid, prediction) -> None:
    if task == BINARY:
        assert roc_auc_score(y_valid, prediction[:, 1]) > 0.75
    elif task == MULTICLASS:
        k = prediction.shape[1]
        prior = np.bincount(y_train, minlength=k) / len(y_train)
        labels = np.arange(k)
        constant = log_loss(y_valid, np.tile(prior, (len(y_valid), 1)), labels=labels)
        assert log_loss(y_valid, np.clip(prediction, 1e-15, 1), labels=labels) < 0.8 * constant
    else:
        rmse = np.sqrt(np.mean((prediction - y_valid) ** 2))
        assert rmse < 0.95 * np.sqrt(np.mean((y_train.mean() - y_valid) ** 2))
