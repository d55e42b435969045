"""CPU seconds used by whole process trees (Linux /proc), for benchmarks whose work is spread over processes.

With every core busy a rate is the CPU each item costs in all the processes doing the work, so "where does an item's
CPU go" is answered per tree: the workers (their main process and pool children), and PostgreSQL (the postmaster and
every backend, the ones that already ended included: a parent's reaped children are in its cutime and cstime).
"""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and every descendant, living or ended (utime + stime + cutime + cstime)."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After the ")": state is field 0, so utime, stime, cutime, cstime are 11 to 14.
    own = sum(int(value) for value in fields[11:15]) / _TICKS
    return own + sum(tree_cpu_seconds(child) for child in _children(pid))


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None
