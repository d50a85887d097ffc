"""Bounded caches: oldest entry out, and the lean limits a Dask worker uses."""
import pytest

from matcher._util import CACHE_LIMITS, LEAN_CACHE_LIMITS, BoundedCache, instance_cache, lean_caches, to_float


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


def test_an_instance_cache_takes_the_limits_in_force_at_first_use():
    """A scorer built before ``lean_caches`` (as on a Dask worker's first partition) still gets the
    lean limits for the caches it makes while scoring inside the block."""
    from matcher.similarity import OccupationSimilarity

    owner = OccupationSimilarity.__new__(OccupationSimilarity)      # no data needed: only its __dict__
    with lean_caches():
        first = instance_cache(owner, "_row_cache", "similarity_rows")
    assert first.limit == LEAN_CACHE_LIMITS["similarity_rows"]
    assert instance_cache(owner, "_row_cache", "similarity_rows") is first      # kept, not remade


def test_to_float():
    assert to_float("41.2") == 41.2 and to_float(3) == 3.0
    assert to_float("n/a") is None and to_float(None, 0.0) == 0.0 and to_float("", 0.0) == 0.0
