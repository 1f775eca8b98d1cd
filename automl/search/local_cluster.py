"""A real Ray cluster on this host: a head and worker nodes as separate `ray start` processes.

What the cluster tests and the scaling benchmark stand on. Each node is one
`ray start --block` process in a session of its own, with its own ports; the cluster is up
when the head's GCS lists every node alive. It stops exactly the processes it started:
each node's process and what it spawned (GCS server, raylet, agents, workers), known by
pid and start time, never `ray stop` (which stops every Ray on the host).

Token authentication is on by default, as Ray 2.60 sets it where a token file exists: the
head finds the token (RAY_AUTH_TOKEN_PATH) and turns it on by itself; worker nodes, which
Ray never turns it on for, are started with RAY_AUTH_MODE=token, as a user must start them.

    with LocalCluster(workers=[1, 1], folder=tmp) as cluster:
        subprocess.run(["automl", "fit", ..., "--address", cluster.address],
                       env=cluster.driver_env())
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START_TIMEOUT_SECONDS = 90.0
START_ATTEMPTS = 3  # a node that exits while starting is started again, on other ports
STOP_GRACE_SECONDS = 5.0
NODE_PORTS = ("node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")
AUTH_VARIABLES = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS")


class LocalCluster:
    def __init__(self, workers: list[float] = (1, 1), head_cpus: float = 1,
                 folder: str | Path | None = None, token: bool = True,
                 dashboard: bool = False, ray: str | None = None,
                 env: dict[str, str] | None = None, worker_memory: int | None = None):
        """`workers`: one CPU count per worker node; `folder`: for the token and each node's
        output (a temporary one when None); `dashboard`: the head serves the dashboard and
        the job API (needs ray[default]); `ray`: the `ray` command (this Python's by
        default); `env`: more environment for the nodes' processes (their workers');
        `worker_memory`: bytes of memory each worker node offers its tasks (Ray's default:
        most of what the host has free)."""
        self.worker_cpus, self.head_cpus = list(workers), head_cpus
        self.worker_memory = worker_memory
        self.env = dict(env or {})
        self.folder = Path(folder or tempfile.mkdtemp(prefix="automl-cluster-"))
        self.token_path = self.folder / "auth_token" if token else None
        self.dashboard = dashboard
        self.ray = ray or str(Path(sys.executable).with_name("ray"))
        # Ray's unix sockets live under its temp dir, whose paths must stay short (108 bytes)
        self.temp_dir = Path(tempfile.mkdtemp(prefix="automl-ray-", dir="/tmp"))
        # Every port chosen here, none twice: Ray's defaults are fixed (the agents') or
        # picked by each `ray start` alone, and two nodes starting together on one host
        # could take the same one ("bind: Address already in use").
        self._given_ports: set[int] = set()
        self.port, self.dashboard_port, self.client_port = self._draw_ports(3)
        self.nodes: list[subprocess.Popen] = []
        self._pids: dict[int, float] = {}  # every process of ours seen: pid -> start time
        self._logs: dict[int, Path] = {}  # each node's output, by its process's pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def client_address(self) -> str:
        return f"ray://127.0.0.1:{self.client_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    def driver_env(self, **extra: str) -> dict[str, str]:
        """This process's environment for a driver of this cluster: the token's file, and
        none of the Ray settings this process may carry (a local Ray it started sets some)."""
        env = {k: v for k, v in os.environ.items() if k not in AUTH_VARIABLES}
        if self.token_path is not None:
            env["RAY_AUTH_TOKEN_PATH"] = str(self.token_path)
        return {**env, **extra}

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "LocalCluster":
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.token_path is not None:
            self.token_path.write_text(secrets.token_hex(32))
        try:
            self._start_until_alive(self._head_args, "head", head=True)
            for cpus in self.worker_cpus:
                self.add_worker(cpus, self.worker_memory)
        except BaseException:
            self.stop()
            raise
        return self

    def add_worker(self, cpus: float, memory: int | None = None) -> None:
        """One more worker node of `cpus` CPUs (and `memory` bytes for its tasks), once it
        is alive. One at a time: nodes of one host share the head's session folder, and two
        raylets starting at once took the same socket name there (one died of it)."""
        args = ["--address", self.address, "--num-cpus", f"{cpus:g}"]
        if memory:
            args += ["--memory", str(int(memory))]
        self._start_until_alive(lambda: args, f"worker{len(self.nodes)}")

    def _start_until_alive(self, make_args, name: str, head: bool = False) -> None:
        """Start a node and wait until the GCS lists it; a node that exits on the way is
        started again on fresh ports (what CI once met: a head exited at start, most
        likely a port of its drawn a moment before taken by another process meanwhile)."""
        for attempt in range(1, START_ATTEMPTS + 1):
            if head and attempt > 1:
                self.port, self.dashboard_port, self.client_port = self._draw_ports(3)
            self.nodes.append(self._start_node(make_args(), name, worker=not head))
            try:
                return self._wait_for_nodes(len(self.nodes))
            except NodeExited as exited:
                failed = self.nodes.pop()
                self._kill_tree(failed)
                if attempt == START_ATTEMPTS:
                    raise
                print(f"local cluster: {exited}; starting it again on other ports",
                      file=sys.stderr, flush=True)

    def _head_args(self) -> list[str]:
        args = ["--head", "--port", str(self.port), "--num-cpus", f"{self.head_cpus:g}",
                "--temp-dir", str(self.temp_dir)]
        if importlib.util.find_spec("grpc") is not None:  # Ray Client needs ray[client]
            args += ["--ray-client-server-port", str(self.client_port)]
        if self.dashboard:
            return args + ["--include-dashboard=true", "--dashboard-host", "127.0.0.1",
                           "--dashboard-port", str(self.dashboard_port)]
        return args + ["--include-dashboard=false"]

    def _draw_ports(self, count: int) -> list[int]:
        ports = _free_ports(count, avoid=self._given_ports)
        self._given_ports.update(ports)
        return ports

    def _start_node(self, args: list[str], name: str, worker: bool = False) -> subprocess.Popen:
        ports = dict(zip(NODE_PORTS, self._draw_ports(len(NODE_PORTS))))
        # a job's entrypoint (`ray job submit -- automl fit ...`) runs with the head's PATH
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = self.driver_env(RAY_AUTH_MODE="token" if self.token_path else "disabled", PATH=path,
                              **self.env)
        if not worker and self.token_path is not None:
            env.pop("RAY_AUTH_MODE")  # the head turns it on by itself: it finds the token
        log_path = self.folder / f"{name}.log"
        log = open(log_path, "w")
        process = subprocess.Popen(
            [self.ray, "start", "--block", *args, "--disable-usage-stats",
             *(f"--{name}={port}" for name, port in ports.items())],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        self._remember(process.pid)
        self._logs[process.pid] = log_path
        return process

    def _wait_for_nodes(self, count: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            for process in self.nodes:
                if process.poll() is not None:
                    raise NodeExited(process, self._logs[process.pid])
            alive = len(self.describe().get("nodes", [])) if _listening(self.port) else 0
            self._remember_children()
            if alive >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{alive} of {count} nodes alive after "
                                   f"{START_TIMEOUT_SECONDS:g}s; see {self.folder}/*.log")
            time.sleep(0.5)

    def describe(self) -> dict:
        """What the cluster's GCS says (automl.search.probe): its nodes, auth, versions."""
        done = subprocess.run([sys.executable, "-m", "automl.search.probe", self.address],
                              capture_output=True, text=True, env=self.driver_env(), timeout=60)
        lines = done.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}

    def raylet_pid(self, node: int) -> int:
        """The raylet of node `node` (0: the head, 1...: the workers)."""
        for pid in _descendants(self.nodes[node].pid):
            if _name(pid) == "raylet":
                return pid
        raise LookupError(f"node {node} has no raylet running")

    def node_pids(self, node: int) -> list[int]:
        return [self.nodes[node].pid, *_descendants(self.nodes[node].pid)]

    def _kill_tree(self, process: subprocess.Popen) -> None:
        """SIGKILL to a node's process and what it spawned (all remembered while it ran)."""
        self._remember_children()
        for pid in [process.pid, *_descendants(process.pid)]:
            if self._is_ours(pid):
                _signal(pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        """SIGTERM to every process of ours, SIGKILL to those left after a grace period."""
        self._remember_children()
        ours = [pid for pid in self._pids if self._is_ours(pid)]
        for pid in ours:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while any(self._is_ours(pid) for pid in ours) and time.monotonic() < deadline:
            time.sleep(0.2)
        self._remember_children()
        for pid in list(self._pids):
            if self._is_ours(pid):
                _signal(pid, signal.SIGKILL)
        for process in self.nodes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if os.environ.get("AUTOML_KEEP_CLUSTER_LOGS") is None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def _remember(self, pid: int) -> None:
        started = _start_time(pid)
        if started is not None:
            self._pids.setdefault(pid, started)

    def _remember_children(self) -> None:
        for process in self.nodes:
            for pid in _descendants(process.pid):
                self._remember(pid)

    def _is_ours(self, pid: int) -> bool:
        """Still the process we started (a pid the system gave to another is not), alive."""
        started = _start_time(pid)
        return started is not None and started == self._pids.get(pid) and _state(pid) != "Z"


class NodeExited(RuntimeError):
    """A node's `ray start` process ended while the cluster waited for it; says the end
    of its log, which a CI run keeps only in what it printed."""

    def __init__(self, process: subprocess.Popen, log: Path, lines: int = 12):
        try:
            tail = log.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            tail = []
        said = "".join(f"\n    {line}" for line in tail)
        super().__init__(f"a node of the local cluster exited ({process.returncode}); "
                         f"the end of {log}:{said}")


def _free_ports(count: int, avoid: set[int] = frozenset()) -> list[int]:
    """`count` ports free now, none of `avoid` (each bound at once, so all differ)."""
    sockets, ports = [], []
    while len(ports) < count:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        if sock.getsockname()[1] not in avoid:
            ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _start_time(pid: int) -> float | None:
    fields = _stat(pid)
    return None if fields is None else float(fields[19])  # starttime, in clock ticks


def _state(pid: int) -> str | None:
    fields = _stat(pid)
    return None if fields is None else fields[0]


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _descendants(root: int) -> list[int]:
    """Every process below `root` now (children, theirs, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        fields = _stat(int(stat.parent.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
