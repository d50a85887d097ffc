"""Foreign credential normalization: credential type and ISCED 2011 level, usual US equivalent,
field of study, the O*NET occupations it prepares for, and the evaluation services a US board
typically requires.  The rules are data (taxonomies/credentials/*.csv); this module only reads
and applies them.  Every result is a preliminary orientation, never an official evaluation."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Iterable, Sequence

import pandas as pd

from ._util import instance_cache, is_missing
from .errors import DataError, InputError
from .taxonomy import Taxonomy, load_taxonomy
from .text import fold, has_letters, transliterate_cyrillic

__all__ = ["CredentialNormalizer", "CredentialResult", "DISCLAIMER", "normalize_country", "credentials_to_frame"]

DISCLAIMER = ("Preliminary orientation only, not an official credential evaluation: the licensing board "
              "or a NACES/AICE member evaluator decides equivalency.")
LEVEL_LABELS = {2: "lower secondary", 3: "upper secondary", 4: "post-secondary non-tertiary", 5: "short-cycle tertiary",
                6: "bachelor's or equivalent", 7: "master's or equivalent", 8: "doctoral or equivalent"}

# ISO 3166-1 alpha-2 codes for the names navigators type (English, Spanish, French, native).
_COUNTRY_NAMES = {
    "CU": "cuba", "MX": "mexico|méxico|mexique", "GT": "guatemala", "VE": "venezuela", "CO": "colombia|colombie",
    "HT": "haiti|haïti|ayiti", "CD": "dr congo|drc|congo-kinshasa|democratic republic of the congo|rdc|rd congo|"
    "république démocratique du congo|congo (drc)", "CG": "congo-brazzaville|republic of the congo",
    "BI": "burundi", "RW": "rwanda", "SY": "syria|siria|syrie|سوريا", "IQ": "iraq|irak|العراق",
    "SD": "sudan|soudan|السودان", "SS": "south sudan", "AF": "afghanistan|afganistán|افغانستان",
    "UA": "ukraine|ucrania|україна", "RU": "russia|rusia|russie|россия|russian federation",
    "IN": "india|inde", "PH": "philippines|filipinas", "NG": "nigeria", "GH": "ghana", "KE": "kenya",
    "SO": "somalia|somalie|soomaaliya", "NP": "nepal|népal", "VN": "vietnam|viet nam|việt nam",
    "BR": "brazil|brasil|brésil", "HN": "honduras", "SV": "el salvador", "NI": "nicaragua", "DO": "dominican republic|república dominicana",
    "PE": "peru|perú", "EC": "ecuador", "BO": "bolivia", "AR": "argentina", "CL": "chile", "ET": "ethiopia",
    "ER": "eritrea", "EG": "egypt|مصر", "JO": "jordan|الأردن", "LB": "lebanon|لبنان", "IR": "iran|ایران",
    "PK": "pakistan", "BD": "bangladesh", "MM": "myanmar|burma", "BT": "bhutan", "TZ": "tanzania", "UG": "uganda",
    "CM": "cameroon|cameroun", "CI": "côte d'ivoire|ivory coast", "SN": "senegal|sénégal", "PT": "portugal",
    "ES": "spain|españa", "FR": "france", "DE": "germany|deutschland", "US": "united states|usa|us",
}
_COUNTRY_LOOKUP = {fold(n): code for code, names in _COUNTRY_NAMES.items() for n in names.split("|")}


def normalize_country(value: object) -> str:
    """ISO alpha-2 code for a code or a common name ('' when unknown or empty)."""
    if not isinstance(value, str) and is_missing(value):
        return ""
    v = str(value).strip()
    if len(v) == 2 and v.isalpha():
        return v.upper()
    return _COUNTRY_LOOKUP.get(fold(v), "")


_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def credential_key(text: object) -> str:
    """Folded, transliterated, punctuation-free form used to compare credential names."""
    if not isinstance(text, str) and is_missing(text):
        return ""
    t = transliterate_cyrillic(fold(str(text)))
    return " ".join(_NON_WORD.sub(" ", t).split())


@dataclass(frozen=True)
class CredentialResult:
    query: str
    country: str
    status: str                      # matched (type and field), partial (one of them), no_match
    credential_id: str
    credential_matched: str          # the name variant found in the text
    credential_type: str
    isced_level: int | None
    isced_label: str
    us_equivalent: str
    typical_years: str
    field_id: str
    field_name: str
    field_matched: str               # the field term found in the text ('' when implied by the credential)
    target_onet_codes: tuple[str, ...]
    target_onet_titles: tuple[str, ...]
    evaluation_services: tuple[str, ...]
    evaluation_service_names: tuple[str, ...]
    explanation: str
    disclaimer: str
    sources: tuple[str, ...]
    confirmed: str                   # the weakest 'confirmed' flag of the rows used
    data_version: str
    taxonomy_version: str

    def to_dict(self) -> dict:
        return asdict(self)


def credentials_to_frame(results: Sequence[CredentialResult]) -> pd.DataFrame:
    """The columns of ``matcher credentials``, one row per result, in order."""
    return pd.DataFrame({
        "credential_type": [r.credential_type for r in results],
        "isced_level": [r.isced_level if r.isced_level is not None else "" for r in results],
        "us_equivalent": [r.us_equivalent for r in results],
        "field": [r.field_name for r in results],
        "target_onet_codes": ["|".join(r.target_onet_codes) for r in results],
        "evaluation_services": ["|".join(r.evaluation_service_names) for r in results],
        "status": [r.status for r in results],
        "explanation": [r.explanation for r in results],
        "data_version": [r.data_version for r in results],
    })


class CredentialNormalizer:
    """Reads taxonomies/credentials/ and normalizes credential names.

    ``title_matcher`` (optional) ranks occupations for credentials whose field is not in the
    field table, from the text itself."""

    def __init__(self, taxonomy: Taxonomy | None = None, title_matcher=None, fuzzy_cutoff: float = 90.0,
                 max_targets: int = 5):
        self.taxonomy = taxonomy or load_taxonomy()
        self.title_matcher = title_matcher
        self.fuzzy_cutoff = fuzzy_cutoff
        self.max_targets = max_targets

    # --- data ---
    @cached_property
    def _tables(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        root = self.taxonomy.root / "credentials"
        try:
            cred = pd.read_csv(root / "credentials.csv", dtype=str, keep_default_na=False)
            fields = pd.read_csv(root / "fields.csv", dtype=str, keep_default_na=False)
            services = pd.read_csv(root / "services.csv", dtype=str, keep_default_na=False)
        except FileNotFoundError as e:
            raise DataError(f"credential data missing: {e.filename}") from e
        return cred.set_index("credential_id", drop=False), fields.set_index("field_id", drop=False), \
            services.set_index("service_id", drop=False)

    @cached_property
    def data_version(self) -> str:
        return self.taxonomy.curated_version("credentials")

    @cached_property
    def _names(self) -> list[tuple[str, str, frozenset]]:
        """(name key, credential id, countries) for every name variant, longest first."""
        cred, _, _ = self._tables
        out = []
        for cid, names, countries in zip(cred["credential_id"], cred["names"], cred["countries"]):
            cs = frozenset(c.strip().upper() for c in countries.split("|") if c.strip())
            for n in names.split("|"):
                k = credential_key(n)
                if len(k) >= 2:
                    out.append((k, cid, cs))
        out.sort(key=lambda x: (-len(x[0]), x[0], x[1]))
        return out

    @cached_property
    def _field_terms(self) -> list[tuple[str, str]]:
        _, fields, _ = self._tables
        out = []
        for fid, terms, name in zip(fields["field_id"], fields["terms"], fields["field_name"]):
            for t in terms.split("|") + [name]:
                k = credential_key(t)
                if len(k) >= 3 or k in ("llb", "bds", "gnm", "anm", "bsn"):
                    out.append((k, fid))
        out = list(dict.fromkeys(out))
        out.sort(key=lambda x: (-len(x[0]), x[0]))
        return out

    # --- matching ---
    @staticmethod
    def _contains(text: str, phrase: str) -> bool:
        return f" {phrase} " in f" {text} "

    def _find_credential(self, key: str, country: str) -> tuple[str, str, str]:
        """(credential id, matched name, method).  Longest name contained in the text wins; a
        name listed for the client's country beats a generic or foreign one of equal length."""
        best = None
        for name, cid, countries in self._names:
            if best and len(name) < len(best[0]):
                break
            if self._contains(key, name):
                score = 2 if country and country in countries else (1 if "*" in countries or not country else 0)
                if best is None or score > best[2]:
                    best = (name, cid, score)
        if best:
            return best[1], best[0], "name contained in text"
        from rapidfuzz import fuzz, process

        names = [n for n, _, _ in self._names if len(n) >= 5]
        hit = process.extractOne(key, names, scorer=fuzz.partial_ratio, score_cutoff=self.fuzzy_cutoff)
        if hit and len(key) >= 5:
            for n, cid, countries in self._names:
                if n == hit[0] and (not country or country in countries or "*" in countries):
                    return cid, n, f"fuzzy name match ({hit[1]:.0f})"
        return "", "", ""

    def _find_field(self, key: str) -> tuple[str, str]:
        for term, fid in self._field_terms:
            if self._contains(key, term):
                return fid, term
        from rapidfuzz import fuzz, process

        terms = [t for t, _ in self._field_terms if len(t) >= 6]
        hit = process.extractOne(key, terms, scorer=fuzz.partial_ratio, score_cutoff=92)
        if hit:
            return dict(self._field_terms)[hit[0]], hit[0]
        return "", ""

    def normalize(self, text: object, country: object = None) -> CredentialResult:
        return self.normalize_many([text], [country])[0]

    def normalize_many(self, texts: Iterable[object], countries: Sequence[object] | None = None) -> list[CredentialResult]:
        texts = list(texts)
        countries = list(countries) if countries is not None else [None] * len(texts)
        if len(countries) != len(texts):
            raise InputError("countries must have one entry per credential")
        cache = instance_cache(self, "_result_cache", "credentials")
        out = []
        for t, c in zip(texts, countries):
            k = ("" if not isinstance(t, str) and is_missing(t) else str(t), normalize_country(c))
            if k not in cache:
                cache[k] = self._normalize_one(*k)
            out.append(cache[k])
        return out

    def _normalize_one(self, text: str, country: str) -> CredentialResult:
        cred, fields, services = self._tables
        key = credential_key(text)
        if not has_letters(key):
            return self._empty(text, country, "empty credential" if not text.strip() else "no letters in credential")
        cid, cname, cmethod = self._find_credential(key, country)
        fid, fterm = self._find_field(key)
        row = cred.loc[cid] if cid else None
        field_implied = False
        if not fid and row is not None and row["default_field"]:
            fid, field_implied = row["default_field"], True
        frow = fields.loc[fid] if fid and fid in fields.index else None
        isced = int(row["isced_level"]) if row is not None and row["isced_level"].isdigit() else None
        targets: list[str] = []
        level_rule = ""
        if frow is not None:
            higher = [c for c in frow["target_onet_higher"].split("|") if c]
            technical = [c for c in frow["target_onet_technical"].split("|") if c]
            if isced is not None and isced <= 5 and technical:
                targets, level_rule = technical, f"ISCED {isced} <= 5: technical-level occupations"
            else:
                targets = higher or technical
                level_rule = (f"ISCED {isced} >= 6: professional-level occupations" if isced is not None
                              else "level unknown: professional-level occupations first")
        elif self.title_matcher is not None:
            m = self._title_match(text)
            if m.status != "no_match":
                targets = [c.onet_code for c in m.candidates]
                level_rule = f"no field in the field table; occupations from the title matcher ({m.explanation})"
        targets = [c for c in dict.fromkeys(targets) if c in self.taxonomy.titles][: self.max_targets]
        svc = [s for s in (frow["evaluation_services"].split("|") if frow is not None else []) if s]
        if not svc and (row is not None or frow is not None):
            svc = ["naces"]
        svc = [s for s in svc if s in services.index]
        status = "matched" if (row is not None and frow is not None) else ("partial" if (row is not None or frow is not None or targets) else "no_match")
        parts = []
        if row is not None:
            parts.append(f"credential '{cname}' -> {row['credential_id']} ({row['credential_type']}, ISCED {row['isced_level']}, "
                         f"usually {row['us_equivalent']}; countries {row['countries']}; {cmethod})")
        else:
            parts.append("credential type not recognized")
        if frow is not None:
            parts.append(f"field {frow['field_name']} " + ("(implied by the credential)" if field_implied else f"from '{fterm}'"))
        else:
            parts.append("field of study not recognized")
        if level_rule:
            parts.append(level_rule)
        if country and row is not None and country not in row["countries"].split("|") and "*" not in row["countries"]:
            parts.append(f"note: this credential name is listed for {row['countries']}, not {country}")
        sources = tuple(dict.fromkeys(s for s in [row["source_url"] if row is not None else "",
                                                  frow["source_url"] if frow is not None else ""] if s))
        flags = [r["confirmed"] for r in (row, frow) if r is not None]
        confirmed = "no" if "no" in flags else ("partial" if "partial" in flags else ("yes" if flags else ""))
        return CredentialResult(
            query=text, country=country, status=status, credential_id=cid, credential_matched=cname,
            credential_type=row["credential_type"] if row is not None else "",
            isced_level=isced, isced_label=LEVEL_LABELS.get(isced, "") if isced else "",
            us_equivalent=row["us_equivalent"] if row is not None else "",
            typical_years=row["typical_years"] if row is not None else "",
            field_id=fid if frow is not None else "", field_name=frow["field_name"] if frow is not None else "",
            field_matched="" if field_implied else fterm,
            target_onet_codes=tuple(targets), target_onet_titles=tuple(self.taxonomy.title(c) for c in targets),
            evaluation_services=tuple(svc), evaluation_service_names=tuple(services.loc[s, "name"] for s in svc),
            explanation="; ".join(parts) + ". " + DISCLAIMER, disclaimer=DISCLAIMER, sources=sources,
            confirmed=confirmed, data_version=self.data_version, taxonomy_version=self.taxonomy.version)

    def _title_match(self, text: str):
        cache = instance_cache(self, "_title_cache", "credential_titles")
        if text not in cache:
            cache[text] = self.title_matcher.match(text)
        return cache[text]

    def _empty(self, text: str, country: str, reason: str) -> CredentialResult:
        return CredentialResult(text, country, "no_match", "", "", "", None, "", "", "", "", "", "", (), (), (), (),
                                f"no match: {reason}. {DISCLAIMER}", DISCLAIMER, (), "", self.data_version,
                                self.taxonomy.version)
