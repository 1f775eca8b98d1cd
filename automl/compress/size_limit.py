"""How large a student may be: a cap in KB, a share of the teacher's size, or both.

The teacher's size is that of its pickled predictor (what `model/predictor.joblib` holds),
counted as it is written into a sink that keeps no bytes, and only up to TEACHER_COUNT_CAP:
an ensemble of forests can pickle to hundreds of MB, and past this size a share of it
no longer binds any student worth exporting.
"""

from __future__ import annotations

import pickle

TEACHER_COUNT_CAP = 256 * 1024 * 1024


class _Full(Exception):
    pass


class _CountingSink:
    """A file that counts what is written to it, and stops the writer at `stop_at` bytes."""

    def __init__(self, stop_at: int):
        self.count, self.stop_at = 0, stop_at

    def write(self, data) -> int:
        size = memoryview(data).nbytes
        self.count += size
        if self.count >= self.stop_at:
            raise _Full
        return size


def pickled_bytes(obj, stop_at: int = TEACHER_COUNT_CAP) -> int:
    """Bytes `obj` pickles to, or `stop_at` where it takes at least that many."""
    sink = _CountingSink(stop_at)
    try:
        pickle.dump(obj, sink, protocol=pickle.HIGHEST_PROTOCOL)
    except _Full:
        return stop_at
    return sink.count


def teacher_size_text(teacher_bytes: int) -> str:
    """The teacher's size for a log line or the card; a count stopped at the cap is a floor."""
    floor = "at least " if teacher_bytes >= TEACHER_COUNT_CAP else ""
    return f"{floor}{teacher_bytes / 1024:,.0f} KB pickled"


def size_limit_kb(max_kb: float | None, share: float | None,
                  teacher_bytes: int | None) -> float | None:
    """The tighter of `max_kb` and `share` of the teacher's size, in KB (None: no limit)."""
    limits = [] if max_kb is None else [max_kb]
    if share is not None and teacher_bytes is not None:
        limits.append(share * teacher_bytes / 1024)
    return min(limits) if limits else None
