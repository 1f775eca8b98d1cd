"""sklearn's own estimator checks on AutoMLClassifier and AutoMLRegressor, each fit a real
Ray Tune search on a local Ray (apart from test_sklearn_contract.py so that the parallel
suite spreads them)."""

from __future__ import annotations

import os

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from automl import AutoMLClassifier, AutoMLRegressor
from tests.conftest import REPO

# the fast preset, one trial at a time (why: the file's own comment)
SMALLEST = {"pipeline": str(REPO / "tests" / "pipelines" / "one_at_a_time.yaml"),
            "time_budget": "5s", "max_trials": 2, "report": False}

# ---- sklearn's estimator checks --------------------------------------------------------

# Checks that cannot apply to a time-budgeted AutoML, by name, each with the reason (found
# by running all of them, legacy ones too, on sklearn 1.9).
FEW_ROWS = ("automl needs at least 20 rows with a target (a validation split and a search "
            "need them) and says so in a DataError; the check fits on {}")
TWO_FITS_DIFFER = ("two fits on the same rows may differ: the time budget decides which "
                   "trials finish (the estimator's non_deterministic tag)")
EXPECTED_FAILURES = {
    "check_n_features_in_after_fitting": FEW_ROWS.format("15 rows"),
    "check_fit2d_1sample": FEW_ROWS.format("1 row and wants the word 'sample' in the error"),
    "check_fit2d_1feature": FEW_ROWS.format("10 rows"),
    "check_fit_idempotent": TWO_FITS_DIFFER,
}
CLASSIFIER_FAILURES = {
    "check_classifier_data_not_an_array": FEW_ROWS.format("12 rows"),
    "check_classifiers_one_label": FEW_ROWS.format("10 rows (one class is refused as well: "
                                                  "there is nothing to predict)"),
}
REGRESSOR_FAILURES = {
    "check_regressors_train": "score() is the run's metric, -RMSE by default, where the "
                              "check wants R² > 0.5",
    "check_regressor_data_not_an_array": TWO_FITS_DIFFER,
    "check_regressors_no_decision_function": FEW_ROWS.format("10 rows"),
}
# The API checks run in CI (30, about 2 minutes on 2 cores); the legacy ones (about 90 a
# estimator, each fit a Ray Tune search of seconds: 5 to 10 minutes each) when this is set.
LEGACY = os.environ.get("AUTOML_SKLEARN_LEGACY_CHECKS") == "1"


def _expected_failures(estimator) -> dict[str, str]:
    own = CLASSIFIER_FAILURES if isinstance(estimator, AutoMLClassifier) else REGRESSOR_FAILURES
    return {**EXPECTED_FAILURES, **own}


@pytest.mark.slow
@parametrize_with_checks([AutoMLClassifier(**SMALLEST), AutoMLRegressor(**SMALLEST)],
                         legacy=LEGACY, expected_failed_checks=_expected_failures,
                         xfail_strict=False)  # those that may differ pass at times
def test_sklearn_estimator_checks(estimator, check, tmp_path):
    estimator.set_params(out=tmp_path)
    check(estimator)
