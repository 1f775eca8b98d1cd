"""How fast `automl serve` answers: the real command in its own process, single-row JSON
requests over keep-alive connections from 1 and more client threads, and beside it the
same rows through the Python API in this process (`model.predict(dict)`).

    python -m automl.bench.serve_load RUN_DIR DATA [--model compact] [--requests 1000]
        [--clients 1,4]

Prints, per client count, the p50 and p99 latency of a request as the client sees it and
the requests answered per second. DATA's first 500 rows are sent in turn.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from automl.errors import AutoMLError
from automl.serving.onnx_predictor import one_row_latency
from automl.serving.web import served_model


def json_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows as a client writes them: dates as ISO text, missing values as null."""
    text = frame.copy()
    for name in text.columns:
        if pd.api.types.is_datetime64_any_dtype(text[name]):
            text[name] = text[name].dt.strftime("%Y-%m-%dT%H:%M:%S")
    text = text.astype(object).where(text.notna(), None)
    return text.to_dict(orient="records")


def start_server(run_dir: Path, model: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    automl = str(Path(sys.executable).with_name("automl"))
    process = subprocess.Popen([automl, "serve", str(run_dir), "--model", model, "--port", str(port)],
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(300):
        try:
            if requests.get(url + "/health", timeout=1).ok:
                return process, url
        except requests.RequestException:  # not up, or too busy starting to answer
            time.sleep(0.2)
    process.kill()
    raise SystemExit("automl serve did not come up within 60 s")


def load(url: str, rows: list[dict], requests_total: int, clients: int) -> dict:
    """`requests_total` single-row POSTs shared among `clients` threads, each with its own
    keep-alive session: latency per request (ms) and requests per second overall."""
    import requests

    latencies: list[float] = []
    lock = threading.Lock()

    def client(share: int, offset: int) -> None:
        http, mine = requests.Session(), []
        for i in range(share):
            began = time.perf_counter()
            answer = http.post(url + "/predict", json=rows[(offset + i) % len(rows)], timeout=10)
            mine.append((time.perf_counter() - began) * 1e3)
            answer.raise_for_status()
        with lock:
            latencies.extend(mine)

    for row in rows[:20]:  # warm-up: first calls allocate
        requests.post(url + "/predict", json=row, timeout=10)
    threads = [threading.Thread(target=client, args=(requests_total // clients, k * 997))
               for k in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"clients": clients, "requests": len(latencies),
            "p50_ms": statistics.median(latencies),
            "p99_ms": float(np.percentile(latencies, 99)),
            "per_second": len(latencies) / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m automl.bench.serve_load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("data", help="a table of the run's columns (CSV or Parquet)")
    parser.add_argument("--model", choices=["ensemble", "compact"], default="ensemble")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", default="1,4", help="client thread counts, e.g. 1,4")
    args = parser.parse_args(argv)
    from automl.data.ingest import read_table

    try:
        predictor = served_model(args.run_dir, args.model)
        frame = read_table(args.data).head(500)
    except AutoMLError as err:
        parser.error(str(err))
    rows = json_rows(frame[[name for name, _, _ in predictor.columns]])
    in_process = one_row_latency(predictor, rows, calls=args.requests)
    print(f"{predictor.path}: in process, one row from a dict: {in_process['python_ms']:.2f} ms "
          f"median ({in_process['onnxruntime_ms']:.2f} ms in onnxruntime)")
    process, url = start_server(args.run_dir, args.model)
    try:
        for clients in (int(c) for c in args.clients.split(",")):
            figures = load(url, rows, args.requests, clients)
            print(f"over HTTP, {figures['clients']} client(s), {figures['requests']} requests: "
                  f"p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
                  f"{figures['per_second']:.0f} requests/s")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
