"""Adapter from a Snakemake rule to the study contract: the only place that reads a ``snakemake`` object.

Every rule runs the one script ``scripts/run_step.py``::

    from sciml.workflow import run_rule
    run_rule(snakemake)

The rule names its step and config slice in ``params`` (``step``, ``cfg``, ``seed`` and, for steps declared
with ``device=True``, ``device``: see ``step_params`` in ``workflow/rules/common.smk``). Its named inputs
(except ``code``, the library sources) and named outputs are the step's ports. This module imports nothing
from Snakemake; it only reads attributes of the object Snakemake hands to the script.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

CODE_INPUT = "code"  # name of the rule input listing library sources (recorded as a digest)


def _plain(obj: Any) -> Any:
    """Snakemake Namedlists/dicts to plain Python containers."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _named(namedlist: Any) -> dict[str, Any]:
    return {k: _plain(v) for k, v in namedlist.items()} if hasattr(namedlist, "items") else {}


def run_rule(smk: Any) -> None:
    """Run the step named by ``smk.params.step`` with the rule's inputs, outputs, log and threads."""
    from sciml.studies.run import run_step

    params = _named(smk.params)
    inputs = _named(smk.input)
    code = inputs.pop(CODE_INPUT, [])
    code = [code] if isinstance(code, str) else list(code)
    outputs = _named(smk.output)
    log = smk.log[0] if len(getattr(smk, "log", [])) else None
    try:
        run_step(params["step"], params["cfg"], seed=int(params["seed"]), device=params.get("device", "cpu"),
                 inputs=inputs, outputs=outputs, rule=getattr(smk, "rule", None), code=code, log_path=log,
                 threads=int(getattr(smk, "threads", 1) or 1), metadata=params.get("metadata"),
                 plausible=params.get("plausible"))
    except Exception as exc:  # one concise line on the console; the traceback is in the rule's log file
        if not getattr(exc, "sciml_reported", False):  # (run_step has reported what failed inside it)
            from sciml.studies.run import error_line

            print(f"error in rule {getattr(smk, 'rule', '?')}: {error_line(exc)}", file=sys.stderr)
            if log:
                import traceback

                with open(log, "a") as fh:
                    traceback.print_exception(exc, file=fh)
        sys.exit(1)
