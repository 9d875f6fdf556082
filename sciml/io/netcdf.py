"""The lineage contract: how every result of the pipeline is written, read and traced.

Every NetCDF output is written by :func:`write_dataset`, which

* requires CF-style ``units`` and ``long_name`` on every data variable and coordinate
  (``units = "1"`` for dimensionless; text variables need only ``long_name``);
* sets the global attributes ``Conventions``, ``title``, ``history``, ``source``, ``date_created``;
* stores the provenance record as JSON in the global attribute ``sciml_provenance``: producing rule,
  inputs with sha256, code digest, parameters, seed, package versions, git commit and dirty flag, time,
  and attached side files (e.g. network weights) with their sha256;
* writes atomically (temporary file in the same folder, fsync, rename): a failure never leaves a
  partial file behind. Apart from time stamps the bytes written are deterministic;
* holds every scalar result (error, evidence, sampler diagnostic) as a 0-d variable ``metric_<name>`` with
  ``units`` and ``long_name`` (:func:`metric`); global attributes named ``metric_*`` or ``diag_*`` are refused,
  so the summary table and the report read every study the same way (:func:`metrics_of`).

``SOURCE_DATE_EPOCH`` (seconds), when set, fixes the recorded time for reproducible builds.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sciml.errors import InputError
from sciml.io.atomic import atomic_path

PROVENANCE_ATTR = "sciml_provenance"
CONVENTIONS = "CF-1.10, ACDD-1.3"
REQUIRED_GLOBAL_ATTRS = ("Conventions", "title", "history", "source", "date_created", PROVENANCE_ATTR)
PROVENANCE_KEYS = (
    "rule",
    "inputs",
    "params",
    "seed",
    "sciml_version",
    "git_commit",
    "git_dirty",
    "versions",
    "created",
)


METRIC_PREFIX = "metric_"


class LineageError(ValueError):
    """A dataset or file does not satisfy the lineage contract."""


def metric(value: float, units: str, long_name: str) -> xr.DataArray:
    """A scalar result as the 0-d variable the contract asks for (store it as ``ds["metric_<name>"]``)."""
    v = np.asarray(value)
    if v.ndim != 0:
        raise LineageError(f"metric {long_name!r}: expected a scalar, got shape {v.shape}")
    dtype = np.int32 if v.dtype.kind in "bi" and v.dtype != bool else np.float64
    return xr.DataArray(v.astype(dtype if v.dtype != bool else np.int8), attrs={"units": units,
                                                                                 "long_name": long_name})


def add_metrics(ds: xr.Dataset, metrics: Mapping[str, tuple[float, str, str]]) -> xr.Dataset:
    """Add ``{name: (value, units, long_name)}`` as ``metric_<name>`` 0-d variables (in place; returns ``ds``)."""
    for name, (value, units, long_name) in metrics.items():
        ds[METRIC_PREFIX + name] = metric(value, units, long_name)
    return ds


def metrics_of(ds: xr.Dataset) -> dict[str, tuple[float, str, str]]:
    """Every ``metric_<name>`` variable of ``ds`` as ``{name: (value, units, long_name)}``."""
    out = {}
    for name, var in ds.data_vars.items():
        if str(name).startswith(METRIC_PREFIX) and var.ndim == 0:
            out[str(name)[len(METRIC_PREFIX):]] = (float(var.values), var.attrs.get("units", ""),
                                                   var.attrs.get("long_name", ""))
    return out


def sha256(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest_files(paths: Iterable[str | os.PathLike]) -> str:
    """One sha256 over several files (names relative to their common parent, then bytes), order-free."""
    h = hashlib.sha256()
    for p in sorted(str(p) for p in paths):
        h.update(Path(p).name.encode())
        h.update(sha256(p).encode())
    return h.hexdigest()


def now_utc() -> str:
    """ISO-8601 UTC time stamp, honouring ``SOURCE_DATE_EPOCH``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = _dt.datetime.fromtimestamp(int(epoch), _dt.timezone.utc) if epoch else _dt.datetime.now(_dt.timezone.utc)
    return t.replace(microsecond=0).isoformat().replace("+00:00", "Z")


