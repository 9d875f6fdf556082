# Shared helpers of the workflow: the completed config, step parameters and code inputs, paths.
# Every rule runs one registered step (sciml.studies) through the one script RUN_STEP.
import os
import sys

from snakemake.exceptions import WorkflowError

import sciml.config
from sciml.studies import get_step
from sciml.studies.deps import step_digest, step_sources

# validate against workflow/schemas/*.schema.yaml, fill every default in, refuse sizes over the memory budget and
# (locally) device: cuda without CUDA; then every configured data file must exist or fall back as recorded
try:
    _completed = sciml.config.complete(config, device_check=workflow.is_main_process and workflow.local_exec)
    _data_notes = sciml.config.check_data(_completed, workflow.basedir)
except sciml.config.ConfigError as exc:
    raise WorkflowError(str(exc)) from None
config.clear()
config.update(_completed)
if workflow.is_main_process:
    for _note in _data_notes:
        print(f"sciml: {_note}", file=sys.stderr)

ENV = "../../environment.yml"
RUN_STEP = "../../scripts/run_step.py"
PYTHON = sys.executable  # the interpreter running Snakemake (shell rules use it for `python -m sciml`)
# study name -> list of final targets (figures); each study file adds its own entry; summary.smk reads it last.
STUDY_TARGETS = {}


def _step_of(name, wildcards):
    return get_step(name.format(**dict(wildcards.items())) if "{" in name else name)


def step_params(name):
    """A rule's params for step `name` (may hold {wildcards}): step, its config slice, seed, and device for
    steps that use it. Spread with `params: **step_params("okada.invert")`."""
    params = {
        "step": (lambda wc: _step_of(name, wc).name) if "{" in name else name,
        "step_code": (lambda wc: step_digest(_step_of(name, wc).name)) if "{" in name else step_digest(name),
        "cfg": lambda wc: _step_of(name, wc).slice(config, dict(wc.items())),
        "seed": config["seed"],
        "metadata": config["metadata"],
        "plausible": config["plausible"],  # bounds of plausible input values (sciml.units)
    }
    if "{" in name:  # a constant "cpu" for steps that do not use the device: changing `device` reruns nothing
        params["device"] = lambda wc: config["device"] if _step_of(name, wc).device else "cpu"
    elif get_step(name).device:
        params["device"] = config["device"]
    return params


def step_code(name):
    """Library sources step `name` imports (static scan, sciml.studies.deps): the rule's `code=` input."""
    if "{" in name:
        return lambda wc: step_sources(_step_of(name, wc).name)
    return step_sources(name)


def data_path(relpath):
    """A shared-data path from config, resolved against config['data_dir'] (itself relative to the repo)."""
    base = config["data_dir"]
    if not os.path.isabs(base):
        base = os.path.join(workflow.basedir, base)
    return os.path.normpath(os.path.join(base, relpath))


def optional_data(relpath):
    """[path] if the shared data file exists, else [] (studies then fall back to synthetic data)."""
    if not relpath:
        return []
    p = data_path(relpath)
    return [p] if os.path.exists(p) else []


def LOG(name):
    return f"results/logs/{name}.log"


def BENCH(name):
    return f"results/benchmarks/{name}.tsv"


def figure(paths, caption):
    """Figure output(s) shown in the report with the caption workflow/report/<caption> (category = its folder)."""
    category = caption.split("/")[0]
    if isinstance(paths, str):
        return report(paths, caption=f"../report/{caption}", category=category)
    return [report(p, caption=f"../report/{caption}", category=category) for p in paths]


# One target per seed paper (README "Paper targets"): the figures of its studies and their metrics table with
# the acceptance checks (results/summary/<paper>/metrics.csv). Studies absent from STUDY_TARGETS are skipped.
from sciml.studies.summary import PAPERS


def paper_figures(paper):
    return [t for study in PAPERS[paper] for t in STUDY_TARGETS.get(study, [])]
