"""Tune's callback usage tag, which imported mlflow (2 s) in every search's driver."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import REPO

# Tune's own call path: ray.tune.tune calls air_usage.tag_callbacks(callbacks) in tune.run
SCRIPT = """
import sys
from ray import tune
from ray.tune import tune as tune_module
if sys.argv[1] == "skip":
    from automl.search.tuner import _skip_callback_usage_tag
    _skip_callback_usage_tag()
tune_module.air_usage.tag_callbacks([tune.Callback()])
print("mlflow" in sys.modules)
"""


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is None, reason="mlflow not installed")
@pytest.mark.parametrize("mode, imports_mlflow", [("tune", "True"), ("skip", "False")])
def test_a_search_does_not_import_mlflow_for_tunes_usage_tag(mode, imports_mlflow):
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == imports_mlflow  # Tune's own does; ours, skipped, does not
