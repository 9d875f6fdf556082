# Helpers of the operators study (workflow/rules/operators.smk). Named helpers_operators.smk so that the
# Snakefile's sorted include loads it before operators.smk.
import importlib.util
import sys

OPS = config["operators"]
OPS_COMMON = {k: OPS[k] for k in ("dtype", "batch_size")}
OPS_FIG = "results/operators/figures"


def ops_cfg(study):
    """The study's section with the shared keys (dtype, batch_size) filled in."""
    return {**OPS_COMMON, **OPS[study]}


OPS_DATA_KEYS = {
    "darcy": ("n", "n_fine", "n_train", "n_test", "n_test_fine", "generator"),
    "wave": ("generator", "n_train", "n_test", "marmousi"),
}


def ops_data_cfg(study):
    """Only the keys that define a study's data sets (so training settings do not regenerate data)."""
    return {k: OPS[study][k] for k in OPS_DATA_KEYS[study]}


def ops_code(*pkgs):
    """Library sources of computing rules: the figure modules and other studies' solvers in sciml/forward
    are left out (figures rerun alone; an eikonal change does not retrain operators)."""
    skip = (os.path.join("operators", "report.py"), os.path.join("operators", "plots.py"))
    forward = os.path.join("sciml", "forward", "")
    keep = ("__init__.py", "darcy.py", "acoustic.py")
    return [f for f in code(*pkgs) if not f.endswith(skip) and (forward not in f or f.endswith(keep))]


OPS_DARCY_RUNS = [(m, int(n)) for m, sizes in OPS["darcy"]["models"].items() for n in sizes]
OPS_NEURALOP_FILES = {k: data_path(v) for k, v in OPS["neuralop"]["files"].items()}
OPS_NEURALOP_OK = all(os.path.exists(p) for p in OPS_NEURALOP_FILES.values())
OPS_IMPLS = list(OPS["neuralop"]["implementations"])
if "neuralop" in OPS_IMPLS and importlib.util.find_spec("neuralop") is None:
    print("operators: the neuraloperator package is not installed; its FNO is left out", file=sys.stderr)
    OPS_IMPLS.remove("neuralop")
OPS_NEURALOP_RUNS = [(i, int(n)) for i in OPS_IMPLS for n in OPS["neuralop"]["sizes"]]
OPS_WAVE_SIZES = [int(n) for n in OPS["wave"]["sizes"]]
