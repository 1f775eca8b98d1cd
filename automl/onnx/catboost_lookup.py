"""CatBoost's categorical splits as lookup tables, for `catboost_graph`.

A split on categories (a one-hot value, a CTR of one or several categorical columns,
possibly combined with float borders) is a function of a few small-domain inputs: the
codes of its categorical columns (missing and unseen included) and the bins of its
float columns. Rather than re-implement CatBoost's hashing and target statistics, this
module asks CatBoost itself: it probes every cell of that domain with
`calc_leaf_indexes` and reads the split's bit from the leaf index, so the table is
exact by construction. In the graph, each group of splits over the same inputs becomes
one Gather over its table, indexed by the cell the row falls in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from automl.errors import AutoMLError
from automl.onnx.op_graph import OpGraph

# Above this many cells a table (and its probing) grows past what a member's graph should
# hold; such a combination is refused rather than approximated.
MAX_CELLS = 100_000
PROBE_ROWS = 8_192  # rows per calc_leaf_indexes call: its answer is rows x trees integers
BATCH_ROWS = 65_536  # probe rows in one Pool


class CatBoostGraphError(AutoMLError):
    """A CatBoost model that this converter cannot write exactly as an ONNX graph."""


@dataclass(frozen=True)
class Inputs:
    """What a categorical split reads: categorical columns (flat index, codes seen in
    training) and float columns (flat index, the borders it bins them by)."""

    cats: tuple[tuple[int, int], ...]
    floats: tuple[tuple[int, tuple[float, ...]], ...]

    def axes(self) -> list[np.ndarray]:
        """The probe values of each input, one per cell along its axis.

        A categorical column: missing (-1, which the family reads as NaN does), the codes
        0..K-1, and K, which stands for every code training never saw (CatBoost treats
        all unseen values alike). A float column with B borders: one value per bin
        (x <= b1, b1 < x <= b2, ..., x > bB), then NaN.
        """
        axes = [np.arange(-1, codes + 1, dtype=np.float64) for _, codes in self.cats]
        for _, borders in self.floats:
            edges = np.asarray(borders, dtype=np.float32)
            above = np.nextafter(edges, np.float32(np.inf))
            axes.append(np.concatenate([edges[:1], above, [np.nan]]).astype(np.float64))
        return axes

    def columns(self) -> list[int]:
        return [c for c, _ in self.cats] + [f for f, _ in self.floats]

    def cells(self) -> int:
        return int(np.prod([len(axis) for axis in self.axes()], dtype=np.float64))


def tabulate(model, n_inputs: int, groups: list[tuple[Inputs, list[tuple[int, int]]]]) -> list[np.ndarray]:
    """Per group (inputs, [(tree, level), ...]), a (cells, len(splits)) float32 0/1 table:
    each split's bit in every cell of the inputs' domain, cells in C order of `Inputs.axes`.

    Every domain is checked before any probing. The probes of many groups share one Pool,
    sliced per group: building a Pool costs far more than slicing one.
    """
    for inputs, _ in groups:
        _check_cells(inputs)
    tables = []
    for batch in _batches(groups):
        probes = [_probe(inputs, n_inputs) for inputs, _ in batch]
        pool, start = model._pool(np.concatenate(probes)), 0
        for (_, splits), probe in zip(batch, probes):
            tables.append(_bits(model, pool, range(start, start + len(probe)), splits))
            start += len(probe)
    return tables


def leaf_indexes(model, probe: np.ndarray) -> np.ndarray:
    """CatBoost's leaf index of each probe row (family inputs) in every tree."""
    return model.model_.calc_leaf_indexes(model._pool(probe)).astype(np.int64)


def _check_cells(inputs: Inputs) -> None:
    cells = inputs.cells()
    if cells > MAX_CELLS:
        raise CatBoostGraphError(
            f"a CatBoost split combines columns {inputs.columns()} (categorical codes "
            f"{[k for _, k in inputs.cats]}, float borders {[len(b) for _, b in inputs.floats]}) "
            f"into {cells:,} cells; an exact lookup table is written up to {MAX_CELLS:,}. "
            "Lower max_ctr_complexity (or the categories' cardinality) for this member")


