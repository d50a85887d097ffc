"""Small helpers shared by the modules (no state, no side effects)."""
from __future__ import annotations

import math

__all__ = ["is_missing"]

_MISSING_STRINGS = {"", "nan", "none", "null", "n/a", "na", "<na>", "nat"}


def is_missing(value) -> bool:
    """True for None, NaN/NaT/pd.NA, and blank or placeholder strings ('', 'nan', 'None', 'N/A')."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip().lower() in _MISSING_STRINGS
    try:
        import pandas as pd

        return bool(pd.isna(value)) if pd.api.types.is_scalar(value) else False
    except (TypeError, ValueError):
        return False
