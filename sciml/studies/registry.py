"""The study contract: every workflow step is a registered library function with one signature.

.. code-block:: python

    from sciml.studies.registry import Outputs, step

    @step("okada.invert", section="okada.invert",
          inputs={"data": "netcdf: observations (okada.synthetic)"},
          outputs={"nc": "netcdf: estimate, Laplace covariance, HMC samples"})
    def invert(cfg, inputs, *, seed, device, checkpoints):
        obs = read_dataset(inputs["data"])
        ...
        return Outputs(nc=ds)

* ``cfg``: the step's config slice, validated and with every default filled in (:mod:`sciml.config`);
  ``section`` names it as a dotted key (``"pinn.{study}"`` may use wildcards) or is a function
  ``(config, wildcards) -> dict`` for a slice assembled from several keys.
* ``inputs``: input name -> path (``str``), or list of paths for ``name[]`` ports (possibly empty).
* ``seed``: the master seed (``config.seed``); ``device``: the resolved torch device for steps declared with
  ``device=True`` (always CPU otherwise); ``checkpoints``: a folder for resumable state (kept across a crash).
* returns :class:`Outputs`: output name -> :class:`xarray.Dataset` (written as NetCDF), matplotlib figure
  (PNG), :class:`Weights` (torch state dict) or :class:`Text` (CSV / text), or a list of them for ``name[]``.

Ports are declared as ``{"name": "kind: description"}`` with kind ``netcdf``, ``png``, ``weights``, ``text`` or
``file`` (raw input), and a trailing ``[]`` for a list. The one writer (:func:`sciml.studies.run.run_step`)
writes every output atomically with the provenance record. No step touches Snakemake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sciml.errors import InputError

KINDS = {"netcdf": ".nc", "png": ".png", "weights": ".pt", "text": ".txt", "csv": ".csv", "file": ""}
_PORT = re.compile(r"^\s*(?P<kind>[a-z]+)(?P<many>\[\])?\s*:\s*(?P<doc>.+)$", re.S)


@dataclass(frozen=True)
class Port:
    """One named input or output of a step."""

    name: str
    kind: str
    many: bool
    doc: str

    @classmethod
    def parse(cls, name: str, spec: str, where: str) -> Port:
        m = _PORT.match(spec)
        if not m or m["kind"] not in KINDS:
            raise ValueError(f"step {where}: port {name!r} = {spec!r}: expected 'KIND: text' or 'KIND[]: text' "
                             f"with KIND one of {sorted(KINDS)}")
        return cls(name, m["kind"], bool(m["many"]), " ".join(m["doc"].split()))

    def describe(self) -> str:
        return f"{self.name}{'[]' if self.many else ''} ({self.kind}): {self.doc}"


@dataclass(frozen=True)
class Weights:
    """Network weights to save beside a result (format of :mod:`sciml.io.weights`)."""

    state_dict: Mapping[str, Any]
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Text:
    """A text output (CSV table, lineage listing)."""

    content: str


class Outputs(dict):
    """Output name -> dataset, figure, :class:`Weights`, :class:`Text` (or a list of them)."""


Section = str | Callable[[Mapping[str, Any], Mapping[str, str]], Mapping[str, Any]]


@dataclass(frozen=True)
class Step:
    """A registered step: its function and what it reads and writes."""

    name: str
    func: Callable[..., Outputs]
    section: Section
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    device: bool
    dtype: bool
    doc: str

    @property
    def module(self) -> str:
        return self.func.__module__

    def slice(self, config: Mapping[str, Any], wildcards: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The config slice this step reads (what the rule passes as ``params.cfg``)."""
        from sciml.config import lookup

        wc = dict(wildcards or {})
        if callable(self.section):
            cfg = dict(self.section(config, wc))
        else:
            try:
                key = self.section.format(**wc)
            except KeyError as exc:
                raise InputError(f"step {self.name}: section {self.section!r} needs wildcard {exc.args[0]!r}") from None
            cfg = dict(lookup(config, key))
        if self.dtype:
            cfg["dtype"] = config["dtype"]
        return cfg

    def port(self, name: str, *, output: bool) -> Port:
        ports = self.outputs if output else self.inputs
        for p in ports:
            if p.name == name:
                return p
        kind = "output" if output else "input"
        raise InputError(f"step {self.name}: unknown {kind} {name!r}; its {kind}s are {[p.name for p in ports]}")

    def describe(self) -> str:
        lines = [f"{self.name}  ({self.module}.{self.func.__name__})", f"    {self.doc}"]
        sec = self.section if isinstance(self.section, str) else f"assembled by {self.section.__name__}"
        uses = [u for u, flag in (("device", self.device), ("dtype", self.dtype)) if flag]
        lines.append(f"    config: {sec}" + (f"; uses top-level {', '.join(uses)}" if uses else ""))
        lines += [f"    input  {p.describe()}" for p in self.inputs]
        lines += [f"    output {p.describe()}" for p in self.outputs]
        return "\n".join(lines)


REGISTRY: dict[str, Step] = {}


def step(name: str, *, section: Section, inputs: Mapping[str, str] | None = None,
         outputs: Mapping[str, str], device: bool = False, dtype: bool = False) -> Callable:
    """Register ``func`` as the workflow step ``name`` (``<study>.<step>``); see the module docstring."""

    def register(func: Callable[..., Outputs]) -> Callable[..., Outputs]:
        if name in REGISTRY and REGISTRY[name].func.__qualname__ != func.__qualname__:
            raise ValueError(f"step {name!r} registered twice ({REGISTRY[name].module} and {func.__module__})")
        doc = (func.__doc__ or "").strip().split("\n\n")[0]
        REGISTRY[name] = Step(
            name=name, func=func, section=section,
            inputs=tuple(Port.parse(k, v, name) for k, v in (inputs or {}).items()),
            outputs=tuple(Port.parse(k, v, name) for k, v in outputs.items()),
            device=device, dtype=dtype, doc=" ".join(doc.split()),
        )
        return func

    return register
