"""Bounded caches: oldest entry out, and the lean limits a Dask worker uses."""
import pytest

from matcher._util import CACHE_LIMITS, LEAN_CACHE_LIMITS, BoundedCache, lean_caches


def test_a_full_cache_drops_its_oldest_entry():
    c = BoundedCache(3)
    for k in "abcd":
        c[k] = k.upper()
    assert list(c) == ["b", "c", "d"]
    c["b"] = "B2"                                   # an update is not a new entry
    assert list(c) == ["b", "c", "d"] and c["b"] == "B2"
    with pytest.raises(ValueError):
        BoundedCache(0)


def test_lean_limits_apply_inside_the_block_only():
    assert LEAN_CACHE_LIMITS["routes"] < CACHE_LIMITS["routes"]
    with lean_caches():
        inside = BoundedCache("routes")
    assert inside.limit == LEAN_CACHE_LIMITS["routes"] and BoundedCache("routes").limit == CACHE_LIMITS["routes"]
