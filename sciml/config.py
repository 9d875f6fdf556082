"""The configuration: one home for defaults and validation.

The JSON schemas in ``workflow/schemas/`` (``config.schema.yaml`` for the top level, ``<section>.schema.yaml``
for each study section) carry a ``default`` and a ``description`` for every key. :func:`complete` validates a
configuration against them and fills every default in, so the library reads a complete, validated section and
has no fallbacks of its own. The Snakefile and ``python -m sciml run`` both go through :func:`complete`.

Precedence: schema defaults < ``config/config.yaml`` < further config files (e.g. ``config/paper.yaml``, which
holds only what differs) < ``--set key=value`` overrides.
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from sciml.errors import InputError

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "workflow" / "schemas"
DEFAULT_CONFIG = REPO / "config" / "config.yaml"


class ConfigError(InputError):
    """A configuration value or key is invalid; the message names the key path and the value."""


@functools.cache
def _schema_file(name: str) -> dict[str, Any]:
    path = SCHEMAS / f"{name}.schema.yaml"
    with open(path) as fh:
        return yaml.safe_load(fh)


def schema(section: str | None = None) -> dict[str, Any]:
    """The JSON schema of the top level (``None``) or of one section (``okada``, ``pilm``, ...)."""
    return copy.deepcopy(_schema_file(section or "config"))


def sections() -> list[str]:
    """Names of the study sections that have a schema file."""
    return sorted(p.name.removesuffix(".schema.yaml") for p in SCHEMAS.glob("*.schema.yaml")
                  if p.name != "config.schema.yaml")


def _validator(sch: Mapping[str, Any]):
    """A Draft 2020-12 validator that fills ``default`` values of missing properties while validating."""
    import jsonschema

    base = jsonschema.Draft202012Validator

    def fill_defaults(validator, properties, instance, sch_):
        if isinstance(instance, dict):
            for prop, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub and prop not in instance:
                    instance[prop] = copy.deepcopy(sub["default"])
        yield from base.VALIDATORS["properties"](validator, properties, instance, sch_)

    cls = jsonschema.validators.extend(base, {"properties": fill_defaults})
    return cls(sch)


def _path(error) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _suggest(error, sch_: Mapping[str, Any]) -> str:
    """' (did you mean ...)' for an unknown key, from the keys the schema allows there."""
    if error.validator != "additionalProperties":
        return ""
    allowed = list(error.schema.get("properties", {}))
    extra = [k for k in error.instance if k not in allowed] if isinstance(error.instance, dict) else []
    hints = []
    for k in extra:
        close = difflib.get_close_matches(str(k), allowed, n=1, cutoff=0.6)
        hints.append(f"{k!r} (did you mean {close[0]!r}?)" if close else f"{k!r} (allowed: {', '.join(allowed)})")
    return "; unknown key " + ", ".join(hints) if hints else ""


def validate(data: dict[str, Any], section: str | None = None, *, where: str = "config") -> dict[str, Any]:
    """Validate ``data`` (the whole config, or one section) in place, filling defaults; return it.

    Raises :class:`ConfigError` naming the key path, the offending value and what is allowed."""
    sch = schema(section)
    errors = sorted(_validator(sch).iter_errors(data), key=lambda e: (len(e.absolute_path), _path(e)))
    if errors:
        e = errors[0]
        prefix = f"{section}." if section else ""
        key = prefix + _path(e) if _path(e) else (section or "(top level)")
        value = e.instance if not isinstance(e.instance, (dict, list)) else type(e.instance).__name__
        if e.validator == "additionalProperties":
            raise ConfigError(f"{where}: key {key!r}: {_suggest(e, sch).removeprefix('; ')}")
        raise ConfigError(f"{where}: key {key!r} = {value!r}: {e.message}")
    return data


def complete(config: Mapping[str, Any], *, where: str = "config", device_check: bool = True) -> dict[str, Any]:
    """A validated deep copy of ``config`` with every schema default filled in (top level and each section);
    sizes over the memory budget (:func:`check_sizes`) and, with ``device_check``, ``device: cuda`` without
    CUDA (:func:`check_device`) are refused too."""
    out = copy.deepcopy(dict(config))
    validate(out, None, where=where)
    for sec in sections():
        if sec in out:
            validate(out[sec], sec, where=where)
    check_variants(out)
    check_sizes(out, where=where)
    if device_check:
        check_device(out)
    return out


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict update (lists and scalars of ``over`` replace those of ``base``), as Snakemake merges
    several ``--configfile`` files."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


def tohoku_variant(tohoku: Mapping[str, Any], name: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``okada.slip.tohoku`` with the overrides of sensitivity variant ``name`` merged in, checked against that
    section's schema (an unknown or invalid key names ``okada.slip.sensitivity.variants.<name>.overrides``)."""
    sec = merge(tohoku, overrides)
    validate({"slip": {"tohoku": sec}}, "okada", where=f"config okada.slip.sensitivity.variants.{name}.overrides")
    return sec


