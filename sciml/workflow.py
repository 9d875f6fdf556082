"""Glue between Snakemake rules and the library: the only place scripts/ touch Snakemake objects.

A script in ``scripts/`` reads::

    from sciml.workflow import rule_context
    with rule_context(snakemake) as ctx:
        ds = sciml.some_study.run(ctx.params["cfg"], seed=ctx.seed, device=ctx.device)
        ctx.write(ds, ctx.output.nc, title="...")

``rule_context`` logs to the rule's log file, seeds every generator from ``params.seed``, resolves the
device from ``params.device`` and writes outputs with the full provenance record.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import xarray as xr

from sciml.device import limit_blas_threads, resolve_device, seed_everything
from sciml.io.netcdf import build_provenance, write_dataset

CODE_INPUT = "code"  # name of the rule input listing library sources (recorded as a digest)


def _plain(obj: Any) -> Any:
    """Snakemake Namedlists/dicts to plain Python containers."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _named(namedlist: Any) -> dict[str, Any]:
    return {k: v for k, v in namedlist.items()} if hasattr(namedlist, "items") else {}


@dataclass
class RuleContext:
    """What a rule's script needs: inputs/outputs, params, seed, device, logger, and the writers."""

    rule: str
    input: Any
    output: Any
    params: dict[str, Any]
    seed: int | None
    device: torch.device
    log: logging.Logger
    data_inputs: list[str]
    code_inputs: list[str]
    attachments: list[str] = field(default_factory=list)

    def attach(self, path: str | os.PathLike) -> None:
        """Register a side file (e.g. network weights) so its checksum enters the provenance record."""
        self.attachments.append(str(path))

    def provenance(self) -> dict[str, Any]:
        return build_provenance(
            rule=self.rule,
            inputs=self.data_inputs,
            code=self.code_inputs,
            params=self.params,
            seed=self.seed,
            attachments=self.attachments,
        )

    def write(self, ds: xr.Dataset, path: str | os.PathLike, *, title: str) -> Path:
        """Write a result NetCDF with the full provenance record of this rule."""
        out = write_dataset(ds, path, title=title, provenance=self.provenance())
        self.log.info("wrote %s", out)
        return out

    def save_figure(self, fig: Any, path: str | os.PathLike) -> Path:
        """Save a matplotlib figure atomically, with this rule's provenance in the PNG metadata."""
        from sciml.plots import save_figure

        out = save_figure(fig, path, provenance=self.provenance())
        self.log.info("wrote %s", out)
        return out


def _logger(rule: str, log_path: str | None) -> logging.Logger:
    logger = logging.getLogger(f"sciml.rule.{rule}")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    # library modules log under "sciml.*": route them to the same handlers
    lib = logging.getLogger("sciml")
    lib.setLevel(logging.INFO)
    lib.handlers = handlers
    logger.propagate = False
    return logger


@contextmanager
def rule_context(smk: Any) -> Iterator[RuleContext]:
    """Context for one rule execution (see module docstring). Exceptions are logged, then re-raised."""
    rule = getattr(smk, "rule", "unknown")
    log_path = smk.log[0] if len(getattr(smk, "log", [])) else None
    logger = _logger(rule, log_path)
    params = _plain(_named(smk.params))
    seed = params.get("seed")
    if seed is not None:
        seed_everything(int(seed))
    named_inputs = _named(smk.input)
    code = [str(p) for p in named_inputs.get(CODE_INPUT, [])]
    code_set = set(code)
    data = [str(p) for p in smk.input if str(p) not in code_set]
    threads = max(1, int(getattr(smk, "threads", 1) or 1))
    torch.set_num_threads(threads)
    # BLAS/OpenMP pools use the rule's threads, not all cores (oversubscription slows dense algebra 10-50x
    # when jobs run side by side); the variables also reach subprocesses such as GMT
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    blas_limit = limit_blas_threads(threads)
    ctx = RuleContext(
        rule=rule,
        input=smk.input,
        output=smk.output,
        params=params,
        seed=None if seed is None else int(seed),
        device=resolve_device(params.get("device", "auto")),
        log=logger,
        data_inputs=data,
        code_inputs=code,
    )
    logger.info("rule %s: device=%s seed=%s threads=%d", rule, ctx.device, ctx.seed, threads)
    try:
        yield ctx
    except BaseException:
        logger.exception("rule %s failed", rule)
        raise
    finally:
        blas_limit.restore_original_limits()
