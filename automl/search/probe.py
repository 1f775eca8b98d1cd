"""Look at a Ray cluster before joining it, in a process of its own.

`ray.init(address=...)` against a cluster it cannot join retries for 20 s and writes a line
from Ray's C++ client to stderr every second (an unauthenticated driver, a version
mismatch), then raises an error that names none of that. So the driver first runs this
module as a child process (`python -m automl.search.probe ADDRESS`): it asks the cluster's
GCS once, with its own short timeout, whatever Ray's client logs is swallowed with the
child's stderr, and it prints one JSON object on stdout:

    {"ok": true, "address": "10.0.0.5:6379", "auth": "token" | "off",
     "ray_version": "2.60.0", "python_version": "3.11.7", "nodes": [{"id", "cpus", "memory"}]}
    {"ok": false, "why": "auth_missing" | "auth_refused" | "no_cluster" | "unreachable",
     "detail": "..."}

Token authentication (Ray 2.60): a cluster made by `ray start --head` where a token exists
(`~/.ray/auth_token`, written by a first local `ray.init`) refuses a driver without
`RAY_AUTH_MODE=token` and the token. Ray's own driver never turns token mode on for an
explicit address, so the probe asks first without a token (whatever RAY_AUTH_MODE says),
then, where the cluster refuses that and a token is at hand (`RAY_AUTH_TOKEN`,
`RAY_AUTH_TOKEN_PATH`, `~/.ray/auth_token`), with it. The driver then joins in the mode
that worked (`automl.search.cluster`). A driver in token mode against a cluster without it
would be refused by the cluster's own calls back to the driver, so the mode must match the
cluster's, not merely work for the first call.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

AUTH_MODE = "RAY_AUTH_MODE"
# seconds for the one GCS call; the child gives up before the driver's own timeout
GCS_TIMEOUT_SECONDS = 4


def token_sources() -> list[str]:
    """Where a token for a cluster is found, in Ray's order: what this process has."""
    found = []
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        found.append("RAY_AUTH_TOKEN")
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path and Path(path).is_file():
        found.append(f"RAY_AUTH_TOKEN_PATH ({path})")
    default = Path.home() / ".ray" / "auth_token"
    if default.is_file():
        found.append(str(default))
    return found


def set_auth_mode(mode: str) -> None:
    """Token authentication on ("token") or off ("disabled") for this process and the
    processes it starts, before Ray connects anywhere (Ray reads it into its config)."""
    from ray._raylet import AuthenticationTokenLoader, Config

    os.environ[AUTH_MODE] = mode
    Config.initialize("")  # Ray's config caches the mode: read it again
    AuthenticationTokenLoader.instance().reset_cache()


def look(address: str) -> dict:
    """What the cluster at `address` says to this process (see the module's doc)."""
    os.environ.setdefault("RAY_gcs_rpc_server_connect_timeout_s", str(GCS_TIMEOUT_SECONDS))
    try:
        address = _resolve(address)
    except ConnectionError as err:
        return {"ok": False, "why": "no_cluster", "detail": str(err).splitlines()[0]}
    from ray.exceptions import AuthenticationError

    # Not RAY_AUTH_MODE as this process has it: only the cluster's own mode works (see above)
    modes = ["disabled"] + (["token"] if token_sources() else [])
    refused = None
    for mode in modes:
        set_auth_mode(mode)
        try:
            return _describe(address, auth="token" if mode == "token" else "off")
        except AuthenticationError as err:
            refused = mode, err
        except Exception as err:  # noqa: BLE001 - reported to the driver, which words it
            return {"ok": False, "why": "unreachable", "detail": _first_line(err)}
    mode = refused[0]
    why = "auth_refused" if mode == "token" else "auth_missing"
    return {"ok": False, "why": why, "detail": _first_line(refused[1]),
            "tokens": token_sources()}


def look_client(address: str) -> dict:
    """The same for a Ray Client server (ray://HOST:PORT), asked for a PING: the auth mode
    that works, or why none does. A client only calls the server, never the reverse, so
    token mode works against a server without authentication too."""
    import grpc
    from ray._private.grpc_utils import init_grpc_channel
    from ray.core.generated import ray_client_pb2, ray_client_pb2_grpc

    ping = ray_client_pb2.ClusterInfoRequest(type=ray_client_pb2.ClusterInfoType.PING)
    refused = None
    for mode in ["disabled"] + (["token"] if token_sources() else []):
        set_auth_mode(mode)
        channel = init_grpc_channel(address.split("://", 1)[1], asynchronous=False)
        try:
            ray_client_pb2_grpc.RayletDriverStub(channel).ClusterInfo(ping, timeout=GCS_TIMEOUT_SECONDS)
            return {"ok": True, "address": address, "auth": "token" if mode == "token" else "off"}
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.UNAUTHENTICATED:
                return {"ok": False, "why": "unreachable", "detail": err.details() or str(err.code())}
            refused = mode
        finally:
            channel.close()
    return {"ok": False, "why": "auth_refused" if refused == "token" else "auth_missing",
            "detail": "unauthenticated", "tokens": token_sources()}


def _resolve(address: str) -> str:
    """HOST:PORT of the cluster: `auto` is the one `ray start` last started on this machine."""
    if address != "auto":
        return address
    from ray._private.services import canonicalize_bootstrap_address_or_die

    return canonicalize_bootstrap_address_or_die("auto")


def _describe(address: str, auth: str) -> dict:
    from ray._common.usage.usage_lib import get_cluster_metadata
    from ray._raylet import GcsClient

    client = GcsClient(address=address)
    metadata = get_cluster_metadata(client) or {}
    nodes = [{"id": info.node_id.hex(), "cpus": info.resources_total.get("CPU", 0.0),
              "memory": info.resources_total.get("memory", 0.0)}
             for info in client.get_all_node_info(timeout=GCS_TIMEOUT_SECONDS).values()
             if info.state == 0]  # ALIVE
    return {"ok": True, "address": address, "auth": auth,
            "ray_version": metadata.get("ray_version"),
            "python_version": metadata.get("python_version"), "nodes": nodes}


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:300]


if __name__ == "__main__":
    where = sys.argv[1]
    print(json.dumps(look_client(where) if where.startswith("ray://") else look(where)))
