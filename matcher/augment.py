"""Realistic noise for training queries: what job postings and intake forms do to a clean title
(seniority, shifts, pay, places, requisition numbers, abbreviations, typos, dropped words,
missing accents, case).  Deterministic for a given random generator."""
from __future__ import annotations

import random
import unicodedata

from .text import ABBREVIATIONS

_PREFIXES = ["Sr.", "Senior", "Lead", "Jr.", "Entry Level", "Experienced", "Travel", "PRN", "Staff", "Hiring"]
_SUFFIXES = ["- Louisville, KY", "(Louisville, KY)", "- Nights", "- PRN", "- Full Time", "- 2nd Shift",
             "- Days", "- $22/hr", "- $2050/wk", "- Part Time", "II", "III", "- Req #48213", "- Weekends",
             "- $5,000 Sign On Bonus", "- Remote", "(FT)", "- Lexington, KY", "- Indianapolis, IN", "Job",
             "- Entry Level", "| Cincinnati, OH", "- Nashville, TN", "- Temporary"]
_REVERSE = {}
for _abbr, _exp in ABBREVIATIONS.items():
    if _exp and " " in _exp and _abbr.isalpha() and len(_abbr) <= 5:
        _REVERSE.setdefault(_exp, _abbr.upper())


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.4:
        return word[:i] + word[i + 1:]
    if op < 0.8:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def add_noise(title: str, rng: random.Random, strength: float = 1.0) -> str:
    """One noisy variant of ``title``; ``strength`` scales every probability."""
    t = title
    p = lambda x: rng.random() < x * strength  # noqa: E731
    low = t.lower()
    for exp, abbr in _REVERSE.items():
        if exp in low and p(0.5):
            start = low.index(exp)
            t = t[:start] + abbr + t[start + len(exp):]
            low = t.lower()
            break
    words = t.split()
    if len(words) > 2 and p(0.12):
        del words[rng.randrange(len(words))]
    if words and p(0.15):
        j = rng.randrange(len(words))
        words[j] = _typo(words[j], rng)
    t = " ".join(words)
    if p(0.2):
        t = f"{rng.choice(_PREFIXES)} {t}"
    if p(0.35):
        t = f"{t} {rng.choice(_SUFFIXES)}"
    if p(0.1):
        t = f"{t} {rng.choice(_SUFFIXES)}"
    if p(0.15):
        t = strip_accents(t)
    if p(0.08):
        t = t.upper()
    elif p(0.15):
        t = t.lower()
    return t
