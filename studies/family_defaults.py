"""Each family's cheap default config on each benchmark table, under the bench protocol.

    python -m studies.family_defaults [--data DIR] [--datasets a,b] [--families x,y] [--out FILE]

Same 80/20 split as `automl bench`; inside the 80%, the run's own 80/20 train/validation
split (validation for early stopping only), the family's preprocessing branch, one CPU,
as a search trial would fit it. Prints a Markdown table: protocol metric (fit seconds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from automl.bench.defaults import default_data_dir
from automl.bench.protocol import load_table, read_manifest, select_datasets, split_table
from automl.data import prepare_features
from automl.metrics import PROTOCOL, get_metric
from automl.models.registry import family_class, family_keys, family_space
from automl.preprocess.stage import table_branch_data


def default_scores(dataset, families: list[str]) -> dict[str, tuple[float, float]]:
    """family -> (protocol metric on the 20% test part, fit seconds)."""
    split = split_table(load_table(dataset), dataset)
    # every family reads the one branch (linear and mlp encode it themselves)
    data = table_branch_data(split.train.frame(), dataset.target, dataset.task,
                             valid_fraction=0.2, seed=0)
    X_test = data.branch.transform(prepare_features(split.X_test, data.schema))
    metric = get_metric(PROTOCOL[dataset.task][0], dataset.task)
    scores = {}
    for key in families:
        cls = family_class(key)
        model = cls(task=dataset.task, n_classes=len(data.schema.classes or []),
                    params=family_space(key).resolve(len(data.y_train)).default,
                    categorical=data.branch.categorical, seed=0, n_jobs=1)
        started = time.perf_counter()
        model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid)
        seconds = time.perf_counter() - started
        scores[key] = (metric.value(split.y_test_true, model.predict_raw(X_test)), seconds)
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m studies.family_defaults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(default_data_dir()))
    parser.add_argument("--datasets", default=None, help="comma-separated (default: all)")
    parser.add_argument("--families", default=None, help="comma-separated (default: all)")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    families = args.families.split(",") if args.families else family_keys()
    datasets = select_datasets(read_manifest(Path(args.data)),
                               args.datasets.split(",") if args.datasets else None)
    lines = ["| dataset | metric | " + " | ".join(families) + " |",
             "|---|---|" + "---:|" * len(families)]
    for dataset in datasets:
        print(f"{dataset.name} ...", file=sys.stderr, flush=True)
        scores = default_scores(dataset, families)
        cells = [f"{scores[k][0]:.4f} ({scores[k][1]:.1f}s)" for k in families]
        lines.append(f"| {dataset.name} | {PROTOCOL[dataset.task][0]} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
