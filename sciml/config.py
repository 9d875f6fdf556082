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


def complete(config: Mapping[str, Any], *, where: str = "config") -> dict[str, Any]:
    """A validated deep copy of ``config`` with every schema default filled in (top level and each section)."""
    out = copy.deepcopy(dict(config))
    validate(out, None, where=where)
    for sec in sections():
        if sec in out:
            validate(out[sec], sec, where=where)
    return out


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Recursive dict update (lists and scalars of ``over`` replace those of ``base``), as Snakemake merges
    several ``--configfile`` files."""
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else copy.deepcopy(v)
    return out


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
