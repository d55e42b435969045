"""What a benchmark says about the machine it ran on."""

import os
import platform
from pathlib import Path


def load_average() -> str:
    """The 1-minute load average, one decimal, or "n/a" where the OS has none."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except (OSError, AttributeError):
        return "n/a"


def cpu_model() -> str:
    """The processor's name: speed figures are only comparable on the same one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
