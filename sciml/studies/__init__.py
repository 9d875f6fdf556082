"""Every workflow step of every study, registered under one contract (:mod:`sciml.studies.registry`).

One module per study: ``okada``, ``pilm``, ``pinn``, ``operators``, ``bayes``, plus ``summary`` (the report
tables). :func:`get_step` and :func:`all_steps` import them on first use. Method packages (``sciml.okada``,
``sciml.pilm``, ``sciml.nn``, ...) hold the science and no workflow glue; the step functions here read inputs,
call them and return :class:`~sciml.studies.registry.Outputs`.
"""

from __future__ import annotations

import importlib

from sciml.errors import InputError
from sciml.studies.registry import REGISTRY, Outputs, Step, Text, Weights, step

STUDY_MODULES = ("okada", "pilm", "pinn", "operators", "bayes", "mogi", "okadatorch", "summary")

__all__ = ["Outputs", "Step", "Text", "Weights", "all_steps", "get_step", "step", "STUDY_MODULES"]


def load_all() -> dict[str, Step]:
    """Import every study module (registering its steps); return the registry."""
    for mod in STUDY_MODULES:
        importlib.import_module(f"sciml.studies.{mod}")
    return REGISTRY


def all_steps() -> list[Step]:
    """Every registered step, sorted by name."""
    return [REGISTRY[k] for k in sorted(load_all())]


def get_step(name: str) -> Step:
    """The step registered as ``name``; :class:`InputError` with close matches if unknown. A step named
    ``<module>.<step>`` is looked up in ``sciml.studies.<module>`` alone first (a rule process then imports only its
    own study: ~1 s less start-up), every module otherwise."""
    module = name.split(".", 1)[0]
    if module in STUDY_MODULES:
        importlib.import_module(f"sciml.studies.{module}")
        if name in REGISTRY:
            return REGISTRY[name]
    steps = load_all()
    if name not in steps:
        import difflib

        close = difflib.get_close_matches(name, list(steps), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `python -m sciml steps` lists them"
        raise InputError(f"unknown step {name!r}{hint}")
    return steps[name]
