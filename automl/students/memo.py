"""Memo students: a tree student plus the teacher's own output on the training rows that
recur, looked up by the row's key in the same ONNX graph.

Some tables repeat rows: 32% of hotel_bookings' test rows and 28% of wine_quality's
repeat a training row exactly (under 1% elsewhere among the ten benchmark tables). The
ensemble's forests answer such a row with what they learned on its twin, which no 1 MB
student reproduces: in the bench at `8f3e61f`, wine_quality's compact model scored RMSE
0.375 on its repeated test rows against the ensemble's 0.172 (0.705 against 0.691 on the
others), and on hotel_bookings ROC AUC 0.9944 against 0.9968 there. The teacher is a
function of the row, so its output on a training row IS its output on that row's twin:
a memo keeps it for the rows that matter most (each distinct row's summed squared gap
between the teacher's and the base student's outputs, which weighs a row by how often it
occurs), as many as fit the size aim, and the student answers every other row.

A row's key is an exact integer hash of the `trees` branch's float32 values, which the
ONNX graph computes the same way (`automl.onnx.memo_key`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from automl.students.judged import Scoring, Student
from automl.onnx.memo_graph import export_memo
from automl.onnx.memo_key import row_keys
from automl.onnx.parity import run_onnx
from automl.preprocess.branches import Branch
from automl.provenance import here

KEY_BYTES = 8  # one int64 key in the graph
BASE_KINDS = ("gbdt", "lgbm", "blend")  # students with a tree input edge to read the row from
BASES = 2  # the best students of those kinds that get a memo
LOOKUP_BYTES = 2048  # the key's nodes and weights, about 1.5 KB
BASE_MARGIN = 1.05  # a base refitted on all rows may come out this much larger
# of the size aim, left for the raw-column front the export puts before the student's
# graph (hotel_bookings' 29 columns and their categories: 13 KB)
FRONT_SHARE = 0.03
# judged rows that must repeat a training row for a memo to be made: on the ten benchmark
# tables' training parts 0-0.7% of the rows repeat another on eight, 15% and 26% on two;
# at 120 s a memo of adult's (0.2% of its test rows repeat) took 210 KB and changed nothing
MIN_REPEATS = 0.02


@dataclass
class Memo:
    """The teacher's output kept per key: values (G,) for regression, (G, k) probabilities
    for classes."""

    keys: np.ndarray  # int64, sorted
    values: np.ndarray

    def apply(self, output: np.ndarray, Z: np.ndarray) -> np.ndarray:
        """`output` with the rows whose key is kept answered by the memo."""
        keys = row_keys(Z)
        at = np.clip(np.searchsorted(self.keys, keys), 0, max(len(self.keys) - 1, 0))
        hit = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), bool)
        answered = np.array(output, dtype=np.float64, copy=True)
        answered[hit] = self.stored()[at[hit]]
        return answered

    def stored(self) -> np.ndarray:
        """The values as the graph holds them: float32, and a binary task's first class
        as 1 - the second's (the graph keeps the second's probability only)."""
        values = self.values.astype(np.float32)
        if values.ndim == 2 and values.shape[1] == 2:
            values = np.stack([np.float32(1) - values[:, 1], values[:, 1]], axis=1)
        return values.astype(np.float64)


def entry_bytes(n_outputs: int) -> int:
    """A memo row's bytes in the graph: its key and one float (regression, binary), or an
    index and a row of probabilities (multiclass; see `automl.onnx.memo_graph`)."""
    return KEY_BYTES + (4 if n_outputs <= 2 else 8 + 4 * n_outputs)


def build_memo(Z: np.ndarray, targets: np.ndarray, base_output: np.ndarray,
               max_rows: int) -> Memo:
    """The teacher's output (`targets`, averaged over rows that share a key) for at most
    `max_rows` keys, those where the base student's output on the same rows falls
    furthest from it in all."""
    keys = row_keys(Z)
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    teacher = np.asarray(targets, dtype=np.float64).reshape(len(keys), -1)
    gaps = ((teacher - np.asarray(base_output, dtype=np.float64).reshape(len(keys), -1)) ** 2).sum(1)
    means = np.zeros((len(distinct), teacher.shape[1]))
    np.add.at(means, inverse, teacher)
    means /= counts[:, None]
    gap = np.bincount(inverse, weights=gaps, minlength=len(distinct))
    kept = np.argsort(-gap, kind="stable")[:max(max_rows, 0)]
    kept = np.sort(kept[gap[kept] > 0])
    values = means[kept] if np.ndim(targets) == 2 else means[kept, 0]
    return Memo(distinct[kept], values)


def memo_rows_within(base_bytes: int, max_bytes: float | None, n_outputs: int,
                     n_rows: int) -> int:
    """How many memo rows fit beside a base student of `base_bytes` (all `n_rows` where
    there is no aim), leaving room for the lookup's nodes, for a refitted base a little
    larger than this one, and for the export's raw-column front."""
    if max_bytes is None:
        return n_rows
    room = (1 - FRONT_SHARE) * max_bytes - BASE_MARGIN * base_bytes - LOOKUP_BYTES
    return max(0, int(room // entry_bytes(n_outputs)))


@dataclass
class Memoized:
    """A fitted student (a family's model, or a Blend) with a memo; what `crossfit`
    fits from a memo recipe."""

    base: object
    memo: Memo

    def predict_raw(self, X) -> np.ndarray:
        return self.memo.apply(self.base.predict_raw(X), X)

    def onnx_bytes(self, branch: Branch, features: pd.DataFrame) -> bytes:
        return export_memo(self.base.onnx_bytes(branch, features), self.memo)


def memoized(base, Z: np.ndarray, targets: np.ndarray, max_rows: int) -> Memoized:
    """`base` (fitted on these rows) with the memo of `Z`'s rows."""
    return Memoized(base, build_memo(Z, targets, base.predict_raw(Z), max_rows))


def memo_students(students: list[Student], lesson, scoring: Scoring,
                  max_bytes: float | None) -> list[Student]:
    """A memo student for each of the BASES best tree and blend students that can be
    fitted again (`memo_bases`); none on a table where fewer than MIN_REPEATS of the
    judged rows repeat a training row."""
    memos = (memo_of(base, rows, lesson, scoring)
             for base, rows in memo_bases(students, lesson, scoring, max_bytes))
    return [memo for memo in memos if memo is not None]


def memo_bases(students: list[Student], lesson, scoring: Scoring,
               max_bytes: float | None) -> list[tuple[Student, int]]:
    """(base student, the memo rows that fit beside it) for each of the BASES best tree
    and blend students that can be fitted again, where at least MIN_REPEATS of the
    judged rows repeat a training row."""
    bases = sorted((s for s in students if s.kind in BASE_KINDS and s.recipe is not None),
                   key=lambda s: -s.score)[:BASES]
    Z, targets = lesson.Z[:lesson.n_real], lesson.targets[:lesson.n_real]
    if not bases or repeat_share(scoring.Z_valid, Z) < MIN_REPEATS:
        return []
    n_outputs = targets.shape[1] if targets.ndim == 2 else 1
    return [(base, memo_rows_within(base.size_bytes, max_bytes, n_outputs, len(Z)))
            for base in bases]


def memo_of(base: Student, max_rows: int, lesson, scoring: Scoring) -> Student | None:
    """`base` with the memo of the lesson's real rows (at most `max_rows`) where the
    teacher's output and the base's differ; None where they differ nowhere."""
    memo = build_memo(lesson.Z[:lesson.n_real], lesson.targets[:lesson.n_real],
                      run_onnx(base.onnx, lesson.real), max_rows)
    return memo_student(base, memo, scoring, max_rows) if len(memo.keys) else None


def repeat_share(Z_valid: np.ndarray, Z: np.ndarray) -> float:
    """The share of `Z_valid`'s rows whose key is among `Z`'s."""
    return float(np.isin(row_keys(Z_valid), row_keys(Z)).mean()) if len(Z_valid) else 0.0


def memo_student(base: Student, memo: Memo, scoring: Scoring, max_rows: int) -> Student:
    """`base` with `memo`, measured as a student, with the recipe that fits it again."""
    student = scoring.student(f"{base.name}+memo", "memo",
                              {**base.params, "memo_rows": len(memo.keys)},
                              memo.apply(base.valid_output, scoring.Z_valid),
                              export_memo(base.onnx, memo))
    student.recipe = {"family": "memo", "base": base.recipe, "max_rows": max_rows,
                      "synthetic": base.recipe["synthetic"]}
    student.base = base
    return student


def remade_memo(student: Student, real: pd.DataFrame, Z: np.ndarray, teacher: np.ndarray,
                scoring: Scoring) -> Student:
    """A memo student whose base keeps its model, with its memo made again from other
    rows (`real`, model-ready, `Z` through the branch) and the teacher's output there,
    by this process (the cross-fit runs it through the run's offload)."""
    base = student.base
    memo = build_memo(Z, teacher, run_onnx(base.onnx, real), student.recipe["max_rows"])
    remade = memo_student(base, memo, scoring, student.recipe["max_rows"])
    return replace(remade, score=student.score, fidelity=student.fidelity,
                   params={**remade.params, "memo": "all training rows"},
                   recipe=student.recipe, base=base, fitted_by=here())
