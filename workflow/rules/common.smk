# Shared helpers of the workflow (config validation, library-code inputs, log and benchmark paths).
import glob
import os

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMAS = os.path.join(workflow.basedir, "workflow", "schemas")
ENV = "../../environment.yml"
# study name -> list of final targets (figures); each study file adds its own entry.
STUDY_TARGETS = {}


def validate_config(section=None):
    """Validate config (or config[section]) against its schema; name the offending key on failure."""
    schema = os.path.join(SCHEMAS, f"{section or 'config'}.schema.yaml")
    data = config if section is None else config.get(section)
    if data is None:
        raise WorkflowError(f"config: required section {section!r} is missing")
    try:
        validate(data, schema)
    except WorkflowError as exc:
        cause = exc.args[0] if exc.args else exc
        raise WorkflowError(f"invalid config in section {section or '(top level)'!r}: {cause}") from None


validate_config()
for _schema in sorted(glob.glob(os.path.join(SCHEMAS, "*.schema.yaml"))):
    _section = os.path.basename(_schema).removesuffix(".schema.yaml")
    if _section != "config" and _section in config:
        validate_config(_section)


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


def code(*packages):
    """Library sources a rule depends on (sciml/<pkg>/**.py or sciml/<pkg>.py), plus the lineage
    contract and workflow glue, so that changing one library module reruns only dependent rules."""
    root = os.path.join(workflow.basedir, "sciml")
    files = set()
    for pkg in packages + ("io", "workflow", "errors", "device"):
        files.update(glob.glob(os.path.join(root, pkg, "**", "*.py"), recursive=True))
        if os.path.exists(os.path.join(root, f"{pkg}.py")):
            files.add(os.path.join(root, f"{pkg}.py"))
    return sorted(files)


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
