"""Command line.

``python -m sciml steps`` lists every workflow step with its inputs and outputs; ``python -m sciml run STEP
--config config/config.yaml [--set key=value ...] [--wildcard name=value ...] [--input name=path ...]
[--output name=path ...]`` runs one step outside Snakemake with the same provenance; ``python -m sciml config``
prints the completed configuration; ``lineage``, ``describe`` and ``validate`` read result files.
"""

from __future__ import annotations

import argparse
import json
import sys

from sciml.errors import InputError
from sciml.io.netcdf import LineageError, describe, format_tree, lineage_tree, tree_has_problems, validate_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sciml", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lineage", help="print the upstream tree of a result; flag changed inputs")
    p.add_argument("files", nargs="+")
    p.add_argument("--json", action="store_true", help="print the tree as JSON")
    p = sub.add_parser("describe", help="variables, units and provenance of a result file")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("validate", help="check result files against the lineage contract")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("steps", help="list the registered workflow steps with their inputs and outputs")
    p.add_argument("names", nargs="*", help="only these steps")
    p = sub.add_parser("run", help="run one step outside Snakemake (same provenance as the rule)")
    p.add_argument("step")
    _config_args(p)
    p.add_argument("--wildcard", action="append", default=[], metavar="NAME=VALUE",
                   help="wildcard value of a step whose config slice depends on one (e.g. dataset=norcal)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=PATH", help="repeat for list inputs")
    p.add_argument("--output", action="append", default=[], metavar="NAME=PATH",
                   help="default: results/run/STEP/NAME.EXT")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--log", default=None, help="also log to this file")
    p = sub.add_parser("crate", help="write a Workflow Run RO-Crate (Provenance Run Crate) of results and lineage")
    p.add_argument("targets", nargs="*", help="result files (default: every figure under results/)")
    p.add_argument("--out", default="results/crate", help="crate folder (replaced)")
    p.add_argument("--check", action="store_true", help="re-read the crate and verify checksums and lineage")
    _config_args(p)
    p = sub.add_parser("config", help="print the completed configuration (defaults filled in) as YAML")
    _config_args(p)
    p.add_argument("--section", default=None, help="only this dotted key, e.g. okada.invert")
    args = parser.parse_args(argv)
    try:
        if args.command == "steps":
            return _steps(args)
        if args.command == "run":
            return _run(args)
        if args.command == "config":
            return _config(args)
        if args.command == "crate":
            return _crate(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = 0
    for f in args.files:
        try:
            if args.command == "lineage":
                tree = lineage_tree(f)
                print(json.dumps(tree, indent=1) if args.json else format_tree(tree))
                status |= int(tree_has_problems(tree))
            elif args.command == "describe":
                print(describe(f))
            else:
                problems = validate_file(f)
                print(f"{f}: {'OK' if not problems else 'INVALID'}")
                for prob in problems:
                    print(f"  - {prob}")
                status |= int(bool(problems))
        except (InputError, LineageError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            status |= 2
    return status


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", action="append", default=None, metavar="FILE",
                   help="config file(s), later ones override earlier ones (default: config/config.yaml)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one dotted key, value in YAML syntax (e.g. okada.invert.lm.max_iter=10)")


def _load(args: argparse.Namespace) -> dict:
    from sciml.config import DEFAULT_CONFIG, load

    return load(args.config or [DEFAULT_CONFIG], args.set)


def _pairs(items: list[str], what: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"--{what} {item!r}: expected NAME={'VALUE' if what == 'wildcard' else 'PATH'}")
        k, v = item.split("=", 1)
        out.setdefault(k.strip(), []).append(v)
    return out


def _steps(args: argparse.Namespace) -> int:
    from sciml.studies import all_steps, get_step

    steps = [get_step(n) for n in args.names] if args.names else all_steps()
    print("\n\n".join(s.describe() for s in steps))
    return 0


def _run(args: argparse.Namespace) -> int:
    from sciml.studies import get_step
    from sciml.studies.run import default_output, run_step

    step = get_step(args.step)
    config = _load(args)
    wildcards = {k: v[-1] for k, v in _pairs(args.wildcard, "wildcard").items()}
    cfg = step.slice(config, wildcards)
    inputs: dict = {}
    for k, v in _pairs(args.input, "input").items():
        inputs[k] = v if step.port(k, output=False).many else (v[0] if len(v) == 1 else v)
    outputs: dict = {}
    for k, v in _pairs(args.output, "output").items():
        outputs[k] = v if step.port(k, output=True).many else (v[0] if len(v) == 1 else v)
    for port in step.outputs:
        if port.name not in outputs:
            outputs[port.name] = default_output(step, port.name)
    written = run_step(step.name, cfg, seed=int(config["seed"]), device=config["device"], inputs=inputs,
                       outputs=outputs, threads=args.threads, log_path=args.log, metadata=config["metadata"],
                       plausible=config["plausible"])
    for name, path in written.items():
        print(f"{name}: {path}")
    return 0


def _crate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sciml.config import REPO
    from sciml.io.crate import build_crate, check_crate

    config = _load(args)
    out = Path(args.out)
    targets = args.targets or sorted(str(p) for p in Path("results").rglob("*.png")
                                     if out.resolve() not in p.resolve().parents)
    if not targets:
        raise InputError("crate: no result files given and none found under results/ (run the workflow first)")
    data_dir = Path(config["data_dir"])
    data_dir = data_dir if data_dir.is_absolute() else REPO / data_dir
    build_crate(targets, out, repo=REPO, data_dir=data_dir, metadata=config["metadata"])
    print(f"wrote {out / 'ro-crate-metadata.json'} ({len(targets)} targets)")
    if args.check:
        problems = check_crate(out)
        for prob in problems:
            print(f"  - {prob}")
        return int(bool(problems))
    return 0


def _config(args: argparse.Namespace) -> int:
    import yaml

    from sciml.config import lookup

    config = _load(args)
    print(yaml.safe_dump(lookup(config, args.section) if args.section else config, sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
