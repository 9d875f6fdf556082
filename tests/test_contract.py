"""The study contract (sciml.studies): the registry, the static code scan, imports, the one writer, the rules,
and the one home of defaults (workflow/schemas + sciml.config)."""

from __future__ import annotations

import ast
import modulefinder
import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from sciml import config as C
from sciml.errors import InputError
from sciml.studies import all_steps, deps, get_step
from sciml.studies.registry import REGISTRY, Outputs, Text, Weights, step
from sciml.studies.run import run_step

REPO = Path(__file__).resolve().parents[1]
PKG = REPO / "sciml"


def _modules() -> list[str]:
    mods = []
    for f in sorted(PKG.rglob("*.py")):
        rel = f.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods.append(".".join(parts))
    return mods


def _imports(module: str) -> set[str]:
    return deps._imports_in([deps._tree(deps.module_file(module))], module)


# ------------------------------------------------------------------------------------------------- imports
def test_no_import_cycle_anywhere():
    """Every import of every sciml module (module level or inside functions) forms an acyclic graph; an
    import of a package's submodule counts as an edge to that submodule only."""
    graph = {m: {i for i in _imports(m) if i in set(_modules()) and i != m} for m in _modules()}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycle = path[path.index(n):] + [n] if n in path else [m, n]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_no_library_module_imports_snakemake_and_method_packages_no_study_glue():
    for m in _modules():
        tree = deps._tree(deps.module_file(m))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(x == "snakemake" or x.startswith("snakemake.") for x in names), m
        if not m.startswith(("sciml.studies", "sciml.workflow")) and m != "sciml.__main__":
            assert not any(x.startswith("sciml.studies") for x in _imports(m)), f"{m} imports study glue"


@pytest.mark.parametrize("module", ["sciml.studies.okada", "sciml.studies.pilm", "sciml.studies.pinn",
                                    "sciml.okada.inversion", "sciml.bayes.methods", "sciml.operators.fno"])
def test_static_closure_matches_modulefinder(module):
    """Independent reference: the standard library's modulefinder (bytecode scan) finds the same sciml
    files as the static AST scan."""
    if deps.module_file(module) is None:
        pytest.skip(f"{module} not present")
    finder = modulefinder.ModuleFinder(path=[str(REPO)], excludes=["torch", "numpy", "scipy", "xarray", "pandas",
                                                                  "matplotlib", "netCDF4", "yaml", "jsonschema"])
    finder.import_hook(module)
    # a compiled extension (.so) is scanned as its C source; the headers it includes are ours only
    found = {(deps.module_file(name) if m.__file__.endswith(".so") else Path(m.__file__)).resolve()
             for name, m in finder.modules.items() if name.split(".")[0] == "sciml" and m.__file__}
    ours = {p.resolve() for p in deps.module_closure(module) if p.suffix != ".h"}
    assert ours == found, (sorted(map(str, ours - found)), sorted(map(str, found - ours)))


def test_step_sources_follow_what_the_step_uses():
    """A compute step does not depend on its study's figure module and a figure step not on the solvers."""
    src = deps.step_sources("mogi.invert")
    assert str(PKG / "okada" / "kernels.py") in src and str(PKG / "okada" / "fault.py") in src
    assert not any(s.endswith(("figures.py",)) for s in src)
    fig = deps.step_sources("mogi.figure")
    assert str(PKG / "okada" / "figures.py") in fig
    assert str(PKG / "studies" / "mogi.py") not in src  # the study module enters through step_digest
    assert deps.step_digest("mogi.invert") != deps.step_digest("mogi.figure")


# ------------------------------------------------------------------------------------------------ registry
def test_every_step_is_documented_and_its_ports_parse():
    steps = all_steps()
    assert len(steps) >= 25
    for st in steps:
        assert st.doc, st.name
        assert st.module == f"sciml.studies.{st.name.split('.')[0]}", st.name
        assert st.outputs, st.name


