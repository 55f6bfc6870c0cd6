"""What the records say about where they were made: CPU, threads, peak memory."""

from __future__ import annotations

import os
import platform
import resource
from pathlib import Path

__all__ = ["cpu_model", "current_rss_mb", "machine", "peak_rss_mb", "reset_peak_rss"]


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name (``/proc/cpuinfo``) with its family and model
    numbers, else what ``platform`` says.

    The numbers tell CPU generations apart where a virtual machine shows a
    bare name ("AMD EPYC"): float results move between them (the label
    records made on a Zen 4, family 25 model 17, differ in the third or
    fourth decimal on a Zen 3, family 25 model 1: other SIMD kernels).
    """
    fields: dict[str, str] = {}
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if not line.strip():
                break  # the first processor's block is enough
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name")
    if not name:
        return platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']} model {fields['model']})"
    return name


def machine() -> str:
    """A one-line description of the machine, for the records."""
    import torch

    threads = torch.get_num_threads()
    return f"{cpu_model()}, {threads} torch threads, torch {torch.__version__}"


def peak_rss_mb() -> float:
    """The peak resident set size of this process, in MiB (the one memory probe).

    The kernel's high-water mark ``VmHWM`` (``/proc/self/status``), which
    :func:`reset_peak_rss` can restart; where there is no ``/proc``, the
    lifetime peak of ``getrusage`` (KiB on Linux, bytes on macOS). Both count
    the same pages: without a reset they agree.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if platform.system() == "Darwin" else peak / 1024


def reset_peak_rss() -> bool:
    """Restart the peak of :func:`peak_rss_mb` at the current resident set.

    Returns whether the kernel allowed it (Linux: ``/proc/self/clear_refs``);
    when not, the peak stays the lifetime one.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def current_rss_mb() -> float:
    """The resident set size of this process now, in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
