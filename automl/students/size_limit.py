"""How large a student may be: a cap in KB, a share of the teacher's size, or both.

The teacher's size is that of its pickled predictor (`automl.bundle.pickled_bytes`).
"""

from __future__ import annotations


def size_limit_kb(max_kb: float | None, share: float | None,
                  teacher_bytes: int | None) -> float | None:
    """The tighter of `max_kb` and `share` of the teacher's size, in KB (None: no limit)."""
    limits = [] if max_kb is None else [max_kb]
    if share is not None and teacher_bytes is not None:
        limits.append(share * teacher_bytes / 1024)
    return min(limits) if limits else None
