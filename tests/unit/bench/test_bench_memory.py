"""The bench's peak memory counts the whole process tree: children hold memory too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from automl.bench import measure

# touches every page of 200 MB, so they are resident, then holds them
HOLD = ("import time; block = bytearray(200 * 1024 * 1024); block[::4096] = b'x' * (len(block) // 4096); "
        "print('ready', flush=True); time.sleep(30)")


def test_the_peak_includes_a_grandchild_holding_memory():
    script = (f"import subprocess, sys; g = subprocess.Popen([sys.executable, '-c', {HOLD!r}], "
              "stdout=subprocess.PIPE, text=True); print(g.stdout.readline().strip(), flush=True); "
              "g.wait()")
    before = measure.tree_memory_mb(os.getpid())
    with measure.TreeMemory(interval=0.05) as tree:
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.3)  # a few samples while the grandchild holds its block
        finally:
            for pid in measure._descendants(child.pid):
                os.kill(pid, signal.SIGKILL)
            child.kill()
            child.wait()
    assert tree.peak_mb > before + 190, (before, tree.peak_mb)


def test_no_process_is_no_memory():
    assert measure.tree_memory_mb(2**22 + 12345) == 0  # no such pid
