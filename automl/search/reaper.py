"""Ray's processes die with a driver killed by SIGKILL, all of them.

A local Ray fate-shares with the driver that started it: its GCS server, raylet and
workers go when the driver goes. Not all of it: Ray 2.60's dashboard and runtime-env
agents notice that their raylet died and mean to exit, but hang (their `sys.exit` runs in
an asyncio task while gRPC threads live on), and stay forever, one pair per killed run
(tests/integration/test_faults.py saw them). So the driver starts this reaper beside its
local Ray: a small process that reads a pipe only the driver holds; at its end (the
driver exited, or was killed) it gives Ray's own shutdown a moment, then kills the Ray
processes the driver had started that are still there. It knows them by pid and start
time, so a pid the system has since given to another process is left alone.

Linux only (it reads /proc); elsewhere it is not started.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

GRACE_SECONDS = 2.0  # Ray's own shutdown, on a driver's normal exit, comes first
_pipe: int | None = None  # the driver's end: never closed, so it closes when the driver ends


def watch_this_driver() -> None:
    """Start the reaper for this process (once), if /proc is there to read."""
    global _pipe
    if _pipe is not None or not Path("/proc/self/stat").exists():
        return
    read_end, _pipe = os.pipe()  # not inherited by Ray's processes (PEP 446): EOF means us
    subprocess.Popen([sys.executable, "-m", "automl.search.reaper", str(os.getpid())],
                     stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)  # a Ctrl-C to the driver's group must not stop it
    os.close(read_end)


def main(driver: int) -> None:
    ray_processes: dict[int, str] = {}  # pid -> start time, as /proc gives it
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        if ready and not os.read(sys.stdin.fileno(), 1):
            break  # the pipe closed: the driver is gone
        ray_processes.update(_ray_descendants(driver))
    time.sleep(GRACE_SECONDS)
    for pid, started in ray_processes.items():
        if _start_time(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass  # gone meanwhile


def _ray_descendants(root: int) -> dict[int, str]:
    """Ray's processes below `root` (its binaries, Python scripts and ray:: workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        started = _start_time(pid)
        if started is not None and _is_ray(pid) and pid != os.getpid():
            found[pid] = started
    return found


def _is_ray(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return command.startswith(b"ray::") or b"/site-packages/ray/" in command


def _start_time(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


if __name__ == "__main__":
    main(int(sys.argv[1]))
