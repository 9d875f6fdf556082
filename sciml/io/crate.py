"""A Workflow Run RO-Crate of a run, built from the provenance records the results already carry.

:func:`build_crate` follows the lineage of the given results (figures or NetCDF files) back to the raw data
and writes a crate conforming to the Provenance Run Crate profile 0.5 (https://w3id.org/ro/wfrun/provenance/0.5,
which extends the Workflow Run and Process Run Crate profiles):

* the workflow (``Snakefile``, ``ComputationalWorkflow`` + ``HowTo``, main entity) with its rule files, the
  config files and schemas, and one ``HowToStep`` per rule;
* one tool (``SoftwareApplication``) per registered step (``sciml.studies``), with ``FormalParameter`` inputs
  and outputs from the step's ports, the config slice and the seed, and its software requirements (Python,
  numpy, torch, ... at the recorded versions);
* one ``CreateAction`` per rule execution (instrument: the step; object: its input files and its parameters as
  ``PropertyValue``; result: its outputs; start and end times), wrapped by a ``ControlAction`` pointing at the
  rule's ``HowToStep``; an ``OrganizeAction`` for Snakemake and a ``CreateAction`` for the whole run;
* every result and raw input as a ``File`` data entity with its ``sha256`` (workflow-run terms) and size.

Files are copied into the crate folder (those of 1 MiB or more hard-linked where the file system allows) under
their repository-relative path; raw inputs under ``data/`` (relative to ``data_dir``). :func:`check_crate` re-reads a crate with the
``rocrate`` library and verifies checksums and the tracing of every input back to raw data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sciml.errors import InputError
from sciml.io.netcdf import read_provenance, resolve_input, sha256

PROFILE_VERSION = "0.5"
PROFILES = {
    "process": ("Process Run Crate", f"https://w3id.org/ro/wfrun/process/{PROFILE_VERSION}"),
    "workflow": ("Workflow Run Crate", f"https://w3id.org/ro/wfrun/workflow/{PROFILE_VERSION}"),
    "provenance": ("Provenance Run Crate", f"https://w3id.org/ro/wfrun/provenance/{PROFILE_VERSION}"),
    "wroc": ("Workflow RO-Crate", "https://w3id.org/workflowhub/workflow-ro-crate/1.0"),
}
RO_CRATE_VERSION = "1.1"
# the one workflow-run term used (sha256), declared inline so the crate needs no second remote context
WFRUN_TERMS = {"sha256": "https://w3id.org/ro/terms/workflow-run#sha256"}
FORMATS = {".nc": "application/x-netcdf", ".png": "image/png", ".pt": "application/octet-stream",
           ".csv": "text/csv", ".txt": "text/plain", ".yaml": "text/yaml", ".smk": "text/x-python",
           ".py": "text/x-python", ".json": "application/json"}
WORKFLOW_FILES = ("Snakefile", "workflow/rules/*.smk", "workflow/schemas/*.yaml", "scripts/run_step.py",
                  "config/*.yaml", "environment.yml", "pyproject.toml")


@dataclass
class Execution:
    """One rule execution: what its provenance record says."""

    record: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)
    inputs: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        r = self.record
        return hashlib.sha256(json.dumps([r.get("rule"), r.get("step"), r.get("started"), r.get("params")],
                                         sort_keys=True, default=str).encode()).hexdigest()[:16]


def collect(targets: Iterable[str | os.PathLike]) -> tuple[dict[str, Execution], dict[Path, str], list[Path]]:
    """Executions (by key), raw inputs (path -> recorded sha256) and result files reachable from ``targets``."""
    executions: dict[str, Execution] = {}
    raw: dict[Path, str] = {}
    results: list[Path] = []
    seen: set[Path] = set()
    todo = [Path(t) for t in targets]
    while todo:
        path = todo.pop()
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        if not path.exists():
            raise InputError(f"{path}: result file not found (run the workflow first)")
        rec = read_provenance(path)
        ex = executions.setdefault(Execution(rec).key, Execution(rec))
        if path not in ex.outputs:
            ex.outputs.append(path)
        results.append(path)
        for att in rec.get("attachments", []):
            p = resolve_input(att["path"], rec)
            if p not in ex.outputs:
                ex.outputs.append(p)
                results.append(p)
            seen.add(p.resolve())
        for inp in rec.get("inputs", []):
            p = resolve_input(inp["path"], rec)
            ex.inputs.append((p, inp["sha256"]))
            if _has_record(p):
                todo.append(p)
            else:
                raw[p] = inp["sha256"]
    return executions, raw, results


def _has_record(path: Path) -> bool:
    try:
        read_provenance(path)
        return True
    except Exception:  # raw data: text tables, binary grids, or NetCDF without a sciml record
        return False


def _rel_id(path: Path, repo: Path, data_dir: Path | None) -> str:
    p = path.resolve()
    if data_dir is not None and p.is_relative_to(data_dir.resolve()):
        return "data/" + str(p.relative_to(data_dir.resolve()))
    if p.is_relative_to(repo.resolve()):
        return str(p.relative_to(repo.resolve()))
    return "external/" + p.name


_LINK_BYTES = 1 << 20


def _place(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest``; files of 1 MiB or more are hard-linked instead (results are replaced by an
    atomic rename when rewritten, so a link keeps the crate's version). Small files are copied because editors
    rewrite config and rule files in place, which would change a linked crate copy too."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        dest.unlink()
    if src.stat().st_size >= _LINK_BYTES:
        try:
            os.link(src, dest)
            return
        except OSError:
            pass
    shutil.copy2(src, dest)


def build_crate(targets: Iterable[str | os.PathLike], out: str | os.PathLike, *, repo: str | os.PathLike = ".",
                data_dir: str | os.PathLike | None = None, name: str = "sciml workflow run",
                metadata: Mapping[str, Any] | None = None) -> Path:
    """Write a Provenance Run Crate of the run that produced ``targets`` into folder ``out``; return its path.

    ``metadata``: the config's ``metadata`` section (creator, institution, licence of the results)."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    repo, out = Path(repo), Path(out)
    ddir = Path(data_dir) if data_dir is not None else None
    executions, raw, results = collect(targets)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # RO-Crate 1.1: the context the Provenance Run Crate 0.5 profile is defined against (its bioschemas IRIs)
    crate = ROCrate(gen_preview=True, version=RO_CRATE_VERSION)
    crate.metadata.extra_contexts.append(WFRUN_TERMS)
    crate.name = name
    crate.description = ("Results of the sciml Snakemake workflow with their full provenance: every rule execution, "
                         "its registered step, inputs, outputs, parameters, times, software versions and checksums.")
    meta = dict(metadata or {})
    lic = meta.get("license") or "MIT"
    crate.license = crate.add(ContextEntity(crate, f"https://spdx.org/licenses/{lic}", properties={
        "@type": "CreativeWork", "name": lic}))
    if meta.get("creator_name"):
        person = crate.add(ContextEntity(crate, f"#person/{meta['creator_name'].replace(' ', '_')}", properties={
            "@type": "Person", "name": meta["creator_name"], "email": meta.get("creator_email") or None}))
        crate.root_dataset["author"] = person
    if meta.get("institution"):
        crate.root_dataset["publisher"] = crate.add(ContextEntity(
            crate, f"#organization/{meta['institution'].replace(' ', '_')}",
            properties={"@type": "Organization", "name": meta["institution"]}))
    for key in ("process", "workflow", "provenance", "wroc"):
        label, uri = PROFILES[key]
        crate.root_dataset.append_to("conformsTo", crate.add(ContextEntity(crate, uri, properties={
            "@type": "CreativeWork", "name": label, "version": uri.rsplit("/", 1)[-1]})))

    def add_file(path: Path, fid: str, props: Mapping[str, Any], role: str):
        _place(path, out / fid)
        return crate.add_file(None, dest_path=fid, properties={
            "name": path.name, "encodingFormat": FORMATS.get(path.suffix, "application/octet-stream"),
            "contentSize": str(path.stat().st_size), "sha256": sha256(path), "description": role, **props})

    # workflow definition
    wf_files = sorted({p for pat in WORKFLOW_FILES for p in repo.glob(pat)})
    snakefile = repo / "Snakefile"
    if not snakefile.exists():
        raise InputError(f"{snakefile}: no Snakefile in the repository folder given")
    any_rec = next(iter(executions.values())).record if executions else {}
    _place(snakefile, out / "Snakefile")
    workflow = crate.add_workflow(None, dest_path="Snakefile", main=True, lang="snakemake", properties={
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"], "name": "sciml Snakefile",
        "version": any_rec.get("git_commit", "unknown"), "sha256": sha256(snakefile), "encodingFormat": "text/x-python",
        "conformsTo": {"@id": "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE"}})
    for f in wf_files:  # rule files, schemas, configs: parts of the crate (the workflow's hasPart lists tools only)
        if f.name != "Snakefile":
            add_file(f, str(f.relative_to(repo)), {}, "workflow definition / configuration")

    # software requirements (recorded versions)
    software: dict[str, Any] = {}

    def soft(name: str, version: str):
        sid = (f"https://www.python.org/downloads/release/python-{str(version).replace('.', '')}/" if name == "python"
               else f"https://pypi.org/project/{name}/{version}/")
        if sid not in software:
            software[sid] = crate.add(ContextEntity(crate, sid, properties={
                "@type": "SoftwareApplication", "name": name, "version": str(version)}))
        return software[sid]

    # data entities
    entities: dict[Path, Any] = {}
    for p, recorded in raw.items():
        if not p.exists():
            raise InputError(f"{p}: raw input recorded in the lineage is missing")
        if sha256(p) != recorded:
            raise InputError(f"{p}: raw input changed since the run (sha256 mismatch)")
        entities[p.resolve()] = add_file(p, _rel_id(p, repo, ddir), {}, "raw input")
    for p in results:
        rec_created = None
        if p.suffix in (".nc", ".png"):
            rec_created = read_provenance(p).get("created")
        entities[p.resolve()] = add_file(p, _rel_id(p, repo, ddir), {"dateCreated": rec_created} if rec_created
                                         else {}, "result")

    # tools (steps), rule steps, actions
    tools: dict[str, Any] = {}
    how_steps: dict[str, Any] = {}
    control_actions, starts, ends = [], [], []
    for pos, ex in enumerate(sorted(executions.values(), key=lambda e: e.record.get("started") or "")):
        rec = ex.record
        step_name = rec.get("step") or rec.get("rule") or "unknown"
        if step_name not in tools:
            tool = crate.add(ContextEntity(crate, f"#step/{step_name}", properties={
                "@type": "SoftwareApplication", "name": step_name,
                "description": f"sciml registered step {step_name} (python -m sciml steps {step_name})",
                "softwareVersion": rec.get("sciml_version", "")}))
            for pkg, ver in (rec.get("versions") or {}).items():
                tool.append_to("softwareRequirements", soft(pkg, ver))
            ports = rec.get("ports") or {}
            for kind in ("inputs", "outputs"):
                for port in (ports.get(kind) or {}):
                    fp = crate.add_formal_parameter(f"{step_name}/{port}", "File",
                                                    identifier=f"#step/{step_name}/{kind}/{port}")
                    tool.append_to("input" if kind == "inputs" else "output", fp)
            for pname, ptype in (("cfg", "Text"), ("seed", "Integer")):
                tool.append_to("input", crate.add_formal_parameter(f"{step_name}/{pname}", ptype,
                                                                   identifier=f"#step/{step_name}/param/{pname}"))
            workflow.append_to("hasPart", tool)
            tools[step_name] = tool
        tool = tools[step_name]
        rule = rec.get("rule") or step_name
        if rule not in how_steps:
            how_steps[rule] = crate.add(ContextEntity(crate, f"#rule/{rule}", properties={
                "@type": "HowToStep", "name": rule, "workExample": tool, "position": str(len(how_steps))}))
            workflow.append_to("step", how_steps[rule])
        params = rec.get("params") or {}
        pvs = []
        for pname, value in (("cfg", json.dumps(params.get("cfg", {}), sort_keys=True)), ("seed", rec.get("seed"))):
            pvs.append(crate.add(ContextEntity(crate, f"#run/{ex.key}/param/{pname}", properties={
                "@type": "PropertyValue", "name": pname, "value": str(value),
                "exampleOfWork": {"@id": f"#step/{step_name}/param/{pname}"}})))
        start = rec.get("started")
        end = rec.get("created")
        starts.append(start)
        ends.append(end)
        inputs = [entities[p.resolve()] for p, _ in ex.inputs if p.resolve() in entities]
        action = crate.add_action(tool, identifier=f"#run/{ex.key}", object=inputs + pvs,
                                  result=[entities[p.resolve()] for p in ex.outputs], properties={
                                      "name": f"Run of rule {rule} (step {step_name})", "startTime": start,
                                      "endTime": end, "actionStatus": "http://schema.org/CompletedActionStatus"})
        _link_ports(ex, rec, entities, step_name)
        control_actions.append(crate.add(ContextEntity(crate, f"#control/{ex.key}", properties={
            "@type": "ControlAction", "name": f"orchestrate {rule}", "instrument": how_steps[rule],
            "object": action})))

    config_entities = [crate.get(str(f.relative_to(repo))) for f in wf_files if f.parent.name == "config"]
    run = crate.add_action(workflow, identifier="#run/workflow",
                           object=[entities[p.resolve()] for p in raw] + [c for c in config_entities if c],
                           result=[entities[Path(t).resolve()] for t in targets if Path(t).resolve() in entities],
                           properties={"name": "Run of the sciml workflow",
                                       "startTime": min((s for s in starts if s), default=None),
                                       "endTime": max((e for e in ends if e), default=None),
                                       "actionStatus": "http://schema.org/CompletedActionStatus"})
    crate.root_dataset.append_to("mentions", run)
    from importlib.metadata import version

    smk_version = version("snakemake")

    engine = crate.add(ContextEntity(crate, "#engine/snakemake", properties={
        "@type": "SoftwareApplication", "name": f"Snakemake {smk_version}",
        "version": smk_version, "url": "https://snakemake.readthedocs.io"}))
    crate.add(ContextEntity(crate, "#engine/run", properties={
        "@type": "OrganizeAction", "name": f"Run of Snakemake {smk_version}", "instrument": engine,
        "object": control_actions, "result": run,
        "startTime": run.get("startTime"), "endTime": run.get("endTime")}))
    with warnings.catch_warnings():  # data files were placed by _place, not by rocrate
        warnings.filterwarnings("ignore", message="No source for", category=UserWarning)
        crate.write(out)
    return out


