"""`automl predict` and `automl explain`: a fitted run's answers for the rows of a table.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from automl.cli.shared import add_data_encoding, show_notices
from automl.serving.load import MODELS


def add_predict(commands) -> None:
    predict = commands.add_parser(
        "predict", help="predict with a fitted run",
        description="Predict one value per row of DATA with the model in RUN_DIR.")
    predict.add_argument("run_dir", metavar="RUN_DIR")
    predict.add_argument("data", metavar="DATA")
    predict.add_argument("--out", default=None, help="CSV file to write (default: standard output)")
    predict.add_argument("--proba", action="store_true",
                         help="also write class probabilities, one column per class")
    predict.add_argument("--model", choices=list(MODELS), default="ensemble",
                         help="the run's final model (ensemble, the default: model/ensemble.onnx), "
                              "its compact/compact.onnx (compact), both in onnxruntime with no "
                              "pickle, or the pickled Python predictor (python: "
                              "model/predictor.joblib)")
    add_data_encoding(predict)
    predict.set_defaults(handler=_predict)


def add_explain(commands) -> None:
    explain = commands.add_parser(
        "explain", help="per-row contributions of each column to the model's output",
        description="Explain the predictions of the model in RUN_DIR for each row of DATA: "
                    "one row per row, with the base value and one column per feature column; "
                    "base + the columns' sum is the model's output (a value, or the "
                    "probability of explained_class). Reads model/predictor.joblib, the "
                    "Python form of model/ensemble.onnx: explain only run folders you trust.",
        epilog="example: automl explain runs/20260101-120000-adult data.csv --out why.csv")
    explain.add_argument("run_dir", metavar="RUN_DIR")
    explain.add_argument("data", metavar="DATA")
    explain.add_argument("--out", default=None,
                         help="file to write: .parquet for Parquet, else CSV (default: CSV on "
                              "standard output)")
    explain.add_argument("--class", dest="target_class", default=None, metavar="LABEL",
                         help="classification: explain this class's probability (default: the "
                              "positive class of a binary task, each row's predicted class "
                              "for multiclass)")
    explain.add_argument("--model", choices=list(MODELS), default="ensemble",
                         help="the run's final model (ensemble, the default, or python: the "
                              "same model); the compact model has no explanations")
    add_data_encoding(explain)
    explain.set_defaults(handler=_explain)


def _checked_paths(args) -> None:
    """DATA found and --out writable: before the model and its libraries load."""
    from automl.data.files import locate
    from automl.options import check_out_file

    locate(args.data)
    if args.out is not None:
        check_out_file(args.out, "--out")


def _predict(args) -> int:
    from automl.options import check_encoding

    encoding = check_encoding(args.encoding)
    _checked_paths(args)
    from automl.serving.load import load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        predictor = load_model(Path(args.run_dir), args.model)  # a wrong folder fails before the model loads
        from automl.data.ingest import read_table

        # a header and no rows: no predictions, written as such (prediction needs no minimum)
        frame = read_table(args.data, encoding=encoding, allow_no_rows=True)
        raw = predictor.predict_raw(frame) if len(frame) else _no_output(predictor.schema)
    show_notices(caught)
    out = frame[[]].copy()
    out["prediction"] = predictor.labels(raw)
    if args.proba:
        # one column per class, headed by the class; one named 'prediction' is told apart
        proba = predictor.proba_frame(raw, frame.index)
        out = out.join(proba.rename(columns={"prediction": "proba_prediction"}))
    if args.out:
        from automl.atomic import atomic_write_text  # a full disk: one line, no half a file

        atomic_write_text(Path(args.out), out.to_csv(index=False))
        print(f"wrote {len(out)} predictions to {args.out}", file=sys.stderr)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _explain(args) -> int:
    from automl.errors import ConfigError
    from automl.options import check_encoding, check_run_dir

    encoding = check_encoding(args.encoding)
    if args.model == "compact":
        raise ConfigError("--model compact: explanations are of the run's final model (the "
                          "ensemble); the compact model is an ONNX graph with no Python form "
                          "to explain")
    if args.target_class is not None and not args.target_class.strip():
        raise ConfigError("--class is empty; give a class label, or leave it out")
    _checked_paths(args)
    if not (Path(args.run_dir) / "model" / "predictor.joblib").is_file():
        check_run_dir(args.run_dir, "explain")  # no such folder, or not a run folder
    from automl.serving.explain import load_explainer

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explainer = load_explainer(Path(args.run_dir), args.model)  # "holds no finished model"
        from automl.data.ingest import read_table

        frame = read_table(args.data, encoding=encoding, allow_no_rows=True)
        table = explainer.explain(frame).frame(args.target_class)
    show_notices(caught)
    if args.out is None:
        table.to_csv(sys.stdout, index=False)
        return 0
    from automl.atomic import atomic_write_bytes, atomic_write_text

    if Path(args.out).suffix.lower() in (".parquet", ".pq"):
        atomic_write_bytes(Path(args.out), table.to_parquet(index=False))
    else:
        atomic_write_text(Path(args.out), table.to_csv(index=False))
    print(f"wrote {len(table)} explanations to {args.out}", file=sys.stderr)
    return 0


def _no_output(schema):
    """The model's output for no rows: no values, or no rows of one column per class."""
    import numpy as np

    return np.empty(0) if schema.classes is None else np.empty((0, len(schema.classes)))