def test_every_rule_runs_its_step_with_the_scanned_code_input():
    """Each rule runs scripts/run_step.py with `params: **step_params(NAME)` and `code=step_code(NAME)` for the
    same NAME (so its code input is the static scan of that step); no hand-kept source lists remain."""
    rules = sorted((REPO / "workflow" / "rules").glob("*.smk"))
    n = 0
    for smk in rules:
        text = smk.read_text()
        assert "code(" not in re.sub(r"step_code\(", "", text), f"{smk.name} uses a hand-kept code list"
        for block in re.split(r"\nrule ", text)[1:]:
            name = block.split(":")[0]
            if "script:" not in block:
                continue
            n += 1
            params = re.findall(r'\*\*step_params\("([^"]+)"\)', block)
            code = re.findall(r'step_code\("([^"]+)"\)', block)
            assert params and params == code, f"{smk.name}: rule {name}"
            assert "RUN_STEP" in block, f"{smk.name}: rule {name}"
    assert n >= 20
    assert sorted(p.name for p in (REPO / "scripts").glob("*.py")) == ["run_step.py"]


def _toy(tmp_path, fail_at=None):
    name = "mogi.toy_test_step"

    @step(name, section=lambda c, w: {"n": 3},
          inputs={"src": "netcdf[]: optional"},
          outputs={"nc": "netcdf: a toy dataset", "table": "csv: a table", "w": "weights: toy weights"})
    def toy(cfg, inputs, *, seed, device, checkpoints):
        """A toy step for the writer tests."""
        if fail_at == "compute":
            raise InputError("toy: bad input")
        ds = xr.Dataset({"v": ("i", np.arange(cfg["n"], dtype=float), {"units": "m", "long_name": "values"})})
        ds["metric_total"] = xr.DataArray(3.0, attrs={"units": "m", "long_name": "sum"})
        if fail_at == "write":
            ds.attrs["metric_bad"] = 1.0  # refused by the writer: metrics are variables
        ds.attrs["title"] = "toy"
        import torch

        return Outputs(nc=ds, table=Text("a,b\n1,2\n"), w=Weights({"x": torch.ones(2)}, {"k": 1}))

    outs = {"nc": str(tmp_path / "a.nc"), "table": str(tmp_path / "t.csv"), "w": str(tmp_path / "w.pt")}
    return (lambda: run_step(name, {"n": 3}, seed=1, inputs={}, outputs=outs, code=[])), outs


def test_writer_writes_all_outputs_with_one_record_or_none(tmp_path):
    from sciml.io.netcdf import read_provenance, validate_file
    from sciml.io.weights import load_weights

    try:
        run, outs = _toy(tmp_path)
        run()
        assert validate_file(outs["nc"]) == []
        prov = read_provenance(outs["nc"])
        assert prov["step"] == "mogi.toy_test_step" and prov["attachments"][0]["path"] == outs["w"]
        assert load_weights(outs["w"])["meta"] == {"k": 1}
        assert Path(outs["table"]).read_text() == "a,b\n1,2\n"
        for p in outs.values():
            Path(p).unlink()
        for failure in ("compute", "write"):
            run, outs = _toy(tmp_path, failure)
            with pytest.raises(Exception):
                run()
            assert not any(Path(p).exists() for p in outs.values()), failure
    finally:
        REGISTRY.pop("mogi.toy_test_step", None)


def test_unknown_step_and_ports_are_named():
    with pytest.raises(InputError, match="did you mean mogi.invert"):
        get_step("mogi.invrt")
    with pytest.raises(InputError, match="unknown input"):
        run_step("mogi.invert", {}, seed=0, inputs={"dat": "x.nc"}, outputs={"nc": "y.nc"})
    with pytest.raises(InputError, match="input 'data' not given"):
        run_step("mogi.invert", {}, seed=0, inputs={}, outputs={"nc": "y.nc"})


# -------------------------------------------------------------------------------------------------- config
def _no_default(sch) -> bool:
    """A key may go without a default when its schema says why in a standard ``$comment: "no default: ..."``
    (e.g. alternatives such as an Euler pole vs a rotation vector, or per-dataset overrides of a global key)."""
    return isinstance(sch, dict) and "no default" in str(sch.get("$comment", ""))