def _link_ports(ex: Execution, rec: Mapping[str, Any], entities: Mapping[Path, Any], step_name: str) -> None:
    """``exampleOfWork`` from each file to the port it filled (inputs and outputs of the step)."""
    ports = rec.get("ports") or {}
    for kind in ("inputs", "outputs"):
        for port, paths in (ports.get(kind) or {}).items():
            for p in [paths] if isinstance(paths, str) else paths:
                ent = entities.get(resolve_input(p, rec).resolve())
                if ent is not None:
                    ent.append_to("exampleOfWork", {"@id": f"#step/{step_name}/{kind}/{port}"})


def check_crate(path: str | os.PathLike) -> list[str]:
    """Problems of a crate written by :func:`build_crate` (empty = valid): it loads with ``rocrate``, every file
    entity exists with a matching ``sha256``, every action's inputs are outputs of another action or raw inputs
    of the workflow run, and every action names a tool with its ports."""
    from rocrate.rocrate import ROCrate

    path = Path(path)
    crate = ROCrate(path)
    problems = []
    files = {e.id: e for e in crate.data_entities if "File" in _types(e)}
    for fid, ent in files.items():
        f = path / fid
        if not f.exists():
            problems.append(f"{fid}: listed but absent")
        elif ent.get("sha256") and sha256(f) != ent["sha256"]:
            problems.append(f"{fid}: sha256 mismatch")
    actions = [e for e in crate.contextual_entities if "CreateAction" in _types(e)]
    run = crate.get("#run/workflow")
    if run is None:
        return problems + ["no CreateAction for the workflow run (#run/workflow)"]
    raw = {o.id for o in _list(run.get("object")) if "File" in _types(o)}
    produced = {r.id for a in actions for r in _list(a.get("result"))}
    for a in actions:
        if a is run:
            continue
        if a.get("instrument") is None:
            problems.append(f"{a.id}: no instrument")
        for o in _list(a.get("object")):
            if "File" in _types(o) and o.id not in produced and o.id not in raw:
                problems.append(f"{a.id}: input {o.id} is neither a result of another action nor raw data")
    if crate.mainEntity is None or "ComputationalWorkflow" not in _types(crate.mainEntity):
        problems.append("main entity is not a ComputationalWorkflow")
    return problems


def _types(e) -> list[str]:
    t = e.type
    return t if isinstance(t, list) else [t]


def _list(v) -> list:
    return [] if v is None else v if isinstance(v, list) else [v]
