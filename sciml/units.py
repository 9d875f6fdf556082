"""Units and plausible magnitudes of input data: convert or stop with a named error.

Every reader of user data and every read of an upstream NetCDF goes through two checks:

* :func:`factor` / :func:`convert`: the declared units (a CF/UDUNITS string such as ``"mm yr-1"``, ``"m/yr"``,
  ``"ms"``) are converted to the units the code works in with `cf_units` (the UDUNITS-2 library of the CF
  conventions); units that are unknown or not convertible stop with :class:`~sciml.errors.InputError` naming
  the file, the field and the units;
* :func:`check_plausible`: values outside the plausible range of their quantity (top-level config key
  ``plausible``, defaults in ``workflow/schemas/config.schema.yaml``) stop with an
  error naming file, line (or index), field and value, so a mislabelled unit (m/yr on mm/yr data: x1000) or a
  corrupted value cannot pass as data.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sciml.errors import InputError, bad_value

# quantity -> units of its plausible bounds; the bounds themselves are the defaults of the top-level config key
# ``plausible`` (workflow/schemas/config.schema.yaml: the one home of defaults), e.g. GNSS velocity components
# within +-1000 mm/yr (plate rates < 200 mm/yr, volcanic and landslide sites < 1 m/yr), coseismic offsets within
# +-100 m (Tohoku 2011: ~50 m near the trench, ~5 m on land), traveltimes in [0, 3600] s.
UNITS: dict[str, str] = {
    "gnss_velocity": "mm yr-1",
    "gnss_velocity_sigma": "mm yr-1",
    "coseismic_offset": "m",
    "coseismic_sigma": "m",
    "traveltime": "s",
    "traveltime_sigma": "s",
    "seismic_velocity": "km s-1",
    "depth": "km",
}


@functools.cache
def _default_bounds() -> dict[str, tuple[float, float]]:
    from sciml.config import schema

    props = schema()["properties"]["plausible"]["properties"]
    return {q: (float(props[q]["default"][0]), float(props[q]["default"][1])) for q in UNITS}


_override: dict[str, tuple[str, float, float]] = {}


@functools.cache
def parse(text: str):
    """The ``cf_units.Unit`` of a UDUNITS string, or None if it does not parse (the one unit parser of sciml:
    readers here, the CF checks of :mod:`sciml.io.cf`)."""
    import cf_units

    try:
        return cf_units.Unit(str(text))
    except ValueError:
        return None


def valid(text: str) -> bool:
    """True if UDUNITS parses ``text``."""
    return parse(str(text)) is not None


def convertible(units: str, target: str) -> bool:
    """True if ``units`` parses and converts to ``target`` (e.g. any length unit to ``"m"``)."""
    u, t = parse(str(units)), parse(target)
    return u is not None and t is not None and u.is_convertible(t)


def factor(units: str, target: str, *, where: str, field: str) -> float:
    """Multiplier taking values in ``units`` to ``target`` (``value_target = factor * value``).

    Raises :class:`InputError` naming ``where`` (file, line) and ``field`` if ``units`` is missing, unknown or
    not convertible to ``target``."""
    if units is None or str(units).strip() == "":
        raise bad_value(where, f"{field} units", units, f"missing: expected units convertible to {target!r}")
    u = parse(str(units).strip())
    if u is None:
        raise bad_value(where, f"{field} units", units, f"not a known unit (UDUNITS syntax, e.g. {target!r})")
    if not convertible(str(units).strip(), target):
        raise bad_value(where, f"{field} units", units, f"not convertible to {target!r}")
    return float(f"{float(u.convert(1.0, parse(target))):.15g}")  # 1000, not 999.9999999999999


def convert(values: Any, units: str, target: str, *, where: str, field: str) -> np.ndarray:
    """``values`` in ``units`` converted to ``target`` (float64 array); see :func:`factor`."""
    f = factor(units, target, where=where, field=field)
    v = np.asarray(values, dtype=np.float64)
    return v if f == 1.0 else v * f


def bounds(quantity: str) -> tuple[str, float, float]:
    """(units, lower, upper) of a quantity: the config's ``plausible`` value inside :func:`plausible_bounds`,
    else the schema default."""
    if quantity in _override:
        return _override[quantity]
    return (UNITS[quantity], *_default_bounds()[quantity])


@contextlib.contextmanager
def plausible_bounds(config: Mapping[str, Sequence[float]] | None) -> Iterator[None]:
    """Use the config's ``plausible`` bounds ``{quantity: [lower, upper]}`` (in the units of :data:`UNITS`)
    inside the block (``run_step`` wraps every step in it)."""
    saved = dict(_override)
    try:
        for q, (lo, hi) in (config or {}).items():
            if q not in UNITS:
                raise InputError(f"config: key 'plausible.{q}': unknown quantity; known: {sorted(UNITS)}")
            _override[q] = (UNITS[q], float(lo), float(hi))
        yield
    finally:
        _override.clear()
        _override.update(saved)


def check_plausible(values: Any, quantity: str, *, where: str, field: str, units: str | None = None,
                    labels: Sequence[Any] | None = None) -> None:
    """Stop with :class:`InputError` if a value (in ``units``, default those of the bounds) lies outside the
    plausible range of ``quantity``. ``labels`` name the rows for the message (``"file:12"``, or a station
    code appended to ``where``); NaN values are left to the caller's finiteness check."""
    bu, lo, hi = bounds(quantity)
    raw = np.atleast_1d(np.asarray(values, dtype=np.float64))
    v = raw if units is None or units == bu else convert(raw, units, bu, where=where, field=field)
    bad = np.nonzero((v < lo) | (v > hi))[0]
    if bad.size:
        i = int(bad[0])
        at = where if labels is None else (str(labels[i]) if str(labels[i]).startswith(where)
                                           else f"{where} at {labels[i]}")
        raise bad_value(at, field, float(raw[i]), f"implausible {quantity.replace('_', ' ')}: outside "
                        f"[{lo:g}, {hi:g}] {bu} (wrong units?; {bad.size} value(s) out of range; bounds: config "
                        f"key 'plausible.{quantity}')")


def check_finite(values: Any, *, where: str, field: str, labels: Sequence[Any] | None = None) -> None:
    """Stop with :class:`InputError` naming the first NaN/inf value of ``field`` (row label if given)."""
    v = np.atleast_1d(np.asarray(values, dtype=np.float64))
    bad = np.nonzero(~np.isfinite(v))[0]
    if bad.size:
        i = int(bad[0])
        at = f" at {labels[i]!s}" if labels is not None else f" at index {i}"
        raise bad_value(f"{where}{at}", field, float(v.ravel()[i]), f"not finite ({bad.size} value(s))")