def _walk_properties(sch, path="", exempt=False):
    if isinstance(sch, dict):
        exempt = exempt or _no_default(sch)
        props = sch.get("properties")
        if isinstance(props, dict):
            required = set(sch.get("required", []))
            for k, sub in props.items():
                yield f"{path}.{k}".lstrip("."), sub, k in required or exempt or _no_default(sub)
                yield from _walk_properties(sub, f"{path}.{k}", exempt)
        for key in ("$defs", "definitions"):
            for k, sub in sch.get(key, {}).items():
                yield from _walk_properties(sub, f"{path}<{k}>", exempt)
        for key in ("items", "additionalProperties"):
            if isinstance(sch.get(key), dict):
                yield from _walk_properties(sch[key], f"{path}[]", exempt)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in sch.get(key, []):
                yield from _walk_properties(sub, path, exempt)


@pytest.mark.parametrize("section", [None, *C.sections()])
def test_every_schema_key_has_a_description_and_a_default_unless_required(section):
    """Every key: a description; and a default unless it is required or its schema states why not."""
    missing = []
    for path, sub, required in _walk_properties(C.schema(section)):
        if not isinstance(sub, dict):
            continue
        if "description" not in sub:
            missing.append(f"{path}: no description")
        if "default" not in sub and not required:
            missing.append(f"{path}: no default")
    assert not missing, missing


def test_config_files_validate_and_paper_repeats_nothing():
    default = C.load([C.DEFAULT_CONFIG])
    paper_raw = C.read_yaml(REPO / "config" / "paper.yaml")
    C.load([C.DEFAULT_CONFIG, REPO / "config" / "paper.yaml"])

    def repeats(over, base, path=""):
        for k, v in over.items():
            p = f"{path}.{k}".lstrip(".")
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                yield from repeats(v, base[k], p)
            elif k in base and base[k] == v:
                yield p

    assert list(repeats(paper_raw, default)) == []


def test_unknown_key_is_refused_with_a_suggestion():
    with pytest.raises(C.ConfigError, match="'devise' .*did you mean 'device'"):
        C.complete({"devise": "cpu"})
    with pytest.raises(C.ConfigError, match="mogi.stations.*'nn' .*did you mean 'n'"):
        C.complete({"mogi": {"stations": {"nn": 3}}})
    with pytest.raises(C.ConfigError, match=r"key 'mogi.stations.n' = 1"):
        C.complete({"mogi": {"stations": {"n": 1}}})


def test_defaults_fill_an_empty_config():
    cfg = C.complete({})
    assert cfg["seed"] == 20261126 and cfg["mogi"]["stations"]["n"] == 15
    assert C.load(overrides=["mogi.stations.n=4"])["mogi"]["stations"]["n"] == 4


WILDCARDS = {"dataset": "norcal", "reg": "elastic", "pinn_study": "eikonal", "model": "fno", "n": "50",
             "impl": "sciml", "okcase": "synthetic"}


def test_every_step_runs_through_the_writer_and_names_a_missing_input(tmp_path):
    """Each step with a required input is called through run_step (its config slice from the completed
    defaults) with that input missing: it stops with an InputError naming the file, and writes nothing."""
    config = C.defaults()
    checked = 0
    for st in all_steps():
        required = [p for p in st.inputs if not p.many]
        if not required:
            continue
        missing = tmp_path / f"absent_{st.name}.nc"
        inputs = {p.name: (str(missing) if not p.many else []) for p in st.inputs}
        outputs = {p.name: ([] if p.many else str(tmp_path / st.name / p.name)) for p in st.outputs}
        with pytest.raises(InputError, match=re.escape(str(missing))):
            run_step(st.name, st.slice(config, WILDCARDS), seed=0, inputs=inputs, outputs=outputs)
        assert not (tmp_path / st.name).exists() or not any((tmp_path / st.name).iterdir()), st.name
        checked += 1
    assert checked >= 15