@functools.cache
def git_state(start: str | None = None) -> tuple[str, bool]:
    """(commit, dirty) of the git checkout holding the sciml sources, or ("unknown", False)."""
    root = start or str(Path(__file__).resolve().parents[2])
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
        return commit, bool(status)
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def package_versions() -> dict[str, str]:
    """Versions of Python and of the numerical stack recorded in every provenance record."""
    import netCDF4
    import scipy
    import torch

    import sciml

    return {
        "python": platform.python_version(),
        "sciml": sciml.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
        "netCDF4": netCDF4.__version__,
        "torch": torch.__version__,
    }


def _jsonable(obj: Any) -> Any:
    """Convert params (snakemake Namedlists, numpy scalars, paths) to plain JSON types, keys sorted."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def file_record(path: str | os.PathLike, role: str = "data") -> dict[str, str]:
    """Provenance entry of one file: path, sha256 and role (``data`` or ``attachment``)."""
    return {"path": str(path), "sha256": sha256(path), "role": role}


def build_provenance(
    *,
    rule: str,
    inputs: Iterable[str | os.PathLike] = (),
    code: Iterable[str | os.PathLike] = (),
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    attachments: Iterable[str | os.PathLike] = (),
    step: str | None = None,
    started: str | None = None,
    seconds: float | None = None,
    ports: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the provenance record (see module docstring) for a result produced by ``rule``, i.e. by the
    registered ``step`` (``sciml.studies``), which started at ``started`` and computed for ``seconds``; ``ports``:
    the step's input and output paths by port name (``{"inputs": {...}, "outputs": {...}}``)."""
    commit, dirty = git_state()
    code = list(code)
    return {
        "rule": rule,
        "step": step,
        "started": started,
        "compute_seconds": None if seconds is None else round(float(seconds), 3),
        "ports": _jsonable(ports or {}),
        "inputs": [file_record(p) for p in inputs],
        "code": {"files": len(code), "sha256": digest_files(code) if code else None},
        "attachments": [file_record(p, "attachment") for p in attachments],
        "params": _jsonable(params or {}),
        "seed": None if seed is None else int(seed),
        "sciml_version": package_versions()["sciml"],
        "git_commit": commit,
        "git_dirty": dirty,
        "versions": package_versions(),
        "created": now_utc(),
        "workdir": os.getcwd(),
    }


def resolve_input(recorded: str, provenance: Mapping[str, Any]) -> Path:
    """Path of a recorded input: relative paths are relative to the producing run's working directory
    (``workdir`` in the record), falling back to the current directory for moved result trees."""
    path = Path(recorded)
    if path.is_absolute():
        return path
    workdir = provenance.get("workdir")
    if workdir and (Path(workdir) / path).exists():
        return Path(workdir) / path
    return path


def check_cf_attributes(ds: xr.Dataset) -> list[str]:
    """Names of variables/coordinates lacking ``units`` or ``long_name`` (text needs only long_name; a vector of
    mixed units has ``units_metadata = "see <variable>"`` instead, :mod:`sciml.io.cf`)."""
    problems = []
    for name, var in list(ds.data_vars.items()) + list(ds.coords.items()):
        if "grid_mapping_name" in var.attrs:  # a CF grid-mapping container: no data, no units
            continue
        numeric = np.issubdtype(var.dtype, np.number) or np.issubdtype(var.dtype, np.datetime64)
        numeric = numeric or var.dtype == bool
        if "long_name" not in var.attrs:
            problems.append(f"{name}: missing long_name")
        if numeric and not ({"units", "units_metadata"} & set(var.attrs)) and "units" not in var.encoding:
            problems.append(f"{name}: missing units")
    return problems


def _encoding(ds: xr.Dataset) -> dict[str, dict[str, Any]]:
    enc: dict[str, dict[str, Any]] = {}
    for name, var in ds.variables.items():
        if np.issubdtype(var.dtype, np.floating) or np.issubdtype(var.dtype, np.integer):
            if var.ndim > 0 and var.size > 16:
                enc[name] = {"zlib": True, "complevel": 4, "shuffle": True}
            if np.issubdtype(var.dtype, np.floating) and "_FillValue" not in var.encoding:
                enc.setdefault(name, {})["_FillValue"] = None
    return enc


