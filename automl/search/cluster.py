"""Join an existing Ray cluster: `--address HOST:PORT`, `auto`, or `ray://HOST:PORT`.

Every way joining can fail ends in one `ConfigError` line that says what is wrong and how
to fix it, within seconds, with none of Ray's own log lines on the terminal: the cluster
is asked first by a child process (`automl.search.probe`), which also tells whether it
uses token authentication, so this driver joins in the same mode with the token it has.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time

import ray

from automl.errors import ConfigError, first_line
from automl.search import probe

PROBE_TIMEOUT_SECONDS = 15
FREE_CPU_WAIT_SECONDS = 5.0
WORKING_FOLDER_WAIT_SECONDS = 30.0  # a cluster whose CPUs are all taken may free one soon
CLIENT_PREFIX = "ray://"
TOKEN_HELP = ("pass the cluster's token (on the head: 'ray get-auth-token') as "
              "RAY_AUTH_TOKEN=<token>, or its file as RAY_AUTH_TOKEN_PATH=<file>, or copy it "
              "to ~/.ray/auth_token on this machine")


def join(address: str, worker_env: dict[str, str], common: dict) -> str:
    """Join the cluster at `address` (never start one); a line saying where this driver is."""
    if address.startswith(CLIENT_PREFIX):
        return _join_client(address, worker_env, common)
    _check_reachable(address)
    seen = _look(address)
    probe.set_auth_mode("token" if seen["auth"] == "token" else "disabled")
    folder = os.getcwd()
    try:  # the other nodes' workers get `worker_env` through the job's runtime env
        ray.init(address=seen["address"], runtime_env={"env_vars": worker_env}, **common)
    except Exception as err:  # what the probe did not foresee: ray raises several kinds
        raise ConfigError(_cannot(address, first_line(err) or type(err).__name__,
                                  "check that the head runs and this machine can reach it")) from None
    _settle_job_folder()
    _back_to(folder)
    _check_free_cpus(address)
    auth = ", token authentication" if seen["auth"] == "token" else ""
    return (f"joined the Ray cluster at {seen['address']} ({_count(len(seen['nodes']), 'node')}, "
            f"{_cpus():g} CPUs{auth}); this driver is on node {ray.get_runtime_context().get_node_id()[:12]}")


def _settle_job_folder() -> None:
    """Inside a job submitted with `--working-dir`, wait until its folder is unpacked
    anew (`_back_to`): that happens a moment after ray.init returns, and a task in the
    job's runtime env is set up only after it (seen on three fresh clusters of three; a
    second or two)."""
    job = json.loads(os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR") or "{}")
    if (job.get("runtime_env") or {}).get("working_dir"):
        ray.get(ray.remote(num_cpus=0)(_process_id).remote())


def _process_id() -> int:
    return os.getpid()


def _back_to(folder: str) -> None:
    """Back into `folder` (this process's working folder before it joined) if it was made
    anew meanwhile. The first job submitted to a fresh Ray 2.60 cluster
    (`ray job submit --working-dir ...`) sees its working folder deleted as its driver
    joins, and unpacked again at the same path a moment later; the process stays in the
    deleted one, where its relative paths (the table to read) find nothing."""
    deadline = time.monotonic() + WORKING_FOLDER_WAIT_SECONDS
    while not os.path.isdir(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        if os.path.isdir(folder) and not os.path.samefile(folder, "."):
            os.chdir(folder)
    except FileNotFoundError:  # "." itself is gone: the folder was made anew
        os.chdir(folder)


def _look(address: str) -> dict:
    """The probe's answer for a cluster it could talk to; a ConfigError for any other."""
    try:
        done = subprocess.run([sys.executable, "-m", "automl.search.probe", address],
                              capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS)
        seen = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        raise ConfigError(_cannot(address, f"its GCS did not answer in {PROBE_TIMEOUT_SECONDS}s",
                                  "check that HOST:PORT is the head's GCS port (ray start "
                                  "--head --port), not another service")) from None
    except (IndexError, json.JSONDecodeError):
        raise ConfigError(_cannot(address, f"the probe failed ({_last_line(done.stderr)})",
                                  "check this machine's Ray installation")) from None
    if not seen["ok"]:
        raise ConfigError(_refusal(address, seen))
    if "nodes" in seen:  # a GCS; a Ray Client server tells its versions at ray.init
        _check_versions(address, seen)
        _check_cpus(address, seen["nodes"])
    return seen


def _refusal(address: str, seen: dict) -> str:
    why = seen["why"]
    if why == "auth_missing":
        return _cannot(address, "it uses token authentication and no token was found here",
                       TOKEN_HELP)
    if why == "auth_refused":
        source = (seen.get("tokens") or ["RAY_AUTH_MODE=token without a token"])[0]
        mine = " (a local ray.init writes a token of its own there)" if source.endswith(
            "/.ray/auth_token") else ""
        return _cannot(address, f"it refused the token from {source}{mine}",
                       "that is not this cluster's token; " + TOKEN_HELP)
    if why == "no_cluster":
        return _cannot(address, "no cluster made by 'ray start' runs on this machine",
                       "start one with 'ray start --head', or give --address HOST:PORT")
    return _cannot(address, seen["detail"], "check that the head runs and this machine can "
                                            "reach its GCS port")


def _check_versions(address: str, seen: dict) -> None:
    """Ray refuses a driver whose Ray or Python differs from the cluster's (Python to the
    patch level); say so before ray.init retries and fails."""
    theirs = (seen.get("ray_version"), seen.get("python_version"))
    ours = (ray.__version__, platform.python_version())
    if None in theirs or theirs == ours:
        return
    raise ConfigError(_cannot(
        address, f"it runs Ray {theirs[0]} on Python {theirs[1]}, this driver Ray {ours[0]} "
                 f"on Python {ours[1]}",
        f"they must match: install ray=={theirs[0]} on Python {theirs[1]} here, or run the "
        "fit on the cluster itself (ray job submit -- automl fit ...)"))


def _check_cpus(address: str, nodes: list[dict]) -> None:
    if not any(node["cpus"] for node in nodes):
        raise ConfigError(_cannot(
            address, f"its {len(nodes)} node(s) have no CPU to run trials on",
            "start a worker node with CPUs (ray start --address HOST:PORT --num-cpus N), or "
            "the head without --num-cpus 0"))


def _check_free_cpus(address: str) -> None:
    """Trials would wait without a word on a cluster whose CPUs other jobs hold."""
    deadline = time.monotonic() + FREE_CPU_WAIT_SECONDS
    while ray.available_resources().get("CPU", 0) < 1:
        if time.monotonic() > deadline:
            total = _cpus()
            ray.shutdown()
            raise ConfigError(_cannot(
                address, f"none of its {total:g} CPUs is free: other jobs hold them all",
                "wait for them to end (ray status), or add a node (ray start --address "
                "HOST:PORT)"))
        time.sleep(0.25)


def _join_client(address: str, worker_env: dict[str, str], common: dict) -> str:
    """Ray Client (ray://HOST:PORT): the driver runs on the head, this process talks to it."""
    _check_reachable(address)
    seen = _look(address)
    probe.set_auth_mode("token" if seen["auth"] == "token" else "disabled")
    try:
        ray.init(address=address, runtime_env={"env_vars": worker_env},
                 logging_level=common["logging_level"], log_to_driver=False)
    except Exception as err:  # noqa: BLE001 - a version mismatch, mostly
        raise ConfigError(_cannot(address, first_line(err) or type(err).__name__,
                                  "install the cluster's Ray and Python versions here")) from None
    _check_free_cpus(address)
    auth = ", token authentication" if seen["auth"] == "token" else ""
    return (f"joined the Ray cluster at {address} through Ray Client ({_cpus():g} CPUs{auth}); "
            "the driver runs on its head")


def _check_reachable(address: str) -> None:
    """Fail in seconds, not minutes: ray.init retries an unreachable address for long."""
    host_port = address.split("://", 1)[-1]
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        return  # e.g. "auto": the probe resolves it
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise ConfigError(_cannot(
            address, f"nothing answers there ({err.strerror or err})",
            f"start one with 'ray start --head --port {port}' on {host}, or leave --address "
            "out to run locally")) from None


def _cannot(address: str, why: str, fix: str) -> str:
    return f"cannot join the Ray cluster at {address!r}: {why}; {fix}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def _cpus() -> float:
    return float(ray.cluster_resources().get("CPU", 0))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
