"""How much memory a family's fit needs, from the rows and columns it learns from.

Each Ray task (a trial, an all-rows fit, a refit, a student) asks its node for this much
memory, so Ray places it where it fits and no node runs out (DESIGN.md, "Search on Ray
Tune"). A family's figure is a line, `base + per_row * rows + per_cell * rows * columns`
bytes above the data itself, fitted to its default config's peak resident memory with one
thread on 2,000 to 100,000 rows of 10 to 100 columns (studies/fit_memory.py; the
measurements: docs/results/2026-12-07-fit-memory.csv) so that it covers every fit
measured. Forests grow with the rows (their trees), boosting and nets with the cells.
A searched config can be larger than the default (more trees, deeper), and k-fold keeps
every fold's model, so the need asked for is SAFETY times the line, the per-row part
(the model) once per kept model.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 2**20
SAFETY = 2.0


@dataclass(frozen=True)
class FitMemory:
    base: float  # bytes, whatever the data
    per_row: float  # bytes per training row (a forest's nodes)
    per_cell: float  # bytes per training row and column (histograms, copies, activations)

    def need(self, rows: int, columns: int, models: int = 1) -> int:
        """Bytes to ask for a fit on `rows` x `columns` that keeps `models` models
        (k fold models under k-fold validation)."""
        line = self.base + models * self.per_row * rows + self.per_cell * rows * columns
        return int(SAFETY * line)


# Measured on 2026-12-07 (studies/fit_memory.py), rounded up.
LIGHTGBM = FitMemory(15 * MB, 47, 15)
XGBOOST = FitMemory(32 * MB, 23, 15)
CATBOOST = FitMemory(21 * MB, 281, 11)
RANDOM_FOREST = FitMemory(2 * MB, 733, 0)
EXTRA_TREES = FitMemory(1 * MB, 1724, 2)
# linear measured again once it encoded its input itself (DenseCode: a float32 copy, and
# the solver's float64 one): 21 bytes per cell
LINEAR = FitMemory(4 * MB, 39, 22)
MLP = FitMemory(16 * MB, 699, 11)
# A family that states none (a plugin): the largest of the above, term by term.
UNMEASURED = FitMemory(32 * MB, 1724, 15)


def human(size: float) -> str:
    """'1.3 GB', '250 MB'."""
    return f"{size / 2**30:.1f} GB" if size >= 2**30 else f"{size / MB:.0f} MB"
