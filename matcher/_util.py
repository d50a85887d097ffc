"""Small helpers shared by the modules (no state, no side effects)."""
from __future__ import annotations

import math

__all__ = ["is_missing", "BoundedCache", "CACHE_LIMITS", "merge_output"]

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


# Limits of the per-instance caches (entries).  A cache that reaches its limit is emptied and
# refilled: memory stays bounded whatever the input, and no cache outlives its owner.
CACHE_LIMITS = {
    "place": 50_000,          # batch: ZIP -> (state, area, message)
    "notes": 50_000,          # batch: notes text -> extracted facts
    "plans": 4_000,           # batch: client profile -> (pathways, plan)
    "openings": 20_000,       # batch: (profile, ZIP) -> opening cells
    "titles": 50_000,         # normalize command: (title, language, country) -> output row
    "credentials": 50_000,    # credential normalizer: (text, country) -> result
    "credential_titles": 20_000,
    "zips": 100_000,          # geography: ZIP -> zipcodes record
    "occupation_vectors": 5_000,  # openings: occupation -> similarity to every opening
    "routes": 20_000,         # pathways: (occupation, state, area, exams done) -> candidates
    "similarity_rows": 2_000,  # similarity: occupation -> similarity row
    "guesses": 20_000,        # occupation chooser: notes phrase -> title match
}


class BoundedCache(dict):
    """A dict that empties itself when it would hold more than ``limit`` entries."""

    def __init__(self, limit: int | str):
        super().__init__()
        self.limit = CACHE_LIMITS[limit] if isinstance(limit, str) else int(limit)

    def __setitem__(self, key, value):
        if key not in self and len(self) >= self.limit:
            self.clear()
        super().__setitem__(key, value)


def merge_output(chunk, extra):
    """An output chunk: the input's columns first (the reader's reserved columns dropped; a column
    whose name clashes with an output column kept as '<name>_input'), then the output columns.
    Row order is the input's; neither frame is modified."""
    import pandas as pd

    from .io import RESERVED_COLUMNS

    base = chunk.drop(columns=[c for c in RESERVED_COLUMNS if c in chunk.columns]).reset_index(drop=True)
    clash = {c: f"{c}_input" for c in base.columns if c in extra.columns}
    return pd.concat([base.rename(columns=clash) if clash else base, extra.reset_index(drop=True)], axis=1)