def _batches(groups: list) -> list[list]:
    """Groups in runs of about BATCH_ROWS probe rows (a larger group alone)."""
    batches, rows = [[]], 0
    for group in groups:
        if batches[-1] and rows + group[0].cells() > BATCH_ROWS:
            batches.append([])
            rows = 0
        batches[-1].append(group)
        rows += group[0].cells()
    return [batch for batch in batches if batch]


def _probe(inputs: Inputs, n_inputs: int) -> np.ndarray:
    """One family input row per cell; the columns the split does not read stay 0."""
    grid = np.meshgrid(*inputs.axes(), indexing="ij")
    probe = np.zeros((grid[0].size, n_inputs))
    for column, values in zip(inputs.columns(), grid):
        probe[:, column] = values.ravel()
    return probe


def _bits(model, pool, rows: range, splits: list[tuple[int, int]]) -> np.ndarray:
    """The splits' bits for the pool's `rows`, from the leaf index of their trees only."""
    first, last = min(t for t, _ in splits), max(t for t, _ in splits) + 1
    parts = []
    for start in range(rows.start, rows.stop, PROBE_ROWS):
        chunk = pool.slice(list(range(start, min(start + PROBE_ROWS, rows.stop))))
        leaves = model.model_.calc_leaf_indexes(chunk, first, last)
        parts.append(np.column_stack([(leaves[:, tree - first] >> level) & 1 for tree, level in splits]))
    return np.concatenate(parts).astype(np.float32)


class Lookups:
    """The lookup columns written into a graph: each input's cell coordinate once, each
    group of splits one Gather over its table."""

    def __init__(self, ops: OpGraph, x: str):
        self.ops, self.x = ops, x
        self.coordinates: dict[tuple, str] = {}

    def columns(self, inputs: Inputs, table: np.ndarray) -> str:
        """(n, table columns) float: the table's row of each input row's cell."""
        sizes = [len(axis) for axis in inputs.axes()]
        strides = np.cumprod([1, *sizes[::-1]])[-2::-1]
        coordinates = [self._category(c, k) for c, k in inputs.cats]
        coordinates += [self._bin(f, borders) for f, borders in inputs.floats]
        index = None
        for coordinate, stride in zip(coordinates, strides):
            term = self.ops.op("Mul", [coordinate, self.ops.const(np.array(stride, np.int64))])
            index = term if index is None else self.ops.op("Add", [index, term])
        flat = self.ops.op("Reshape", [index, self.ops.const(np.array([-1], np.int64))])
        return self.ops.op("Gather", [self.ops.const(table), flat], axis=0)

    def _column(self, column: int) -> str:
        return self.ops.op("Gather", [self.x, self.ops.const(np.array([column], np.int64))], axis=1)

    def _category(self, column: int, codes: int) -> str:
        """Cell coordinate 0 for missing, 1..K for codes 0..K-1, K+1 for any other code.

        As the family's `_pool` does: NaN is the missing category (-1), and a code becomes
        its integer by truncation (Cast does as numpy's astype).
        """
        key = ("cat", column)
        if key not in self.coordinates:
            ops, value = self.ops, self._column(column)
            value = ops.op("Where", [ops.op("IsNaN", [value]), ops.const(np.float32(-1)), value])
            value = ops.op("Clip", [value, ops.const(np.float32(-2)), ops.const(np.float32(codes))])
            slot = ops.op("Add", [ops.op("Cast", [value], to=7), ops.const(np.int64(1))])
            unseen = ops.op("Less", [slot, ops.const(np.int64(0))])
            self.coordinates[key] = ops.op("Where", [unseen, ops.const(np.int64(codes + 1)), slot])
        return self.coordinates[key]

    def _bin(self, column: int, borders: tuple[float, ...]) -> str:
        """Cell coordinate: how many borders the value is above; len(borders) + 1 for NaN."""
        key = ("float", column, borders)
        if key not in self.coordinates:
            ops, value = self.ops, self._column(column)
            above = ops.op("Greater", [value, ops.const(np.asarray(borders, np.float32))])
            count = ops.op("ReduceSum", [ops.op("Cast", [above], to=7),
                                         ops.const(np.array([1], np.int64))], keepdims=1)
            nan = ops.op("IsNaN", [value])
            self.coordinates[key] = ops.op("Where", [nan, ops.const(np.int64(len(borders) + 1)), count])
        return self.coordinates[key]
