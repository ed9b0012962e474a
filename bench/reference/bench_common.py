"""What both reference benchmarks share: threads, the BLAS check, peak RSS, JSON out.

Results go to stdout as one JSON object; everything else to stderr.
"""

import json
import os
import sys
import time

import torch


def log(message):
    print(message, file=sys.stderr, flush=True)


def set_threads(threads):
    """Intra-op threads for torch; OpenBLAS runs its own pool, sized by OPENBLAS_NUM_THREADS,
    which the caller sets before the library loads."""
    torch.set_num_threads(threads)
    if os.environ.get("OPENBLAS_NUM_THREADS") not in (None, str(threads)):
        log(f"reference: OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']} differs from --threads {threads}")


def blas_libraries():
    """The BLAS shared objects this process has mapped (what libblas.so.3 resolved to)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1]}
    return sorted(os.path.realpath(p) for p in paths)


def matmul_ms(n=2048, repeats=3):
    """Best time of an n×n fp32 matmul: ~0.2 s with OpenBLAS on 2 cores, seconds with netlib's."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return best * 1000


def blas_report():
    """Which BLAS torch uses, checked by the mapped library and by a timed 2048² matmul; said on stderr."""
    libraries = blas_libraries()
    is_openblas = any("openblas" in p for p in libraries)
    ms = matmul_ms()
    log(f"reference: torch {torch.__version__}, BLAS {', '.join(libraries) or 'none mapped'} "
        f"({'OpenBLAS' if is_openblas else 'not OpenBLAS'}), 2048² fp32 matmul {ms:.0f} ms, {torch.get_num_threads()} threads")
    return {"Torch": torch.__version__, "Blas": libraries, "BlasIsOpenBlas": is_openblas, "Matmul2048Ms": round(ms, 1),
            "Threads": torch.get_num_threads()}


def peak_rss_mib():
    """VmHWM: the process's peak resident set so far."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def rss_mib():
    """VmRSS: the process's resident set now."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def emit(result):
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


class Clock:
    """Splits one step into named phases (milliseconds)."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.phases = {}

    def lap(self, name):
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + (now - self.last) * 1000
        self.last = now

    def total_ms(self):
        return (self.last - self.start) * 1000
