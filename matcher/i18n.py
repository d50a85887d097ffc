"""Languages of the printable plan: the project's phrase translations and occupation names.

A language is one file, ``matcher/locales/<code>.json``: its own name, its direction and the
translated fixed phrases of the plan page (the keys of ``render.PHRASES_EN``).  Loading a file
checks it: every key must be a known phrase and keep exactly the English phrase's ``{placeholders}``;
a missing phrase falls back to English.

Occupation names in the client's language come from the taxonomy: the ESCO preferred label of the
ESCO occupation the crosswalk maps closest to the O*NET title (es, fr, ar), else the project's
glossary (``taxonomies/glossaries/<lang>.csv``, the ``standard`` variant first); ``None`` when
neither has the occupation, and the page then shows the English title.
"""
from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError, InputError

__all__ = ["Locale", "OccupationNames", "available_languages", "load_locale"]

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
_CODE = re.compile(r"^[a-z]{2,3}$")
# glossary variants in order of preference for a name printed on a plan
GLOSSARY_VARIANTS = ("standard", "masculine", "variant", "feminine", "informal", "plural", "abbreviation",
                     "transliteration")


@dataclass(frozen=True)
class Locale:
    code: str
    name: str
    direction: str
    phrases: dict = field(default_factory=dict, compare=False)
    note: str = ""


def _placeholders(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


def available_languages() -> dict[str, str]:
    """Language code -> the language's own name, English first."""
    out = {"en": "English"}
    for p in sorted(LOCALES_DIR.glob("*.json")):
        try:
            out[p.stem] = json.loads(p.read_text(encoding="utf-8")).get("name") or p.stem
        except (OSError, ValueError):
            continue
    return out


def load_locale(code: str | None) -> Locale:
    """The phrases of one language (``en`` or None: English).  An unknown code -> InputError;
    a malformed file -> DataError naming the key."""
    from .render import PHRASES_EN

    code = (code or "en").strip().lower()
    if code == "en":
        return Locale("en", "English", "ltr", dict(PHRASES_EN))
    if not _CODE.match(code) or not (LOCALES_DIR / f"{code}.json").is_file():
        langs = ", ".join(available_languages())
        raise InputError(f"no translation of the plan for language {code[:10]!r}: one of {langs}")
    path = LOCALES_DIR / f"{code}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path.name}: not readable JSON ({type(e).__name__})") from e
    direction = data.get("direction", "ltr")
    if direction not in ("ltr", "rtl"):
        raise DataError(f"{path.name}: direction must be 'ltr' or 'rtl'")
    phrases = data.get("phrases") or {}
    for k, v in phrases.items():
        if k not in PHRASES_EN:
            raise DataError(f"{path.name}: unknown phrase key {k!r}")
        if not isinstance(v, str):
            raise DataError(f"{path.name}: phrase {k!r} is not text")
        if _placeholders(v) != _placeholders(PHRASES_EN[k]):
            raise DataError(f"{path.name}: phrase {k!r} must keep the placeholders "
                            f"{sorted(_placeholders(PHRASES_EN[k]))}")
    merged = dict(PHRASES_EN)
    merged.update({k: v for k, v in phrases.items() if v})
    return Locale(code, str(data.get("name") or code), direction, merged, str(data.get("translator_note") or ""))


class OccupationNames:
    """O*NET-SOC code -> the occupation's name in a language, from the taxonomy (see module doc)."""

    def __init__(self, taxonomy=None):
        self.taxonomy = taxonomy

    def fit(self) -> OccupationNames:
        from rapidfuzz import fuzz

        from .taxonomy import load_taxonomy

        tax = self.taxonomy or load_taxonomy()
        self.taxonomy = tax
        names: dict[tuple[str, str], str] = {}
        esco = tax.esco_aliases
        esco = esco[(esco["source"] == "esco_preferred") & (esco["route"] == "crosswalk")]
        english = (esco[esco["lang"] == "en"].drop_duplicates("esco_id").set_index("esco_id")["alias"].to_dict())
        titles = tax.titles
        # per (code, language): the ESCO occupation of the crosswalk's primary mapping whose English
        # label is closest to the O*NET title
        best: dict[tuple[str, str], tuple[tuple, str, str]] = {}
        for code, lang, eid, alias, w in esco[esco["lang"] != "en"][
                ["onet_code", "lang", "esco_id", "alias", "route_weight"]].itertuples(index=False):
            en = english.get(eid, "")
            # the crosswalk's primary mapping (weight 1.0) first, then the closest English label
            score = (float(w), fuzz.token_set_ratio(en.lower(), str(titles.get(code, "")).lower()))
            key = (code, lang)
            cand = (score, str(eid), str(alias))
            cur = best.get(key)
            # highest score; ties: the lower ESCO id, then the first label (file order is sorted)
            if cur is None or cand[0] > cur[0] or (cand[0] == cur[0] and cand[1] < cur[1]):
                best[key] = cand
        names.update({k: v[2] for k, v in best.items()})
        g = tax.glossaries
        if len(g):
            rank = {v: i for i, v in enumerate(GLOSSARY_VARIANTS)}
            g = g.assign(_r=g["variant"].map(rank).fillna(len(rank)), _i=range(len(g)))
            for code, lang, term in g.sort_values(["_r", "_i"])[["onet_code", "lang", "term"]].itertuples(index=False):
                names.setdefault((str(code), str(lang)), str(term))
        self.names_ = names
        return self

    def name(self, onet_code: str, lang: str) -> str | None:
        if not hasattr(self, "names_"):
            raise InputError("OccupationNames is not fitted: call fit() first")
        if not lang or lang == "en":
            return None
        return self.names_.get((str(onet_code), str(lang)))
