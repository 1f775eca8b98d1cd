"""Shared fixtures: small synthetic tables, the shared real tables when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "data" / "adult_sample.csv"


def make_table(n: int = 300, task: str = "binary", seed: int = 0) -> pd.DataFrame:
    """A small mixed-type table whose target depends on its features."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.uniform(-1, 1, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    signal = x1 + 2 * x2 + (colour == "red") * 1.5 + rng.normal(scale=0.3, size=n)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour,
                          "when": pd.date_range("2024-01-01", periods=n, freq="h")})
    frame.loc[rng.random(n) < 0.05, "x1"] = np.nan
    if task == "binary":
        frame["y"] = np.where(signal > 0.5, "yes", "no")
    elif task == "multiclass":
        frame["y"] = np.digitize(signal, [-0.5, 0.8, 2.0])
    else:
        frame["y"] = signal * 10
    return frame


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "MANIFEST.csv").is_file():
        pytest.skip(f"the shared tables are not at {SHARED_DATA}")
    return SHARED_DATA


def mount_small_disk(folder: Path, size: str) -> Path | None:
    """A tmpfs of `size` mounted at `folder` (made if missing), or None where this user may
    not mount one (not root, no CAP_SYS_ADMIN, a container without it)."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    return folder if done.returncode == 0 else None


def unmount(folder: Path) -> None:
    import subprocess

    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB disk (tmpfs) that fills up, or a skip saying why there is none."""
    folder = mount_small_disk(tmp_path / "disk", "256k")
    if folder is None:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN) to fill a disk for real")
    yield folder
    unmount(folder)


def pytest_collection_modifyitems(items):
    """The end-to-end tests (marked slow) first, in their files' order. `make test` runs the
    files in parallel (pytest-xdist, a file to a worker) and ends when the last file does:
    started last, a three-minute file ran on alone while the other workers idled; started
    first, the short unit files fill in around it."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
