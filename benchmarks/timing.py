"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/<name>_bench.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(repeat: int, *fns: Callable[[], object], warmup: bool = True) -> list[float]:
    """Best wall time (s) of each of ``fns`` over ``repeat`` runs, the functions run alternately (fair when the
    machine load fluctuates), after one untimed warm-up call of each when ``warmup``."""
    if warmup:
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, ts in zip(fns, times):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
    return [min(ts) for ts in times]
