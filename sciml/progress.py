"""Progress of long loops (training, sampling, solvers): a tqdm bar with total and ETA on an interactive console,
and periodic log lines with the same total, rate and ETA in the rule's log file.

.. code-block:: python

    with Progress(total=n_steps, desc="HMC", log=log) as bar:
        for i in range(n_steps):
            ...
            bar.update(1, accept=f"{rate:.2f}")

On by default (``enabled=False`` turns both off). The bar is drawn only when stderr is a terminal; the log
lines (every 10 % of the total and at least every ``every_s`` seconds, plus the last step) go to ``log`` and, when
the bar is shown, to the log file only (records carry ``console=False``; see :func:`sciml.studies.run.setup_logging`).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

CONSOLE_FALSE = {"console": False}  # ``extra=`` of log records the console handler skips while a bar is shown


def _hms(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + f"{h:d}:{m:02d}:{s:02d}"


class Progress:
    """Progress over ``total`` units starting at ``initial`` (a resumed run): see the module docstring."""

    def __init__(self, total: int, desc: str, *, log: logging.Logger | None = None, initial: int = 0,
                 enabled: bool = True, every_s: float = 60.0, fraction: float = 0.1, unit: str = "it") -> None:
        self.total, self.desc, self.log, self.unit = int(total), desc, log, unit
        self.n = self._start = int(initial)
        self.enabled, self.every_s = bool(enabled), float(every_s)
        self._step = max(1, int(self.total * fraction))
        self._next = (self.n // self._step + 1) * self._step
        self._t0 = self._last = time.perf_counter()
        self.postfix: dict[str, Any] = {}
        self.bar = None
        if self.enabled and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, initial=self.n, desc=desc, unit=unit, dynamic_ncols=True,
                            leave=False, file=sys.stderr)

    # -- status ---------------------------------------------------------------------------------------
    @property
    def rate(self) -> float:
        """Units per second since the start (of this process: a resumed run counts from its first new unit)."""
        dt = time.perf_counter() - self._t0
        return (self.n - self._start) / dt if dt > 0 else float("nan")

    @property
    def eta(self) -> float:
        """Seconds left at the current rate."""
        r = self.rate
        return (self.total - self.n) / r if r and r == r and r > 0 else float("nan")

    def status(self) -> str:
        """``"1200/5000 (24%), 35.1 it/s, elapsed 0:00:34, ETA 0:01:48"``."""
        pct = 100.0 * self.n / self.total if self.total else 100.0
        return (f"{self.n}/{self.total} ({pct:.0f}%), {self.rate:.3g} {self.unit}/s, "
                f"elapsed {_hms(time.perf_counter() - self._t0)}, ETA {_hms(self.eta)}")

    # -- updates --------------------------------------------------------------------------------------
    def update(self, n: int = 1, **postfix: Any) -> None:
        """Advance by ``n`` units; ``postfix`` values (e.g. loss) join the bar and the log lines."""
        self.n += int(n)
        if postfix:
            self.postfix.update(postfix)
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(self.postfix, refresh=False)
            self.bar.update(int(n))
        if not self.enabled or self.log is None:
            return
        now = time.perf_counter()
        if self.n >= self._next or now - self._last >= self.every_s or self.n >= self.total:
            self._next = (self.n // self._step + 1) * self._step
            self._last = now
            extra = "".join(f" {k}={v}" for k, v in self.postfix.items())
            self.log.info("%s: %s%s", self.desc, self.status(), extra,
                          extra=CONSOLE_FALSE if self.bar is not None else None)

    def set_postfix(self, **postfix: Any) -> None:
        """Values shown with the bar and in the next log line."""
        self.postfix.update(postfix)
        if self.bar is not None:
            self.bar.set_postfix(self.postfix, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def track(iterable: Any, desc: str, *, total: int | None = None, log: logging.Logger | None = None,
          enabled: bool = True) -> Any:
    """Iterate ``iterable`` (a ``range``, a list of samples, ...) with a :class:`Progress` over ``total``
    (default ``len(iterable)``), for loops without other bookkeeping."""
    n = len(iterable) if total is None else int(total)
    with Progress(n, desc, log=log, enabled=enabled) as bar:
        for item in iterable:
            yield item
            bar.update(1)
