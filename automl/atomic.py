"""Atomic writes: a temp file in the same folder, then a rename. A reader sees the old
file or the new one, never half of one.

A full disk (or quota) is a DiskFullError saying where and what to do: the temp file is
removed and the old file, if any, stays, so nothing half-written is left for a resume to
trust.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import joblib

from automl.errors import DiskFullError

FULL = (errno.ENOSPC, errno.EDQUOT)


def _read_umask() -> int:
    # read once, at import: setting it to read it back is not safe once threads run
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _temp_beside(path: Path) -> tuple[int, str]:
    """A temp file next to `path` with the permissions a plain open() would give it
    (mkstemp makes it owner-only, and the rename would carry that over)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_UMASK)
    return fd, tmp


@contextlib.contextmanager
def _written(path: Path):
    """A temp file beside `path` to write, renamed over `path` when the block ends; removed
    if it raises, and a full disk raised as DiskFullError."""
    path = Path(path)
    tmp = None
    try:
        fd, tmp = _temp_beside(path)
        yield fd, tmp
        os.replace(tmp, path)
    except BaseException as err:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno in FULL:
            raise disk_full(path, err) from None
        raise


def disk_full(path: Path, err: OSError) -> DiskFullError:
    """The error for a write to `path` that found no room, in the project's words."""
    where = next((p for p in Path(path).parents if p.exists()), Path("/"))
    free = shutil.disk_usage(where).free
    return DiskFullError(
        f"the disk is full: could not write {path} ({os.strerror(err.errno).lower()}; "
        f"{free / 2**20:.1f} MiB free on that disk); nothing half-written was kept: make room "
        "(or copy the run folder to a larger disk) and continue with 'automl fit --resume "
        "RUN_DIR', or start again with --out on another disk")


def full_disk_cause(err: BaseException | None) -> OSError | None:
    """The OSError of a full disk in `err`'s chain of causes, if any: libraries (Ray Tune
    writing its experiment state) wrap it in errors of their own."""
    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, OSError) and err.errno in FULL:
            return err
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return None


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with _written(path) as (fd, _tmp):
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=str) + "\n")


def atomic_dump(path: Path, obj: Any) -> None:
    """joblib-pickle `obj` to `path` atomically."""
    with _written(path) as (fd, tmp):
        os.close(fd)
        joblib.dump(obj, tmp)
