"""A driver process for the tests that strike a run from outside: `automl fit` in a process
of its own, its log read as it comes, so a test can wait for a line and then kill it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import REPO


class Driver:
    """`automl fit` in a process of its own (its own session, so that what it starts can be
    found), its log read line by line as it comes, so a test can wait for a line."""

    def __init__(self, *args: str, register: dict[str, str] | None = None, env: dict | None = None):
        # Ctrl-C as at a terminal: a child inherits an ignored SIGINT, and an xdist worker had
        # it ignored by an earlier test's library once (the first Ctrl-C still ended the
        # search, Tune's own handler being in place; the second was ignored)
        code = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); " \
            "from automl.models.registry import register; " + "".join(
            f"register({k!r}, {v!r}); " for k, v in (register or {}).items()) + \
            "from automl.cli import main; sys.exit(main(sys.argv[1:]))"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, "fit", *args], cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})})
        self.lines: list[str] = []
        self._ended = False  # the log is read to its end
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, timeout: float = 240) -> re.Match:
        """The first log line matching `pattern`; fails if the driver ends first."""
        deadline, search = time.monotonic() + timeout, re.compile(pattern).search
        with self._changed:
            while True:
                found = next((m for m in map(search, self.lines) if m), None)
                if found:
                    return found
                assert not self._ended, f"the driver ended before {pattern!r}:\n{self.log}"
                assert time.monotonic() < deadline, f"no {pattern!r} in {timeout}s:\n{self.log}"
                self._changed.wait(0.2)

    def wait_until(self, done, timeout: float = 240, what: str = "the moment"):
        """Polls `done()` until it gives something true (a file appeared, a marker)."""
        deadline = time.monotonic() + timeout
        while True:
            found = done()
            if found:
                return found
            assert self.process.poll() is None, f"the driver ended before {what}:\n{self.log}"
            assert time.monotonic() < deadline, f"{what} did not come in {timeout}s:\n{self.log}"
            time.sleep(0.1)

    def kill(self) -> list[int]:
        """SIGKILL to the driver alone, as the out-of-memory killer sends it; then the pids
        of its session still alive 10 s later (a local Ray that outlived its driver),
        which are killed so the next test has the machine."""
        self.process.kill()
        self.process.wait()
        deadline, left = time.monotonic() + 10, _session_pids(self.process.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.2)
            left = _session_pids(self.process.pid)
        for pid in left:
            _kill_quietly(pid)
        return left

    def finish(self, timeout: float = 300) -> int:
        code = self.process.wait(timeout=timeout)
        time.sleep(0.1)  # the reader thread takes the last lines
        return code


def _session_pids(session: int) -> list[int]:
    """Processes of the session `session` leads (the driver's own, started with it)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":  # sid, and not a zombie
            pids.append(int(stat.parent.name))
    return pids


def _kill_quietly(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
