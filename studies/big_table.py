"""Write a large synthetic table for the size checks: numbers and categories, a binary target.

    python -m studies.big_table OUT_DIR [--rows 1000000] [--seed 0]

writes OUT_DIR/big.parquet (40 numeric and 10 categorical feature columns, `y` the
target) and OUT_DIR/MANIFEST.csv, so that `automl bench --data OUT_DIR` and
`automl fit OUT_DIR/big.parquet --target y` both take it. The target depends on
numbers (linear, threshold and product terms), on categories (a random effect per level)
and on noise, so that neither a linear model nor a small tree ensemble is enough.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

N_NUMERIC = 40
CARDINALITIES = (3, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)  # one categorical column each


def big_table(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    numbers = rng.standard_normal((rows, N_NUMERIC)).astype(np.float32)
    numbers[:, ::4] = np.exp(numbers[:, ::4])  # every fourth column skewed
    columns = {f"x{i}": numbers[:, i] for i in range(N_NUMERIC)}
    logit = (numbers[:, 1] - 0.8 * numbers[:, 2] + 1.2 * (numbers[:, 3] > 0.5)
             + 0.7 * numbers[:, 5] * numbers[:, 6] + 0.5 * np.log(numbers[:, 0]))
    for i, levels in enumerate(CARDINALITIES):
        codes = np.minimum(rng.zipf(1.3, rows) - 1, levels - 1)  # a few common levels, a long tail
        effect = rng.normal(0, 0.6 if i < 6 else 0.0, levels)  # the last four carry no signal
        logit += effect[codes]
        names = np.array([f"c{i}_{level}" for level in range(levels)], dtype=object)
        columns[f"c{i}"] = pd.Categorical.from_codes(codes, categories=names)
    frame = pd.DataFrame(columns)
    for i in range(0, N_NUMERIC, 7):  # some values missing, as real tables have them
        frame.loc[rng.random(rows) < 0.05, f"x{i}"] = np.nan
    noisy = logit + rng.logistic(0, 1, rows)
    frame["y"] = np.where(noisy > np.quantile(noisy, 0.7), "yes", "no")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    big_table(args.rows, args.seed).to_parquet(args.out / "big.parquet", index=False)
    (args.out / "MANIFEST.csv").write_text("name,task,target\nbig,binary,y\n")
    print(f"wrote {args.out / 'big.parquet'} ({args.rows} rows, 51 columns) and MANIFEST.csv")


if __name__ == "__main__":
    main()
