"""Atomic writes on a disk that fills up for real (a small tmpfs): one clear error, the
temp file gone, and the file that was there before left whole."""

from __future__ import annotations

import os

import joblib
import numpy as np
import pytest

from automl.atomic import atomic_dump, atomic_write_bytes, atomic_write_json
from automl.errors import DiskFullError

FULL_MESSAGE = (r"^the disk is full: could not write .*{name} \(no space left on device; "
                r"[0-9.]+ MiB free on that disk\); nothing half-written was kept: make room \(or copy "
                r"the run folder to a larger disk\) and continue with 'automl fit --resume RUN_DIR'")


def test_a_write_that_fills_the_disk_keeps_the_old_file_whole(small_disk):
    path = small_disk / "run" / "metrics.json"
    atomic_write_json(path, {"before": 1})
    with pytest.raises(DiskFullError, match=FULL_MESSAGE.format(name="metrics.json")):
        atomic_write_bytes(path, os.urandom(512 * 1024))
    assert path.read_text() == '{\n  "before": 1\n}\n'
    assert os.listdir(path.parent) == ["metrics.json"]  # no temp file left


def test_a_pickle_that_fills_the_disk_leaves_nothing(small_disk):
    path = small_disk / "output.joblib"
    with pytest.raises(DiskFullError, match=FULL_MESSAGE.format(name="output.joblib")):
        atomic_dump(path, np.random.default_rng(0).random(100_000))
    assert os.listdir(small_disk) == []
    atomic_dump(path, [1, 2])  # once there is room again, it writes as before
    assert joblib.load(path) == [1, 2]
