"""Typed values for nested ``snakemake --config`` overrides.

``snakemake --config ssp='{nebular: {enabled: true, log_u: -2.5}}'`` parses the nested
mapping with YAML's BaseLoader, which keeps every scalar a string (``'true'``, ``'-2.5'``),
so the schema would reject them. :func:`coerce_scalars` turns strings that spell a YAML
boolean, null, integer or float back into those types before validation. Values read
from the config file are already typed and must pass through unchanged (a quoted
``"123"`` or ``"1e-3"`` in a YAML file is a string on purpose): the Snakefile passes the
``--config`` overrides as ``only=`` so that nothing else is touched; ordinary strings (band
names, URLs, ``fast``) are left alone either way.

Limitation: inside a nested ``--config`` value Snakemake's BaseLoader drops quotes, so
``--config catalog='{columns: {id: "123"}}'`` still reads 123 as a number; put such a value
in a ``--configfile`` YAML file, where quotes are kept.
"""

from __future__ import annotations

import re

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?|[-+]?(\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN")
_BOOL = {"true": True, "false": False}
_NULL = {"null", "~"}


def coerce_scalar(value):
    """``'true'`` → True, ``'null'`` → None, ``'3'`` → 3, ``'-2.5'`` / ``'1e-3'`` → float."""
    if not isinstance(value, str):
        return value
    s = value.strip()
    low = s.lower()
    if low in _BOOL:
        return _BOOL[low]
    if low in _NULL:
        return None
    if _INT.fullmatch(s):
        return int(s)
    if _FLOAT.fullmatch(s):
        return float(s.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return value


def coerce_scalars(obj, only=None):
    """Recursively apply :func:`coerce_scalar` to every string inside dicts and lists (in place for dicts).

    ``only``: a mapping with the same nesting (the ``--config`` overrides,
    ``workflow.config_settings.config``): only the values at its keys are coerced, so
    strings from config files (typed by YAML already, quotes honoured) stay strings.
    """
    if only is not None:
        if isinstance(obj, dict) and hasattr(only, "items"):
            for k, sub in only.items():
                if k in obj:
                    obj[k] = coerce_scalars(obj[k], sub if hasattr(sub, "items") else None)
            return obj
        return coerce_scalars(obj)
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = coerce_scalars(obj[k])
        return obj
    if isinstance(obj, list):
        return [coerce_scalars(v) for v in obj]
    return coerce_scalar(obj)