def write_dataset(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    title: str,
    provenance: Mapping[str, Any] | None = None,
    discovery: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``ds`` to ``path`` under the lineage contract, atomically; return the path.

    Raises :class:`LineageError` if a variable lacks CF attributes or breaks a CF rule the writer cannot fix
    (:mod:`sciml.io.cf`). ``provenance`` defaults to a record for an interactive call (rule ``interactive``, no
    inputs). ``discovery``: ACDD attributes (``summary``, ``keywords``, ``references``, ``creator_name``,
    ``institution``, ...); empty values are left out.
    """
    import sciml.io.cf as cf

    ds = cf.normalise(ds)
    problems = check_cf_attributes(ds) + cf.problems(ds)
    problems += [f"global attribute {k!r}: scalar results are 0-d variables metric_<name> (sciml.io.netcdf.metric)"
                 for k in ds.attrs if str(k).startswith((METRIC_PREFIX, "diag_"))]
    problems += [f"{k}: metric variables are scalars (0-d), this one has dims {ds[k].dims}"
                 for k in ds.data_vars if str(k).startswith(METRIC_PREFIX) and ds[k].ndim != 0]
    if problems:
        raise LineageError(f"{path}: dataset violates the CF contract: " + "; ".join(problems))
    prov = dict(provenance) if provenance is not None else build_provenance(rule="interactive")
    out = ds.copy()
    created = prov.get("created") or now_utc()
    history = f"{created} sciml {prov.get('sciml_version', '')} rule {prov.get('rule', '?')}"
    out.attrs = {
        **{k: v for k, v in (discovery or {}).items() if v not in (None, "", [])},
        **{k: v for k, v in ds.attrs.items() if k not in REQUIRED_GLOBAL_ATTRS},
        "Conventions": CONVENTIONS,
        "title": title,
        "history": history,
        "source": f"sciml {prov.get('sciml_version', '')} (rule {prov.get('rule', '?')})",
        "date_created": created,
        PROVENANCE_ATTR: json.dumps(prov, sort_keys=True),
    }
    for name, value in list(out.attrs.items()):
        if isinstance(value, bool):
            out.attrs[name] = int(value)
        elif isinstance(value, (dict, list, tuple)) and not _is_numeric_list(value):
            out.attrs[name] = json.dumps(_jsonable(value), sort_keys=True)
    path = Path(path)
    with atomic_path(path, fsync=True) as tmp:
        out.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=_encoding(out))
    return path


def _is_numeric_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value) and len(value) > 0


def read_dataset(path: str | os.PathLike, *, required: Sequence[str] = (), units: Mapping[str, str] | None = None,
                 finite: Sequence[str] = ()) -> xr.Dataset:
    """Load a NetCDF file fully into memory; :class:`InputError` naming the file if absent, corrupt or
    lacking one of the ``required`` variables.

    ``units`` ``{variable: units}``: each variable is converted to these units from its ``units`` attribute
    (cf_units, :mod:`sciml.units`), or the read stops naming file, variable and units. ``finite``: variables
    whose every value must be finite (the error names file, variable and the first bad element's label)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except Exception as exc:  # netCDF4 raises OSError/RuntimeError/ValueError for damaged files
        raise InputError(f"{path}: not a readable NetCDF file ({type(exc).__name__}: {exc})") from exc
    missing = [v for v in required if v not in ds.variables]
    if missing:
        raise InputError(f"{path}: missing required variable(s) {missing}; present: {sorted(ds.variables)}")
    if units or finite:
        _check_variables(ds, path, units or {}, finite)
    return ds


def _check_variables(ds: xr.Dataset, path: Path, units: Mapping[str, str], finite: Sequence[str]) -> None:
    """Convert ``units`` variables in place; stop on non-finite ``finite`` variables (see :func:`read_dataset`)."""
    from sciml.units import check_finite, factor

    for name, target in units.items():
        if name not in ds.variables:
            continue
        var = ds[name]
        f = factor(var.attrs.get("units"), target, where=str(path), field=str(name))
        if f != 1.0:
            ds[name] = (var * f).assign_attrs({**var.attrs, "units": target})
            ds[name].encoding = var.encoding
    for name in finite:
        if name not in ds.variables:
            continue
        var = ds[name]
        dim = var.dims[0] if var.ndim else None
        coord = ds[dim].values if dim is not None and dim in ds.coords else None
        labels = None
        if coord is not None and var.ndim == 1:
            labels = [f"{dim} {c!s}" for c in coord]
        check_finite(var.values.ravel() if labels is None else var.values, where=str(path), field=str(name),
                     labels=labels)


def read_provenance(path: str | os.PathLike) -> dict[str, Any]:
    """The provenance record of a result file (NetCDF global attribute or PNG text chunk)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.suffix.lower() == ".png":
        raw = _png_text(path).get(PROVENANCE_ATTR)
    else:
        try:
            import netCDF4

            with netCDF4.Dataset(path) as nc:
                raw = nc.getncattr(PROVENANCE_ATTR) if PROVENANCE_ATTR in nc.ncattrs() else None
        except OSError as exc:
            raise InputError(f"{path}: not a readable NetCDF file ({exc})") from exc
    if raw is None:
        raise LineageError(f"{path}: no provenance record (attribute {PROVENANCE_ATTR!r})")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineageError(f"{path}: provenance record is not valid JSON ({exc})") from exc


def _png_text(path: Path) -> dict[str, str]:
    """Text chunks of a PNG after checking the file is a whole PNG; :class:`InputError` naming it if not."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()  # decodes every chunk: a truncated or damaged file raises here
            return dict(getattr(im, "text", {}) or {})
    except Exception as exc:  # PIL raises OSError / SyntaxError / UnidentifiedImageError for damaged files
        raise InputError(f"{path}: not a readable PNG file ({type(exc).__name__}: {exc})") from None


_RESULT_MAGIC = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"\x89PNG\r\n\x1a\n")


def _looks_like_result(path: Path) -> bool:
    """True for files that should carry a provenance record: NetCDF/HDF5 or PNG by name or by magic bytes."""
    if path.suffix.lower() in (".nc", ".png"):
        return True
    with open(path, "rb") as fh:
        head = fh.read(8)
    return any(head.startswith(m) for m in _RESULT_MAGIC)


def lineage_tree(path: str | os.PathLike, *, _seen: set[str] | None = None) -> dict[str, Any]:
    """Upstream tree of a result: each node holds the file, its rule, and its inputs' nodes.

    Inputs whose current sha256 differs from the recorded one are flagged ``status = "changed"``;
    vanished inputs ``"missing"``; result files (NetCDF, PNG) that cannot be read or carry no record
    ``"unreadable"``. Raw inputs (other files, no provenance record) are leaves. The file asked about must
    exist and be readable: :class:`InputError` naming it otherwise.
    """
    root = _seen is None
    seen = _seen if _seen is not None else set()
    path = Path(path)
    node: dict[str, Any] = {"path": str(path), "rule": None, "status": "ok", "inputs": []}
    if root and not path.exists():
        raise InputError(f"{path}: file not found")
    if not _looks_like_result(path):
        node["rule"] = "(raw input)"
        return node
    try:
        prov = read_provenance(path)
    except (LineageError, InputError, OSError) as exc:
        if root:
            raise InputError(str(exc)) from None
        node.update(rule=f"(unreadable: {exc})", status="unreadable")
        return node
    node["rule"] = prov.get("rule")
    node["created"] = prov.get("created")
    key = str(path.resolve())
    if key in seen:
        return node
    seen.add(key)
    for rec in prov.get("inputs", []) + prov.get("attachments", []):
        child_path = resolve_input(rec["path"], prov)
        if not child_path.exists():
            child = {"path": str(child_path), "rule": None, "status": "missing", "inputs": []}
        else:
            child = lineage_tree(child_path, _seen=seen)
            if sha256(child_path) != rec.get("sha256"):
                child["status"] = "changed"
        child["role"] = rec.get("role", "data")
        node["inputs"].append(child)
    return node


def format_tree(node: Mapping[str, Any], prefix: str = "") -> str:
    """Render :func:`lineage_tree` output as an indented text tree; flags changed/missing inputs."""
    flag = {"ok": "", "changed": "  [CHECKSUM CHANGED]", "missing": "  [MISSING]",
            "unreadable": "  [UNREADABLE]"}[node.get("status", "ok")]
    role = " (attachment)" if node.get("role") == "attachment" else ""
    lines = [f"{node['path']}  <- {node.get('rule') or '?'}{role}{flag}"]
    kids = node.get("inputs", [])
    for i, child in enumerate(kids):
        last = i == len(kids) - 1
        sub = format_tree(child).splitlines()
        lines.append(("└── " if last else "├── ") + sub[0])
        lines.extend(("    " if last else "│   ") + s for s in sub[1:])
    return "\n".join(prefix + s for s in lines)


def tree_has_problems(node: Mapping[str, Any]) -> bool:
    """True if any node of a lineage tree is changed or missing."""
    return node.get("status", "ok") != "ok" or any(tree_has_problems(c) for c in node.get("inputs", []))


def validate_file(path: str | os.PathLike) -> list[str]:
    """Contract problems of a result file (empty list = valid): for NetCDF the CF and global attributes, for
    PNG figures the image itself; for both the provenance keys and the checksums of recorded inputs.
    :class:`InputError` if the file does not exist; an unreadable file is one problem naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    problems: list[str] = []
    try:
        if path.suffix.lower() == ".png":
            _png_text(path)
        else:
            ds = read_dataset(path)
            problems += check_cf_attributes(ds)
            problems += [f"global attribute {a!r} missing" for a in REQUIRED_GLOBAL_ATTRS if a not in ds.attrs]
    except InputError as exc:
        return [str(exc)]
    try:
        prov = read_provenance(path)
    except (LineageError, InputError) as exc:
        return problems + [str(exc)]
    problems += [f"provenance key {k!r} missing" for k in PROVENANCE_KEYS if k not in prov]
    for rec in prov.get("inputs", []) + prov.get("attachments", []):
        p = resolve_input(rec["path"], prov)
        if not p.exists():
            problems.append(f"input {p} missing")
        elif sha256(p) != rec.get("sha256"):
            problems.append(f"input {p} changed since this file was written (sha256 mismatch)")
    return problems


def describe(path: str | os.PathLike) -> str:
    """Readable summary of a result file: variables with dims, units and long names (NetCDF) or image size
    (PNG); provenance. :class:`InputError` naming the file if it is missing or unreadable."""
    if Path(path).suffix.lower() == ".png":
        if not Path(path).exists():
            raise InputError(f"{path}: file not found")
        from PIL import Image

        _png_text(Path(path))
        with Image.open(path) as im:
            rows = [f"{path}", f"  figure: PNG {im.width} x {im.height} pixels"]
        ds = xr.Dataset()
    else:
        ds = read_dataset(path)
        rows = [f"{path}", f"  title: {ds.attrs.get('title', '')}", "  variables:"]
    width = max((len(str(n)) for n in ds.variables), default=4)
    for name, var in list(ds.coords.items()) + list(ds.data_vars.items()):
        dims = "(" + ", ".join(f"{d}={ds.sizes[d]}" for d in var.dims) + ")"
        rows.append(
            f"    {str(name):<{width}}  {dims:<24} [{var.attrs.get('units', '-')}]  {var.attrs.get('long_name', '')}"
        )
    try:
        prov = read_provenance(path)
    except LineageError as exc:
        rows.append(f"  provenance: {exc}")
        return "\n".join(rows)
    rows.append("  provenance:")
    for key in ("rule", "seed", "created", "sciml_version", "git_commit", "git_dirty"):
        rows.append(f"    {key:<14} {prov.get(key)}")
    for rec in prov.get("inputs", []) + prov.get("attachments", []):
        rows.append(f"    {rec.get('role', 'data'):<14} {rec['path']}  sha256={rec['sha256'][:12]}…")
    rows.append(f"    {'params':<14} {json.dumps(prov.get('params', {}), sort_keys=True)[:600]}")
    return "\n".join(rows)
