"""Typed values for nested ``snakemake --config`` overrides.

``snakemake --config ssp='{nebular: {enabled: true, log_u: -2.5}}'`` parses the nested
mapping with YAML's BaseLoader, which keeps every scalar a string (``'true'``, ``'-2.5'``),
so the schema would reject them. :func:`coerce_scalars` turns strings that spell a YAML
boolean, null, integer or float back into those types before validation. Values read
from the config file are already typed and pass through unchanged; ordinary strings
(band names, URLs, ``fast``) are left alone.
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


def coerce_scalars(obj):
    """Recursively apply :func:`coerce_scalar` to every string inside dicts and lists (in place for dicts)."""
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = coerce_scalars(obj[k])
        return obj
    if isinstance(obj, list):
        return [coerce_scalars(v) for v in obj]
    return coerce_scalar(obj)
