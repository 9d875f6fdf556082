"""The one writer: run a registered step and write all its outputs under the lineage contract.

:func:`run_step` is what a Snakemake rule (through ``scripts/run_step.py`` and :mod:`sciml.workflow`) and
``python -m sciml run`` both call. It checks the inputs and outputs against the step's declared ports, seeds
every generator from the master seed, sets thread pools, resolves the device (for steps declared with
``device=True``), calls the step with a ``checkpoints`` folder for resumable state (by default
``<output folder>/checkpoints/<first output's stem>``, removed once the outputs are written), then writes weights (first: their checksums enter the record), NetCDF
datasets, figures and text, each atomically and with the same provenance record. If anything fails, the
outputs this call already wrote are removed again: a step's outputs appear all together or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from sciml.errors import InputError
from sciml.io.netcdf import build_provenance, now_utc, write_dataset
from sciml.studies import get_step
from sciml.studies.registry import KINDS, Outputs, Step, Text, Weights
from sciml.units import plausible_bounds

log = logging.getLogger(__name__)

PathLike = str | os.PathLike
Ports = Mapping[str, PathLike | Sequence[PathLike]]


class _NoTraceback(logging.Formatter):
    """Console format: the message only; tracebacks go to the log file (if any)."""

    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return super().format(record)


def setup_logging(name: str, log_path: PathLike | None = None) -> logging.Logger:
    """Logger ``sciml.run.<name>`` writing to stderr and ``log_path``; library loggers (``sciml.*``) share
    its handlers, so a step's messages land in the rule's log file. Tracebacks go to the log file only
    (to stderr too when there is no log file)."""
    logger = logging.getLogger(f"sciml.run.{name}")
    logger.setLevel(logging.INFO)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(_NoTraceback(fmt) if log_path else logging.Formatter(fmt))
    console.addFilter(lambda rec: getattr(rec, "console", True))  # progress lines while a bar is drawn
    handlers: list[logging.Handler] = [console]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
        handlers[-1].setFormatter(logging.Formatter(fmt))
    lib = logging.getLogger("sciml")
    lib.setLevel(logging.INFO)
    lib.handlers = handlers
    logger.handlers.clear()
    logger.propagate = True
    return logger


def _normalise(step: Step, given: Ports, *, output: bool) -> dict[str, str | list[str]]:
    """Given paths checked against the declared ports: every port present, none unknown, lists for ``[]``."""
    kind = "output" if output else "input"
    ports = step.outputs if output else step.inputs
    unknown = sorted(set(given) - {p.name for p in ports})
    if unknown:
        raise InputError(f"step {step.name}: unknown {kind}(s) {unknown}; declared: {[p.name for p in ports]}")
    out: dict[str, str | list[str]] = {}
    for p in ports:
        if p.name not in given:
            if p.many and not output:
                out[p.name] = []
                continue
            raise InputError(f"step {step.name}: {kind} {p.name!r} not given ({p.describe()})")
        value = given[p.name]
        if p.many:
            out[p.name] = [str(v) for v in ([value] if isinstance(value, (str, os.PathLike)) else value)]
        else:
            if not isinstance(value, (str, os.PathLike)):
                vals = list(value)
                if len(vals) != 1:
                    raise InputError(f"step {step.name}: {kind} {p.name!r} takes one path, got {vals}")
                value = vals[0]
            out[p.name] = str(value)
    return out


def _flat(ports: Mapping[str, str | list[str]]) -> list[str]:
    return [p for v in ports.values() for p in ([v] if isinstance(v, str) else v)]


def _check_results(step: Step, result: Any, outputs: Mapping[str, str | list[str]]) -> None:
    if not isinstance(result, Mapping):
        raise TypeError(f"step {step.name} returned {type(result).__name__}, expected Outputs")
    missing = sorted(set(outputs) - set(result))
    extra = sorted(set(result) - set(outputs))
    if missing or extra:
        raise TypeError(f"step {step.name}: returned outputs {sorted(result)}, declared {sorted(outputs)}")
    for name, paths in outputs.items():
        if isinstance(paths, list) and len(paths) != len(result[name]):
            raise InputError(f"step {step.name}: output {name!r} has {len(result[name])} item(s) but "
                             f"{len(paths)} path(s) were given")


def _items(step: Step, result: Mapping[str, Any], outputs: Mapping[str, str | list[str]]):
    for name, paths in outputs.items():
        values = result[name] if isinstance(paths, list) else [result[name]]
        for value, path in zip(values, paths if isinstance(paths, list) else [paths]):
            yield step.port(name, output=True), value, path


def _title(step: Step, ds: xr.Dataset) -> str:
    return str(ds.attrs.get("title") or step.doc or step.name)


def run_step(name: str, cfg: Mapping[str, Any], *, seed: int, inputs: Ports, outputs: Ports,
             device: str = "cpu", rule: str | None = None, code: Sequence[PathLike] | None = None,
             log_path: PathLike | None = None, threads: int = 1, checkpoints: PathLike | None = None,
             metadata: Mapping[str, Any] | None = None, plausible: Mapping[str, Any] | None = None
             ) -> dict[str, str | list[str]]:
    """Run step ``name`` with its config slice ``cfg`` and write its outputs to the given paths.

    ``code``: library sources recorded as a digest (default: the step's static import closure, as the rules
    use). ``plausible``: the config's bounds of plausible input values (:mod:`sciml.units`), in force while the
    step runs and recorded with its parameters. Returns the output paths by name."""
    import torch

    from sciml.device import limit_blas_threads, resolve_device, seed_everything
    from sciml.studies.deps import step_sources

    logger = setup_logging(rule or name, log_path)
    try:
        step = get_step(name)
        ins = _normalise(step, inputs, output=False)
        outs = _normalise(step, outputs, output=True)
    except Exception as exc:
        raise _reported(logger, name, exc) from None
    seed_everything(int(seed))
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    try:
        dev = resolve_device(device) if step.device else torch.device("cpu")
    except Exception as exc:
        raise _reported(logger, name, exc) from None
    first = Path(_flat(outs)[0])
    ckdir = Path(checkpoints) if checkpoints is not None else first.parent / "checkpoints" / first.stem
    logger.info("step %s (rule %s): device=%s seed=%s threads=%d", name, rule or "-", dev, seed, threads)
    started, t0 = now_utc(), time.perf_counter()
    try:
        with limit_blas_threads(threads), plausible_bounds(plausible):
            result = step.func(dict(cfg), ins, seed=int(seed), device=dev, checkpoints=ckdir)
        seconds = time.perf_counter() - t0
        _check_results(step, result, outs)
    except Exception as exc:
        raise _reported(logger, name, exc)
    params = {"step": name, "cfg": dict(cfg), "seed": int(seed)}
    if plausible:
        params["plausible"] = dict(plausible)
    if step.device:
        params["device"] = device
    record = dict(rule=rule or f"sciml run {name}", step=name, inputs=_flat(ins),
                  code=step_sources(name) if code is None else list(code), params=params, seed=int(seed),
                  started=started, seconds=seconds, ports={"inputs": ins, "outputs": outs})
    from sciml.studies.metadata import discovery

    acdd = discovery(name, step.doc, metadata)
    written: list[Path] = []
    try:
        attachments = []
        for port, value, path in _items(step, result, outs):
            if isinstance(value, Weights):
                from sciml.io.weights import save_weights

                written.append(save_weights(path, value.state_dict, step=name, config=cfg, meta=value.meta))
                attachments.append(path)
        prov = build_provenance(attachments=attachments, **record)
        for port, value, path in _items(step, result, outs):
            if isinstance(value, Weights):
                continue
            written.append(_write(step, port.kind, value, path, prov, acdd))
            logger.info("wrote %s", path)
    except BaseException as exc:
        for p in written:
            Path(p).unlink(missing_ok=True)
        if isinstance(exc, Exception):
            raise _reported(logger, name, exc, "writing its outputs failed (none is left behind)")
        raise
    shutil.rmtree(ckdir, ignore_errors=True)  # resumable state is only needed until the outputs exist
    if checkpoints is None:  # and the writer's shared <outdir>/checkpoints folder once it is empty
        with contextlib.suppress(OSError):
            ckdir.parent.rmdir()
    return outs


def error_line(exc: BaseException) -> str:
    """The one line a user reads first: the message of a bad-input error, or ``Type: message`` of anything else."""
    text = " ".join(str(exc).split()) or repr(exc)
    return text if isinstance(exc, InputError) else f"{type(exc).__name__}: {text}"


def _reported(logger: logging.Logger, name: str, exc: Exception, what: str = "failed") -> Exception:
    """Log a step failure once: one concise line on the console, the traceback in the rule's log file; the
    exception is marked so :func:`sciml.workflow.run_rule` does not print it again."""
    if not getattr(exc, "sciml_reported", False):
        logger.error("step %s %s: %s", name, what, error_line(exc), exc_info=exc)
        try:
            exc.sciml_reported = True  # type: ignore[attr-defined]
        except AttributeError:
            pass
    return exc


def _write(step: Step, kind: str, value: Any, path: str, prov: Mapping[str, Any],
           acdd: Mapping[str, Any] | None = None) -> Path:
    from sciml.io.atomic import write_text

    if isinstance(value, xr.Dataset):
        return write_dataset(value, path, title=_title(step, value), provenance=prov, discovery=acdd)
    if isinstance(value, Text):
        return write_text(value.content, path)
    if hasattr(value, "savefig"):
        import matplotlib.pyplot as plt

        from sciml.plots import save_figure

        try:
            return save_figure(value, path, provenance=prov)
        finally:
            plt.close(value)
    raise TypeError(f"step {step.name}: output {path} ({kind}) got a {type(value).__name__}")


def default_output(step: Step, name: str, folder: PathLike = "results/run") -> str:
    """Where ``python -m sciml run`` writes output ``name`` when no ``--output`` is given."""
    port = step.port(name, output=True)
    if port.many:
        raise InputError(f"step {step.name}: output {name!r} is a list: give each path with --output {name}=PATH")
    return str(Path(folder) / step.name / f"{name}{KINDS[port.kind]}")


__all__ = ["Outputs", "run_step", "setup_logging", "default_output"]
