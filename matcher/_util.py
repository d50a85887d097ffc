"""Small helpers shared by the modules (no state, no side effects)."""
from __future__ import annotations

import contextlib
import contextvars
import math

__all__ = ["is_missing", "to_float", "BoundedCache", "CACHE_LIMITS", "LEAN_CACHE_LIMITS", "instance_cache",
           "lean_caches", "merge_output", "release_memory"]

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


def to_float(value, default=None):
    """``float(value)``, or ``default`` where the value is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


# Limits of the per-instance caches (entries).  A full cache drops its oldest entry for each new
# one: memory stays bounded whatever the input, and no cache outlives its owner.
CACHE_LIMITS = {
    "place": 50_000,          # batch: ZIP -> (state, area, message)
    "notes": 50_000,          # batch: notes text -> extracted facts
    "plans": 4_000,           # batch: client profile -> (pathways, plan), 20-30 KB each
    "openings": 20_000,       # batch: (profile, ZIP) -> opening cells
    "titles": 50_000,         # normalize command: (title, language, country) -> output row
    "credentials": 50_000,    # credential normalizer: (text, country) -> result
    "credential_titles": 2_000,  # credential normalizer: text -> title match (with its candidates: ~10 KB)
    "zips": 100_000,          # geography: ZIP -> (state, county, latitude, longitude)
    "wage_figures": 20_000,   # wages: (occupation, area) -> OEWS figures
    "occupation_vectors": 5_000,  # openings: occupation -> similarity to every opening (fewer for big files)
    "routes": 20_000,         # pathways: (occupation, state, area, exams done) -> candidates, 20-30 KB each
    "similarity_rows": 2_000,  # similarity: occupation -> similarity row and its parts, 24 KB each
    "similar": 2_000,         # similarity: occupation -> its most similar occupations, ~28 KB each
    "guesses": 2_000,         # occupation chooser: notes phrase -> title match (~10 KB each)
}
# Where memory matters more than speed (a Dask worker under 600 MB, ``lean_caches``): the route and
# similarity caches hold about 1,000 occupations (about 35 and 30 MB), the plans cache 500 profiles
# (12 MB).  Measured on 100,000 rows and two workers: plans at 1,500 too gave 857 rows/s but 592 MB
# per worker; these limits 747 rows/s and 557 MB; a tenth of the local limits 644 rows/s, 517 MB
# (runs in the same hour: this machine's speed varies by up to a third between hours).
LEAN_CACHE_LIMITS = {**CACHE_LIMITS, "notes": 20_000, "plans": 500, "openings": 5_000, "routes": 1500,
                     "similarity_rows": 1200, "similar": 500}

_LEAN = contextvars.ContextVar("matcher_lean_caches", default=False)


@contextlib.contextmanager
def lean_caches():
    """Caches created inside this block take ``LEAN_CACHE_LIMITS`` (this thread or task only)."""
    token = _LEAN.set(True)
    try:
        yield
    finally:
        _LEAN.reset(token)


class BoundedCache(dict):
    """A dict that drops its oldest entry when it would hold more than ``limit`` entries."""

    def __init__(self, limit: int | str):
        super().__init__()
        limits = LEAN_CACHE_LIMITS if _LEAN.get() else CACHE_LIMITS
        self.limit = limits[limit] if isinstance(limit, str) else int(limit)
        if self.limit < 1:
            raise ValueError(f"a cache limit must be at least 1 (got {self.limit})")

    def __setitem__(self, key, value):
        if key not in self and len(self) >= self.limit:
            del self[next(iter(self))]
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


def instance_cache(owner, name: str, limit: str) -> BoundedCache:
    """The ``BoundedCache`` kept in ``owner.__dict__[name]``, made on first use: its limit is the
    one in force then (``lean_caches`` on a Dask worker), not when the owner was built."""
    cache = owner.__dict__.get(name)
    if cache is None:
        cache = owner.__dict__[name] = BoundedCache(limit)
    return cache


def release_memory() -> None:
    """Hand freed heap memory back to the system (glibc's ``malloc_trim``; elsewhere nothing).
    A worker calls it after loading the model and after each partition: Python frees the
    temporary arrays of a batch, but glibc keeps the pages unless asked."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass
