"""model/ensemble.onnx: the run's final model as one ONNX file, written with every run.

The file is `ensemble_graph` (raw columns in, the compact model's contract), checked
after writing against the Python predictor on stored model-ready rows fed as raw columns
(`check_parity`: a mismatch beyond float32 rounding fails the run, as compact.onnx's
does), and timed as it is served: one row in onnxruntime alone, and one row as a dict
through `OnnxPredictor` (what `AutoML.load(run).predict` runs). A graph past protobuf's
2 GB goes out with its tensors in a side file (ensemble.onnx.data).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import onnx
import pandas as pd

from automl.atomic import atomic_write_bytes
from automl.onnx.ensemble_graph import EXTERNAL_DATA_AT, ensemble_graph
from automl.onnx.member_graphs import ConversionError
from automl.onnx.parity import ParityError, check_parity
from automl.serving.inputs import frame_feeds, raw_rows
from automl.serving.load import ENSEMBLE_FILE
from automl.serving.onnx_predictor import OnnxPredictor, one_row_latency

PARITY_ROWS = 2000  # stored rows checked; enough to meet every member's branches
# one-row timing: a median of 60 calls after 60 warm-up calls, steady enough; 200 cost
# 1.4 s more on a 19-member ensemble of 5 ms a row (export 14.5 -> 13.1 s), and a run
# ends past its budget by its export
LATENCY_CALLS, LATENCY_ROWS = 60, 50


def export_run_model(run_dir: Path, predictor, features: pd.DataFrame, log) -> dict:
    """`write_ensemble_model` at the end of a run, its line in the run's `log`. A member
    with no converter, or a file that predicts otherwise than the predictor (ParityError:
    a LightGBM threshold that float32 rounds across a row's value), fails the export, not
    the run: the file is removed, the pickle serves, and the line says why."""
    try:
        served = write_ensemble_model(run_dir, predictor, features)
    except (ConversionError, ParityError) as err:
        (Path(run_dir) / ENSEMBLE_FILE).unlink(missing_ok=True)  # this one, or a resumed run's
        _side_file(Path(run_dir) / ENSEMBLE_FILE).unlink(missing_ok=True)
        log(f"model: {ENSEMBLE_FILE} not written ({err}); predict serves the pickle")
        return {"format": "pickle", "file": "model/predictor.joblib", "reason": str(err)}
    log(f"model: wrote {ENSEMBLE_FILE} ({served['size_bytes'] / 1024:,.0f} KB, one row "
        f"{served['one_row_ms']:.3f} ms in onnxruntime, {served['python_one_row_ms']:.3f} ms "
        f"from Python; parity {served['parity_max_diff']:.2g} on {served['parity_rows']} rows)")
    return served


def write_ensemble_model(run_dir: Path, predictor, features: pd.DataFrame,
                         tolerance: float = 1e-4) -> dict:
    """Write `predictor` as <run_dir>/model/ensemble.onnx, check it on the model-ready
    `features` rows and time it; the figures for metrics.json. ConversionError where a
    member has no converter (the caller keeps the pickle)."""
    started = time.perf_counter()
    path = Path(run_dir) / ENSEMBLE_FILE
    external = _save(ensemble_graph(predictor), path)
    rows = raw_rows(features.head(PARITY_ROWS), predictor.schema)
    expected = predictor.predict_features(features.head(PARITY_ROWS))
    # one session, as served (one thread), for both: an 89 MB graph's took 3.7 s to make
    served = OnnxPredictor(path)
    parity = check_parity(served.model, expected, frame_feeds(rows, predictor.schema), tolerance)
    latency = one_row_latency(served, rows.head(LATENCY_ROWS).to_dict("records"), LATENCY_CALLS)
    return {"format": "onnx", "file": str(ENSEMBLE_FILE),
            "size_bytes": path.stat().st_size + (_side_file(path).stat().st_size if external else 0),
            "external_data": external, "one_row_ms": round(latency["onnxruntime_ms"], 4),
            "python_one_row_ms": round(latency["python_ms"], 4),
            "parity_max_diff": parity, "parity_rows": len(rows),
            "timing": {"calls": latency["calls"], "onnxruntime_threads": 1,
                       "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)},
            "export_seconds": round(time.perf_counter() - started, 2)}


def _save(model: onnx.ModelProto, path: Path) -> bool:
    """Write `model` to `path`; True where its tensors went to the side file."""
    _side_file(path).unlink(missing_ok=True)  # a resumed run's earlier file
    if model.ByteSize() < EXTERNAL_DATA_AT:
        atomic_write_bytes(path, model.SerializeToString())
        return False
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location=_side_file(path).name, convert_attribute=True)
    size = path.stat().st_size
    if size >= 2**31:
        path.unlink()
        raise ConversionError(f"the ensemble's graph is {size / 2**30:.1f} GB "
                              "even with its tensors in a side file, past ONNX's 2 GB; fit "
                              "smaller forests (fewer or shallower trees) to get one")
    return True


def _side_file(path: Path) -> Path:
    return path.with_name(path.name + ".data")