def check_variants(config: Mapping[str, Any]) -> None:
    """Every ``okada.slip.sensitivity`` variant of a completed config is a valid ``okada.slip.tohoku`` (checked
    when the config is loaded, not when the step runs)."""
    slip = config.get("okada", {}).get("slip", {})
    for name, v in slip.get("sensitivity", {}).get("variants", {}).items():
        tohoku_variant(slip["tohoku"], name, v["overrides"])


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``; :class:`ConfigError` naming the file (and line) if absent or malformed."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        with open(path) as fh:
            data = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, not {type(data).__name__}")
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` -> (["a", "b", "c"], value), the value parsed as YAML (numbers, lists, null...)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. okada.nu=0.3")
    key, raw = item.split("=", 1)
    if not key.strip():
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def set_key(config: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``config[k0][k1]... = value``, creating intermediate mappings."""
    node = config
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(f"--set {'.'.join(keys)}: {k!r} is not a mapping")
    node[keys[-1]] = value


def load(files: Iterable[str | Path] = (DEFAULT_CONFIG,), overrides: Iterable[str] = ()) -> dict[str, Any]:
    """Read config files (later ones override earlier ones), apply ``KEY=VALUE`` overrides, validate and fill
    defaults: the configuration a step receives, exactly as under Snakemake."""
    config: dict[str, Any] = {}
    for f in files:
        config = merge(config, read_yaml(f))
    for item in overrides:
        keys, value = parse_override(item)
        set_key(config, keys, value)
    return complete(config)


def defaults(section: str | None = None) -> dict[str, Any]:
    """The completed default configuration (``config/config.yaml`` plus schema defaults), or one section."""
    cfg = load()
    return cfg if section is None else cfg[section]


def lookup(config: Mapping[str, Any], dotted: str) -> Any:
    """``config['a']['b']`` for ``'a.b'``; :class:`ConfigError` naming the missing key."""
    node: Any = config
    done = []
    for k in dotted.split("."):
        done.append(k)
        if not isinstance(node, Mapping) or k not in node:
            raise ConfigError(f"config: key {'.'.join(done)!r} is missing")
        node = node[k]
    return node


# ------------------------------------------------------------------------------------------- real-data files
# Real-data inputs: dotted key (``*`` = every entry) -> what a *default-path* file that is absent becomes when
# ``synthetic_fallback`` is true: "synthetic" (the key is set to its no-file value, so the step makes synthetic
# data and records data_source = synthetic) or "omit" (that real-data case is left out of the targets). A file
# the user named (any value other than the schema default) must exist. New data keys go here (a test checks
# that every schema key documented as "under/relative to data_dir" is listed).
DATA_FILES: dict[str, str] = {
    "pilm.datasets.*.sources": "synthetic",  # -> sources: [] (the synthetic screw-dislocation field)
    "okada.parkfield.gps": "omit",
    "okada.parkfield.fault": "omit",
    "okada.slip.tohoku.gps": "omit",
    "okada.slip.tohoku.mesh.nodes": "omit",  # the Slab 2.0 interface of the curved-fault Tohoku inversion
    "okada.slip.tohoku.mesh.faces": "omit",
    "pinn.calaveras.phase_file": "omit",
    "pinn.calaveras.station_file": "omit",
    "pinn.calaveras.model_file": "omit",
    "operators.neuralop.files.*": "omit",
    "operators.wave.marmousi.file": "synthetic",  # -> null (the synthetic layered model)
    "bayes.tomography.picks": "required",  # null = synthetic picks (an explicit choice)
    "bayes.tomography.synthetic.model": "synthetic",  # -> null (the built-in ak135 crust)
}


def data_dir(config: Mapping[str, Any], base: str | Path = REPO) -> Path:
    """The shared-data folder of ``config`` (``data_dir`` relative to ``base``, the repository, or absolute)."""
    d = Path(str(config["data_dir"]))
    return Path(os.path.normpath(d if d.is_absolute() else Path(base) / d))


def _entries(node: Any, keys: list[str], done: str = ""):
    """(dotted key, parent mapping, last key) for every match of ``keys`` (``*`` = every entry) in ``node``."""
    if not isinstance(node, Mapping) or not keys:
        return
    head, rest = keys[0], keys[1:]
    for k in (list(node) if head == "*" else [head]):
        if k not in node:
            continue
        key = f"{done}.{k}" if done else str(k)
        if rest:
            yield from _entries(node[k], rest, key)
        else:
            yield key, node, k


def _default_at(dotted: str) -> Any:
    """The schema default of a dotted key (``None`` when it has none), from the completed empty config."""
    try:
        return lookup(_schema_defaults(), dotted)
    except ConfigError:
        return None


@functools.cache
def _schema_defaults_json() -> str:
    import json

    return json.dumps(complete({}, device_check=False))


def _schema_defaults() -> dict[str, Any]:
    """The completed empty configuration (schema defaults only; a fresh copy per call)."""
    import json

    return json.loads(_schema_defaults_json())


def _files_of(value: Any) -> list[tuple[str, str]]:
    """(suffix of the key, path) of the files a data key names: a path, or a list of ``{path: ...}`` sources."""
    if value is None:
        return []
    if isinstance(value, str):
        return [("", value)]
    return [(f"[{i}].path", s["path"]) for i, s in enumerate(value)]


def check_data(config: dict[str, Any], base: str | Path = REPO) -> list[str]:
    """Check that every configured real-data file exists; apply the recorded synthetic fallbacks.

    A missing file raises :class:`ConfigError` naming the key, its value and the resolved path, unless the key
    still has its schema default and ``synthetic_fallback`` is true: then the input becomes synthetic (the key is
    set to its no-file value in ``config``, so the step's parameters and provenance record the choice) or its
    real-data case is left out. Returns one note per fallback (the workflow prints them). A ``data_dir`` that
    you set and that does not exist is an error."""
    root = data_dir(config, base)
    fallback = bool(config.get("synthetic_fallback", False))
    if not root.is_dir() and not (fallback and config["data_dir"] == _default_at("data_dir")):
        raise ConfigError(f"config: key 'data_dir' = {config['data_dir']!r}: folder not found (resolved: {root})")
    pinn_studies = (config.get("pinn") or {}).get("studies", [])
    notes = []
    for pattern, kind in DATA_FILES.items():
        if pattern.startswith("pinn.calaveras.") and "calaveras" not in pinn_studies:
            continue
        for key, parent, last in _entries(config, pattern.split(".")):
            value = parent[last]
            missing = [(key + sfx, p, root / p) for sfx, p in _files_of(value) if not (root / p).exists()]
            if not missing:
                continue
            k, p, resolved = missing[0]
            if kind == "required" or not fallback or value != _default_at(key):
                why = "" if fallback else "; synthetic_fallback is false"
                raise ConfigError(f"config: key {k!r} = {p!r}: file not found (resolved: {resolved}{why})")
            if kind == "synthetic":
                parent[last] = [] if isinstance(value, list) else None
                notes.append(f"{key}: default file {resolved} absent: synthetic data instead (synthetic_fallback; "
                             f"recorded as data_source = synthetic)")
            else:
                notes.append(f"{key}: default file {resolved} absent: that real-data case is left out "
                             "(synthetic_fallback)")
    return notes


# ---------------------------------------------------------------------------------------------- device check
def check_device(config: Mapping[str, Any]) -> None:
    """``device: cuda`` on a machine without CUDA is refused here, before any job (not inside one)."""
    dev = str(config.get("device", "auto"))
    if dev == "cuda" or dev.startswith("cuda:"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"config: key 'device' = {dev!r}: CUDA is not available on this machine "
                              "(use 'auto' or 'cpu'; on a cluster, the GPU nodes see it: the check is skipped "
                              "for non-local executors)")


# ---------------------------------------------------------------------------------------------- size limits
# Each estimator yields (rule, bytes, {dotted key: value}, what) for the largest arrays a configuration makes a
# rule allocate: lower bounds from array shapes (8-byte floats) with the per-point costs measured for the Okada
# kernels (2.8 kB per station for displacements, 4 kB per map node with strains plus 6.5 kB per sensitivity
# parameter; peak RSS at 9e4 points). A rule over ``memory_budget_gb`` stops the run before any job.
_F8 = 8


def _params(net: Mapping[str, Any], n_in: int = 1) -> int:
    """Rough parameter count of a random-Fourier-feature / MLP network section (``n_freq``, ``hidden``)."""
    widths = [2 * int(net.get("n_freq", 0)) or n_in] + [int(h) for h in net.get("hidden", [])] + [1]
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))


def _okada_sizes(ok: Mapping[str, Any]):
    syn = ok["synthetic"]
    if syn["stations"]["gnss"] is None:
        n = int(syn["stations"]["n"])
        yield "okada_synthetic", 2800 * n * n, {"okada.synthetic.stations.n": n}, f"{n}x{n} stations"
    m, p = int(syn["map"]["n"]), len(syn["sensitivity"])
    yield ("okada_synthetic", (4000 + 6500 * p) * m * m,
           {"okada.synthetic.map.n": m, "okada.synthetic.sensitivity": p}, f"{m}x{m} map nodes, {p} sensitivities")
    for key, inv in (("okada.invert", ok["invert"]), ("okada.parkfield.invert", ok["parkfield"]["invert"])):
        h = inv["hmc"]
        c, w, d = int(h["chains"]), int(h["warmup"]), int(h["draws"])
        yield (key.replace(".", "_"), _F8 * c * (w + d) * len(inv["free"]) * 4,
               {f"{key}.hmc.chains": c, f"{key}.hmc.draws": d, f"{key}.hmc.warmup": w}, "HMC draws")
    for case in ("synthetic", "tohoku"):
        s = ok["slip"][case]
        pt = s["patches"]
        P = int(pt["n_strike"]) * int(pt["n_dip"])
        keys = {f"okada.slip.{case}.patches.n_strike": int(pt["n_strike"]),
                f"okada.slip.{case}.patches.n_dip": int(pt["n_dip"])}
        n_obs = 3 * int(s["stations"]["n"]) ** 2 if "stations" in s else 3 * 500
        if "stations" in s:
            keys[f"okada.slip.{case}.stations.n"] = int(s["stations"]["n"])
        # Green's functions, design matrix and its whitened copy (n_obs x 2P); normal matrix and factors (2P)^2
        yield f"okada_slip_{case}", _F8 * (3 * n_obs * 2 * P + 4 * (2 * P) ** 2), keys, f"{P} patches"


def _pilm_sizes(pilm: Mapping[str, Any]):
    for name, ds in pilm["datasets"].items():
        st = merge(pilm["strain"], ds.get("strain", {}))
        g = st["grid"]
        if g.get("spacing_km") is None:
            n, s = int(g["n"]), int(st["n_samples"])
            # posterior strain samples: ~12 (nodes x samples) arrays
            yield (f"pilm_strain_{name}", _F8 * 12 * n * n * s,
                   {"pilm.strain.grid.n": n, "pilm.strain.n_samples": s}, f"{n}x{n} grid nodes x {s} samples")
        if not ds["sources"]:
            syn = ds["synthetic"]
            k = int(2 * (float(syn["half_width_km"]) + float(st["margin_km"])) / float(st["knot_spacing_km"])) + 3
            nb, ns = 2 * k * k, int(syn["n_stations"])
            yield (f"pilm_strain_{name}", _F8 * 4 * nb * (2 * ns + nb),
                   {f"pilm.datasets.{name}.synthetic.n_stations": ns, "pilm.strain.knot_spacing_km":
                    float(st["knot_spacing_km"])}, f"{nb} basis functions x {ns} stations")


def _bayes_sizes(b: Mapping[str, Any]):
    for study, n_pts in (("tomography", int(b["tomography"]["grid"]["n"])),
                         ("darcy", int(b["darcy"]["grid"]["n"]) ** 2)):
        s = b[study]
        P = _params(s["network"])
        h = s["hmc"]
        c, d = int(h["chains"]), int(h["draws"])
        yield (f"bayes_{study}_hmc", _F8 * (c * d * (P + n_pts) + 3 * P * P),
               {f"bayes.{study}.hmc.chains": c, f"bayes.{study}.hmc.draws": d,
                f"bayes.{study}.network.n_freq": int(s["network"]["n_freq"])}, f"{c * d} draws of {P} weights")
        for m in ("svgd", "fparvi"):
            k = int(s[m]["particles"])
            yield (f"bayes_{study}_{m}", _F8 * (3 * k * k + 4 * k * (P + n_pts)),
                   {f"bayes.{study}.{m}.particles": k}, f"{k} particles of {P} weights")
    t = b["tomography"]
    n = int(t["grid"]["n"])
    yield ("bayes_tomography_exact", _F8 * (4 * n * n + int(t["exact"]["samples"]) * n),
           {"bayes.tomography.grid.n": n, "bayes.tomography.exact.samples": int(t["exact"]["samples"])},
           f"{n}-node exact Gaussian posterior")
    p = b["darcy"]["pcn"]
    n2 = int(b["darcy"]["grid"]["n"]) ** 2
    kept = int(p["chains"]) * int(p["draws"]) // max(1, int(p["thin"]))
    yield ("bayes_darcy_pcn", _F8 * kept * n2, {"bayes.darcy.grid.n": int(b["darcy"]["grid"]["n"]),
                                                "bayes.darcy.pcn.draws": int(p["draws"]),
                                                "bayes.darcy.pcn.thin": int(p["thin"])}, f"{kept} stored fields")


def _operators_sizes(o: Mapping[str, Any]):
    d = o["darcy"]
    n, nf = int(d["n"]), int(d["n_fine"])
    cnt = {k: int(d[k]) for k in ("n_train", "n_test", "n_test_fine")}
    yield ("operators_darcy_data", _F8 * 3 * (nf * nf * (cnt["n_train"] + cnt["n_test"] + cnt["n_test_fine"])
                                             + n * n * (cnt["n_train"] + cnt["n_test"])),
           {"operators.darcy.n_fine": nf, **{f"operators.darcy.{k}": v for k, v in cnt.items()}},
           "coefficient and solution fields")
    w = o["wave"]
    g = w["generator"]
    n, nf = int(g["n"]), (int(g["n"]) - 1) * int(g["refine"]) + 1
    sets = [int(w[k]) for k in ("n_train", "n_val", "n_test")]
    # held at once: one set's velocity models on the simulation grid (the wavefields are simulated one model at
    # a time) and velocity, snapshot and direct wave of every set on the stored grid (measured: 1.16 GB peak RSS
    # for the 4000 + 50 + 100 models of the default at 48^2, refine 2, of which this counts 0.52 GB)
    yield ("operators_wave_data", _F8 * (nf * nf * max(sets) + 3 * n * n * sum(sets)),
           {"operators.wave.generator.n": n, "operators.wave.generator.refine": int(g["refine"]),
            "operators.wave.n_train": sets[0]}, "velocity models and wavefield snapshots")
    f = d["fno"]
    width, bs = int(f["width"]), int(o["batch_size"])
    # FNO activations kept for backward: batch x width x n^2 per layer (x 4 for complex spectra and gradients)
    yield ("operators_darcy_train", _F8 * 4 * bs * width * nf * nf * int(f["layers"]),
           {"operators.batch_size": bs, "operators.darcy.fno.width": width, "operators.darcy.n_fine": nf},
           "FNO activations")


def _pinn_sizes(pinn: Mapping[str, Any]):
    for study, s in pinn.items():
        if not isinstance(s, Mapping) or "network" not in s:
            continue
        sizes = {f"pinn.{study}.{k}": int(s[k]) for k in ("n_collocation", "n_interior", "n_boundary") if k in s}
        pts = sum(sizes.values())
        width = max([int(h) for h in s["network"].get("hidden", [])] or [1])
        depth = len(s["network"].get("hidden", [])) + 1
        # activations of the network and of its 2nd-order derivative graph (~10 tensors per layer)
        yield (f"pinn_{study}", _F8 * 10 * pts * width * depth, sizes, f"{pts} collocation points x width {width}")


_ESTIMATORS = {"okada": _okada_sizes, "pilm": _pilm_sizes, "bayes": _bayes_sizes, "operators": _operators_sizes,
               "pinn": _pinn_sizes}


def machine_memory() -> int:
    """Physical memory of this machine (bytes)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume 16 GiB
        return 16 << 30


def memory_budget(config: Mapping[str, Any]) -> int:
    """Memory one rule may use (bytes): ``memory_budget_gb``, or half of :func:`machine_memory`."""
    gb = config.get("memory_budget_gb")
    return int(float(gb) * (1 << 30)) if gb is not None else machine_memory() // 2


def size_estimates(config: Mapping[str, Any]) -> list[tuple[str, int, dict[str, Any], str]]:
    """Every (rule, bytes, keys, what) estimate of the configured studies (see ``_ESTIMATORS``)."""
    out = []
    for sec, est in _ESTIMATORS.items():
        if isinstance(config.get(sec), Mapping) and config[sec]:
            try:
                out += list(est(config[sec]))
            except (KeyError, TypeError, ValueError):  # an incomplete section (tests): nothing to estimate
                continue
    return out


def _gib(b: float) -> str:
    return f"{b / (1 << 30):.3g} GiB" if b >= 1 << 28 else f"{b / (1 << 20):.3g} MiB"


# iteration counts (training steps, sampler draws, solver iterations) above this are refused: at the 10-1000
# iterations/s of these models, 1e7 is 3 hours to 12 days (1e9 Adam steps would run for months)
MAX_ITERATIONS = 10_000_000
_ITERATION_KEYS = ("adam_steps", "lbfgs_steps", "pretrain_steps", "steps", "draws", "warmup", "max_iter")


def _iterations(node: Any, done: str = ""):
    if isinstance(node, Mapping):
        for k, v in node.items():
            key = f"{done}.{k}" if done else str(k)
            if k in _ITERATION_KEYS and isinstance(v, int) and not isinstance(v, bool):
                yield key, v
            elif k in _ITERATION_KEYS and isinstance(v, Mapping):  # per-model counts (operators.darcy.steps)
                yield from ((f"{key}.{m}", n) for m, n in v.items() if isinstance(n, int))
            else:
                yield from _iterations(v, key)


def check_sizes(config: Mapping[str, Any], *, where: str = "config") -> None:
    """Refuse sizes whose arrays would not fit the per-rule memory budget, and iteration counts over
    :data:`MAX_ITERATIONS`, before any work: the message names the key(s), their values, the estimated memory
    and the budget."""
    for key, n in _iterations({k: v for k, v in config.items() if k in sections()}):
        if n > MAX_ITERATIONS:
            raise ConfigError(f"{where}: key {key!r} = {n}: more than {MAX_ITERATIONS:,} iterations (months of "
                              "compute at these models' speeds); reduce it")
    budget = memory_budget(config)
    for rule, need, keys, what in size_estimates(config):
        if need > budget:
            names = ", ".join(f"{k!r} = {v!r}" for k, v in keys.items())
            src = "memory_budget_gb" if config.get("memory_budget_gb") is not None else \
                f"memory_budget_gb: null = half of this machine's {_gib(machine_memory())}"
            raise ConfigError(f"{where}: key {names}: rule {rule} would need at least {_gib(need)} ({what}), over "
                              f"the per-rule memory budget of {_gib(budget)} ({src}); reduce the size")
