"""Checks shared by the frozen settings dataclasses: each returns the list of problems it finds,
so a config can report every problem at once (ConfigError.problems)."""
from __future__ import annotations

from typing import Iterable


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def integer_problems(obj, names: Iterable[str], minimum: int = 1) -> list[str]:
    """Fields of ``obj`` that are not integers >= ``minimum``."""
    kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f">= {minimum}"
    return [f"{n} must be a {kind} integer (got {getattr(obj, n)!r})" for n in names
            if not isinstance(getattr(obj, n), int) or isinstance(getattr(obj, n), bool) or getattr(obj, n) < minimum]


def number_problems(obj, names: Iterable[str], low: float = 0.0, high: float | None = None) -> list[str]:
    """Fields of ``obj`` that are not numbers in [low, high] (no upper bound when ``high`` is None)."""
    where = f"in [{low:g}, {high:g}]" if high is not None else ("non-negative" if low == 0 else f">= {low:g}")
    out = []
    for n in names:
        v = getattr(obj, n)
        if not _number(v) or v < low or (high is not None and v > high):
            out.append(f"{n} must be a number {where} (got {v!r})" if high is not None or low != 0
                       else f"{n} must be a non-negative number (got {v!r})")
    return out
