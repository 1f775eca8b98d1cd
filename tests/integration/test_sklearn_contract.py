"""AutoMLClassifier and AutoMLRegressor in sklearn's own tools, on a real local Ray:
cross_val_score / cross_validate with the scorers analysts use (and sample weights sliced per
fold), clone, Pipeline, score, NotFittedError.
sklearn's estimator checks are in test_sklearn_checks.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score, root_mean_squared_error
from sklearn.model_selection import cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from automl import AutoML, AutoMLClassifier, AutoMLRegressor
from automl.errors import AutoMLError, ConfigError
from tests.conftest import REPO, make_table

# The smallest real run: random search, three trials, one at a time. The budget only bounds a run that
# hangs: three trials end it, so a busy machine (the suite runs in parallel) fits the same.
FAST = {"pipeline": str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml"), "time_budget": "2m",
        "max_trials": 3, "report": False}  # the fast preset, a trial at a time (its comment says why)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


def _xy(task: str, n: int = 150):
    frame = make_table(n=n, task=task)
    return frame.drop(columns="y"), frame["y"]


def test_cross_validate_of_the_classifier_with_two_scorers(runs):
    # one set of fits, both scorers analysts use (probabilities and their ranking)
    X, y = _xy("binary")
    scores = cross_validate(AutoMLClassifier(**FAST, out=runs), X, y, cv=3,
                            scoring=["roc_auc", "neg_log_loss"])
    auc, log_loss = scores["test_roc_auc"], scores["test_neg_log_loss"]
    assert auc.shape == log_loss.shape == (3,) and np.isfinite(auc).all()
    assert auc.min() > 0.8  # the table is learnable: a real model in every fold
    assert -0.6 < log_loss.max() < 0


def test_cross_val_score_of_the_regressor(runs):
    X, y = _xy("regression")
    weight = np.where(np.arange(len(y)) % 3 == 0, 2.0, 1.0)  # each fold's fit takes its share
    scores = cross_val_score(AutoMLRegressor(**FAST, out=runs), X, y,
                             scoring="neg_root_mean_squared_error", cv=3,
                             params={"sample_weight": weight})
    assert (scores < 0).all() and -scores.max() < y.std()  # better than the mean alone
    weighted = [json.loads((run / "run.json").read_text())["settings"]["weight"]
                for run in Path(runs).iterdir() if (run / "run.json").is_file()]
    assert weighted.count("sample_weight") == 3, weighted


@pytest.fixture(scope="module")
def classifier(runs):
    X, y = _xy("binary")
    return AutoMLClassifier(**FAST, out=runs).fit(X, y)


def test_score_is_the_metric_the_run_optimised(classifier):
    X, y = _xy("binary", n=200)
    proba = classifier.predict_proba(X)
    assert list(classifier.classes_) == ["no", "yes"] and classifier.metric_ == "roc_auc"
    assert classifier.score(X, y) == pytest.approx(roc_auc_score(y == "yes", proba[:, 1]))
    assert classifier.predict(X).dtype == classifier.classes_.dtype  # labels as given, not objects


def test_predict_checks_the_number_of_features(classifier):
    X, _ = _xy("binary")
    with pytest.warns(UserWarning, match="X does not have valid feature names"), \
            pytest.raises(ValueError, match="X has 3 features, but AutoMLClassifier is expecting 4"):
        classifier.predict(X.iloc[:, :3].to_numpy())
    with pytest.raises(ValueError, match="Feature names seen at fit time, yet now missing"):
        classifier.predict(X.iloc[:, :3])


def test_load_keeps_the_task_apart(classifier):
    loaded = AutoMLClassifier.load(classifier.run_dir_)
    X, y = _xy("binary")
    np.testing.assert_array_equal(loaded.predict(X), classifier.predict(X))
    assert loaded.score(X, y) == pytest.approx(classifier.score(X, y))
    with pytest.raises(ConfigError, match=r"holds a binary classification model; load it with "
                                          r"AutoMLClassifier or AutoML"):
        AutoMLRegressor.load(classifier.run_dir_)


def test_pipeline_score_is_the_regressors_score(runs):
    X, y = _xy("regression")
    numbers = X[["x1", "x2"]]
    pipeline = make_pipeline(FunctionTransformer(lambda frame: frame * 2.0),
                             AutoMLRegressor(**FAST, out=runs)).fit(numbers, y)
    predictions = pipeline.predict(numbers)
    assert pipeline.score(numbers, y) == pytest.approx(-root_mean_squared_error(y, predictions))
    assert pipeline[-1].metric_ == "rmse"
    with pytest.raises(ConfigError, match=r"holds a regression model; load it with "
                                          r"AutoMLRegressor or AutoML"):
        AutoMLClassifier.load(pipeline[-1].run_dir_)


@pytest.mark.parametrize("estimator", [AutoML(), AutoMLClassifier(), AutoMLRegressor()])
def test_predict_and_score_before_fit(estimator):
    X, y = _xy("binary", n=30)
    name = type(estimator).__name__
    message = rf"this {name} is not fitted yet; call fit\(X, y\) first, or {name}.load\(RUN_DIR\)"
    for call in (lambda: estimator.predict(X), lambda: estimator.score(X, y),
                 lambda: estimator.save("anywhere")):
        with pytest.raises(NotFittedError, match=message) as caught:
            call()
        assert isinstance(caught.value, AutoMLError)  # and one line from the CLI's handler


def test_clone_keeps_the_parameters_and_leaves_the_fit(classifier):
    copy = clone(classifier)
    assert copy.get_params() == classifier.get_params()
    assert not hasattr(copy, "predictor_") and "task" not in copy.get_params()


def test_the_classifier_refuses_continuous_targets():
    X, y = _xy("regression", n=40)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        AutoMLClassifier(**FAST).fit(X, y)


def test_the_regressor_refuses_text_targets():
    X, y = _xy("binary", n=40)
    with pytest.raises(ValueError, match="could not convert string to float: 'no'"):
        AutoMLRegressor(**FAST).fit(X, y)
