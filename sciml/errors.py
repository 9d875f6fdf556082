"""Exceptions raised for bad user input (files, config values, geometry)."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input. The message names the file (or config key), the field and the offending value."""


def bad_value(source: str, field: str, value: object, why: str) -> InputError:
    """Build an :class:`InputError` with the project's one message form: ``source: field 'name' = value: why``
    (``source`` names the file and line, or the config key path). Every bad-value message uses it."""
    return InputError(f"{source}: field {field!r} = {value!r}: {why}")
