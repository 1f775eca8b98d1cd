"""`automl serve`: a run's exported model answering over HTTP, onnxruntime underneath and
no pickle (only model/ensemble.onnx or compact/compact.onnx serve).

    POST /predict   one row as a JSON object   -> {"prediction": ..., "probabilities": {...}}
                    a list of such rows         -> {"predictions": [...], "probabilities": [...]}
    GET  /schema    the columns the model takes, from the file's own metadata
    GET  /health    {"status": "ok", "model": ..., "task": ...}

Values are read as `automl predict` reads a row given as a dict (`inputs.row_feed`):
numbers, category text, dates as ISO text; null or a missing-value word is missing.
Probabilities come for classifiers only, one per class, keyed by the class as text. A
column the model does not read is listed under "ignored_columns" (a typo shows there). A
bad request gets HTTP 400 and {"error": "..."} naming the column (and the row in a list).

Starlette routes and uvicorn serves (the `serve` extra). One process, one onnxruntime
thread: a row takes about as long as the model itself plus the JSON, and the handlers run
on the event loop, since a thread hop would cost more than the model.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

from automl.errors import ConfigError, PredictError, RunError
from automl.metrics import REGRESSION
from automl.serving.inputs import input_contract, rows_feed
from automl.serving.load import ENSEMBLE_FILE, load_model
from automl.serving.onnx_predictor import OnnxPredictor

SERVED_MODELS = ("ensemble", "compact")
ROUTES = "POST /predict, GET /schema, GET /health"


def served_model(run_dir: str | Path, model: str = "ensemble") -> OnnxPredictor:
    """The ONNX model of `run_dir` that `serve` answers with; a RunError where the run
    folder has none (serving never falls back to the pickle)."""
    run_dir = Path(run_dir)
    if model not in SERVED_MODELS:
        raise ConfigError(f"--model must be ensemble or compact (the ONNX files); got {model!r}")
    if not run_dir.is_dir():
        raise RunError(f"{run_dir} is not a run folder (no such folder); give the folder "
                       "'automl fit' printed")
    if model == "ensemble" and not (run_dir / ENSEMBLE_FILE).is_file():
        raise RunError(f"{run_dir} holds no {ENSEMBLE_FILE} (its export failed, or an older "
                       "automl wrote it), and serving unpickles nothing: serve its compact "
                       "model with --model compact, or refit the run")
    return load_model(run_dir, model)


def make_app(predictor: OnnxPredictor):
    """The Starlette application answering for `predictor`."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    schema = predictor.schema
    described = {"model": str(predictor.path), "target": schema.target, "task": schema.task,
                 "classes": schema.classes, "columns": input_contract(schema)}

    async def predict(request):
        try:
            body = json.loads(await request.body())
        except ValueError as err:
            return _bad(f"the body is not JSON ({err}); send one row as an object "
                        '{"column": value, ...} or a list of them')
        if isinstance(body, list) and all(isinstance(row, dict) for row in body):
            rows, one = body, False
        elif isinstance(body, dict):
            rows, one = [body], True
        else:
            return _bad("send one row as a JSON object {\"column\": value, ...} or a list of "
                        f"them; got a JSON {type(body).__name__}")
        try:
            return JSONResponse(answer(predictor, rows, one))
        except PredictError as err:
            return _bad(str(err).removeprefix("row 0: ") if one else str(err))

    async def health(request):
        return JSONResponse({"status": "ok", "model": described["model"], "task": schema.task})

    async def describe(request):
        return JSONResponse(described)

    return Starlette(routes=[Route("/predict", predict, methods=["POST"]),
                             Route("/schema", describe), Route("/health", health)])


def answer(predictor: OnnxPredictor, rows: list[dict], one: bool) -> dict:
    """The JSON answer for `rows`: their predictions and, for a classifier, probabilities."""
    raw = predictor.predict_feed(rows_feed(rows, predictor.columns))
    predictions = predictor.labels(raw).tolist()
    out: dict = {"prediction": predictions[0]} if one else {"predictions": predictions}
    if predictor.schema.task != REGRESSION:
        classes = [str(c) for c in predictor.schema.classes]
        probabilities = [dict(zip(classes, row)) for row in raw.tolist()]
        out["probabilities"] = probabilities[0] if one else probabilities
    ignored = sorted({str(name) for row in rows for name in row} - predictor.schema_names)
    if ignored:
        out["ignored_columns"] = ignored
    return out


def _bad(message: str):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=400)


def check_port(host: str, port: int) -> None:
    """A ConfigError now, rather than uvicorn's log line later, where `port` is taken."""
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535; got {port}")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as err:
            raise ConfigError(f"--host {host!r} is not an address of this machine "
                              f"({err.strerror}); give 127.0.0.1, 0.0.0.0 or one of its "
                              "addresses") from None
        except OSError as err:
            raise ConfigError(f"cannot listen on {host}:{port} ({err.strerror}); choose another "
                              "--port, or stop what holds it") from None


def serve(run_dir: str | Path, model: str = "ensemble", host: str = "127.0.0.1",
          port: int = 8000, log=print) -> None:
    """Answer for `run_dir`'s `model` at http://host:port until interrupted (Ctrl-C)."""
    import uvicorn

    check_port(host, port)
    predictor = served_model(run_dir, model)
    log(f"serving {predictor.path} at http://{host}:{port} ({ROUTES}); Ctrl-C stops")
    uvicorn.run(make_app(predictor), host=host, port=port, log_level="warning",
                access_log=False)
