"""bench_serve_plain's server CPU figure: the CPU of gunicorn's master and of its worker processes."""

import os
import subprocess
import sys

from benchmarks.bench_serve_plain import _cpu_seconds

# A child that spends half a second of CPU, says so, then stays alive (as a worker does during a run).
BURN = """
import time
end = time.process_time() + 0.5
while time.process_time() < end:
    pass
print("done", flush=True)
time.sleep(30)
"""


def test_the_server_cpu_counts_the_child_processes_work():
    before = _cpu_seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", BURN], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "done"
        spent = _cpu_seconds(os.getpid()) - before
    finally:
        child.kill()
        child.wait()
    # The child's half second (in 10 ms ticks), plus the little this process spent meanwhile.
    assert 0.45 <= spent < 5, spent
