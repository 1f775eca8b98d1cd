"""`automl serve`: a fitted run's model over HTTP (automl.serving.web).
"""

from __future__ import annotations

import sys


def add(commands) -> None:
    serve = commands.add_parser(
        "serve", help="answer predictions over HTTP",
        description="Serve the model in RUN_DIR over HTTP: POST one row as a JSON object (or "
                    "a list of them) to /predict; GET /schema for the columns it takes, "
                    "/health to check it is up. onnxruntime underneath, nothing unpickled. "
                    "Needs the serve extra: pip install 'automl[serve]'.",
        epilog="example: automl serve runs/20260101-120000-adult --port 8000, then "
               "curl -d '{\"age\": 39, \"workclass\": \"State-gov\", ...}' "
               "localhost:8000/predict with every column the model takes (curl "
               "localhost:8000/schema lists them; null for a missing value)")
    serve.add_argument("run_dir", metavar="RUN_DIR")
    serve.add_argument("--model", choices=["ensemble", "compact"], default="ensemble",
                       help="model/ensemble.onnx (the default) or compact/compact.onnx")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1, this machine only; "
                            "0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.set_defaults(handler=_serve)


def _serve(args) -> int:
    import importlib.util

    from automl.errors import ConfigError

    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"automl serve needs {' and '.join(missing)}: "
                          "pip install 'automl[serve]'")
    from automl.serving.web import serve

    serve(args.run_dir, args.model, args.host, args.port,
          log=lambda line: print(line, file=sys.stderr, flush=True))
    return 0
