"""A memo row's key: an exact integer hash of the `trees` branch's float32 values, which
the Python memo (`automl.students.memo`) and the ONNX graph (`memo_graph`) compute alike.

Each value is floored at 2^-16 (missing values get a fixed code), taken modulo a prime
under 2^20, and two weighted sums of those, each exact in float64 whatever the order of
their terms, make the two 21-bit halves of one int64. Rows equal to 2^-16 in every value
share a key; two others share one with odds of about 2^-40.
"""

from __future__ import annotations

import numpy as np

SCALE = 2.0 ** 16  # a value's resolution in its key
PRIME = 1_048_573  # the largest prime under 2^20: the terms' modulus
MISSING = -(2.0 ** 31) + 11.0  # the code a missing value is keyed by
PART_BITS = 21  # each of the two halves of a key is below 2 * PRIME < 2^21
MAX_COLUMNS = 2 ** 13  # terms below 2^40 each: fewer than 2^13 of them sum below 2^53


def key_weights(n_features: int) -> np.ndarray:
    """(n_features, 2) integer weights below PRIME, as float64; fixed per width, so that a
    refitted memo keys rows as the judged one did."""
    return np.random.default_rng(n_features).integers(1, PRIME, size=(n_features, 2)).astype(np.float64)


def row_keys(Z: np.ndarray) -> np.ndarray:
    """An int64 key per row of the trees branch's output (see the module's note)."""
    values = np.asarray(Z, dtype=np.float32).astype(np.float64)
    if values.shape[1] >= MAX_COLUMNS:
        raise ValueError(f"a memo keys rows of fewer than {MAX_COLUMNS:,} columns, not "
                         f"{values.shape[1]:,}: its sums stay exact below 2^53 only so")
    floored = np.floor(values * SCALE)
    floored[~np.isfinite(floored)] = MISSING
    parts = np.fmod(np.fmod(floored, PRIME) @ key_weights(values.shape[1]), PRIME) + PRIME
    parts = parts.astype(np.int64)
    return parts[:, 0] + (parts[:, 1] << PART_BITS)
