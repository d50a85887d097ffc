"""Intake files: schema, column mapping, per-field parsing with messages, and extraction of job
titles, credentials, passed exams, English level and years of experience from free-text notes
(spaCy tokenizer and rule matcher, loaded lazily)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping


from .licensing import CEFR_LEVELS

__all__ = ["INTAKE_FIELDS", "REQUIRED_FIELDS", "ClientRecord", "resolve_columns", "parse_row", "NotesExtractor",
           "NotesFacts"]

INTAKE_FIELDS = ("client_id", "previous_title", "credential", "country", "language", "english_level",
                 "years_experience", "zip", "needs_income_now", "budget_usd", "notes")
REQUIRED_FIELDS = ("client_id", "previous_title", "credential")
# accepted column names per field (compared case- and punctuation-insensitively)
SYNONYMS = {
    "client_id": ["client_id", "client", "id", "client_number", "case_id", "participant_id"],
    "previous_title": ["previous_title", "previous_job", "previous_job_title", "job_title", "title", "occupation",
                       "last_job", "profession", "former_job"],
    "credential": ["credential", "degree", "diploma", "qualification", "education", "foreign_credential"],
    "country": ["country", "country_of_origin", "origin", "country_of_training"],
    "language": ["language", "lang", "primary_language", "native_language"],
    "english_level": ["english_level", "english", "cefr", "english_cefr", "esl_level"],
    "years_experience": ["years_experience", "years", "experience_years", "years_of_experience", "experience"],
    "zip": ["zip", "zipcode", "zip_code", "postal_code"],
    "needs_income_now": ["needs_income_now", "need_income_now", "needs_income", "urgent_income", "income_now"],
    "budget_usd": ["budget_usd", "budget", "savings", "savings_usd"],
    "notes": ["notes", "note", "comments", "navigator_notes", "case_notes"],
}


def resolve_columns(columns, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """Map intake fields to the file's columns: explicit ``mapping`` (COLUMN -> FIELD) first,
    then the synonyms.  Raises MissingColumnsError listing every required field not found."""
    from .io import map_columns

    return map_columns(columns, INTAKE_FIELDS, SYNONYMS, REQUIRED_FIELDS, mapping, "field", "--map")


@dataclass(frozen=True)
class NotesFacts:
    titles: tuple[str, ...] = ()
    credentials: tuple[str, ...] = ()
    passed: tuple[str, ...] = ()
    english_level: str | None = None
    english_evidence: str = ""
    years_experience: float | None = None


@dataclass(frozen=True)
class ClientRecord:
    client_id: str
    previous_title: str
    credential: str
    country: str
    language: str
    english_level: str | None
    years_experience: float | None
    zip: str
    needs_income_now: bool
    budget_usd: float | None
    notes: str
    passed: tuple[str, ...] = ()
    sources: dict = field(default_factory=dict, compare=False, hash=False)   # field -> "column" or "notes"
    messages: tuple[str, ...] = ()


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_IELTS_TO_CEFR = [(8.5, "C2"), (7.0, "C1"), (5.5, "B2"), (4.0, "B1"), (3.0, "A2"), (0.0, "A1")]
_TOEFL_TO_CEFR = [(114, "C2"), (95, "C1"), (72, "B2"), (42, "B1"), (0, "A2")]


def _cefr_from_score(test: str, score: float) -> str | None:
    table = _IELTS_TO_CEFR if test == "ielts" else _TOEFL_TO_CEFR if test == "toefl" else None
    if table is None:
        return None
    if test == "ielts" and not 0 <= score <= 9:
        return None
    if test == "toefl" and not 0 <= score <= 120:
        return None
    return next(level for cut, level in table if score >= cut)


def parse_row(raw: Mapping[str, object], columns: Mapping[str, str], facts: NotesFacts | None = None) -> ClientRecord:
    """One intake row -> ClientRecord; invalid values are dropped with a message, and empty
    fields are filled from the notes' facts when there are any."""
    get = lambda f: _cell(raw.get(columns[f])) if f in columns else ""  # noqa: E731
    msgs: list[str] = []
    sources: dict[str, str] = {}
    english = get("english_level").upper().replace(" ", "")
    if english and english not in CEFR_LEVELS:
        msgs.append(f"english_level {get('english_level')!r} is not a CEFR level (A1..C2); ignored")
        english = ""
    years: float | None = None
    ytxt = get("years_experience")
    if ytxt:
        try:
            years = float(ytxt.replace(",", "."))
            if years < 0 or years > 70:
                msgs.append(f"years_experience {ytxt!r} is out of range; ignored")
                years = None
        except ValueError:
            w = _WORD_NUMBERS.get(ytxt.lower())
            if w is not None:
                years = float(w)
                msgs.append(f"years_experience {ytxt!r} read as {w}")
            else:
                msgs.append(f"years_experience {ytxt!r} is not a number; ignored")
    budget: float | None = None
    btxt = get("budget_usd").replace("$", "").replace(",", "")
    if btxt:
        try:
            budget = float(btxt)
            if budget < 0:
                msgs.append(f"budget_usd {get('budget_usd')!r} is negative; treated as 0")
                budget = 0.0
        except ValueError:
            msgs.append(f"budget_usd {get('budget_usd')!r} is not a number; ignored")
    need_txt = get("needs_income_now").lower()
    if need_txt in ("yes", "y", "true", "1", "si", "sí", "oui", "x"):
        need = True
    elif need_txt in ("", "no", "n", "false", "0", "non"):
        need = False
    else:
        need = False
        msgs.append(f"needs_income_now {get('needs_income_now')!r} is not yes/no; read as no")
    zip_code = re.sub(r"[^0-9]", "", get("zip"))[:5]
    if get("zip") and len(zip_code) != 5:
        msgs.append(f"zip {get('zip')!r} is not a 5-digit ZIP; ignored")
        zip_code = ""
    title, credential = get("previous_title"), get("credential")
    passed: tuple[str, ...] = ()
    for f, v in (("previous_title", title), ("credential", credential), ("english_level", english)):
        if v:
            sources[f] = "column"
    if years is not None:
        sources["years_experience"] = "column"
    if facts is not None:
        passed = facts.passed
        if not title and facts.titles:
            title = facts.titles[0]
            sources["previous_title"] = "notes"
            msgs.append(f"previous_title taken from notes: {title!r}")
        if not credential and facts.credentials:
            credential = facts.credentials[0]
            sources["credential"] = "notes"
            msgs.append(f"credential taken from notes: {credential!r}")
        if not english and facts.english_level:
            english = facts.english_level
            sources["english_level"] = "notes"
            msgs.append(f"english_level {english} from notes ({facts.english_evidence})")
        if years is None and facts.years_experience is not None:
            years = facts.years_experience
            sources["years_experience"] = "notes"
            msgs.append(f"years_experience {years:g} from notes")
        if passed:
            msgs.append("already passed (from notes): " + ", ".join(passed))
    return ClientRecord(get("client_id"), title, credential, get("country"), get("language").lower(),
                        english or None, years, zip_code, need, budget, get("notes"), passed, sources, tuple(msgs))


# --- notes -----------------------------------------------------------------------------------
_EXAMS = {
    "NCLEX": [["nclex"], ["nclex", "-", "rn"], ["nclex", "rn"], ["nclex", "-", "pn"], ["nclex", "pn"]],
    "USMLE Step 1": [["usmle", "step", "1"], ["step", "1"]],
    "USMLE Step 2 CK": [["usmle", "step", "2"], ["step", "2"], ["step", "2", "ck"], ["usmle", "step", "2", "ck"]],
    "USMLE Step 3": [["usmle", "step", "3"], ["step", "3"]],
    "OET": [["oet"]], "ECFMG certification": [["ecfmg", "certified"], ["ecfmg", "certificate"]],
    "CGFNS": [["cgfns"]], "NAPLEX": [["naplex"]], "FPGEE": [["fpgee"]], "FE exam": [["fe", "exam"], ["eit"]],
    "PE exam": [["pe", "exam"]], "INBDE": [["inbde"], ["nbde"]], "NBCOT": [["nbcot"]], "NPTE": [["npte"]],
    "ARRT": [["arrt"]], "ASCP": [["ascp"]], "CDL": [["cdl"]], "ServSafe": [["servsafe"]],
}
_NEGATIONS = {"not", "failed", "fail", "studying", "scheduled", "preparing", "prepare", "planning", "plan", "will",
              "needs", "need", "pending", "waiting", "before", "for", "towards", "toward"}
_TITLE_RE = re.compile(
    r"\b(?:worked|working|work|was|served|employed)\s+(?:for\s+)?(?:\d+\+?\s+\w+\s+)?as\s+(?:an?\s+)?"
    r"([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ/\- ]{2,40}?)(?=\s+(?:for|in|at|since|during|with|from)\b|[.,;(]|$)", re.I)
_FORMER_RE = re.compile(r"\b(?:former|ex-|previously an?|formerly an?)\s*([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ/\- ]{2,40}?)"
                        r"(?=\s+(?:for|in|at|since|with|from|\d)\b|[.,;(]|$)", re.I)
_CRED_RE = re.compile(r"\b(MBBS|MBChB|MBBCh|BDS|B\.?\s?Pharm|Pharm\.?\s?D|BSN|B\.?\s?Sc\.?\s+Nursing|GNM|ANM|"
                      r"HND|B\.?\s?Tech|B\.?\s?E\.|Diplom-Ingenieur|Licenciatura en [A-Za-zÀ-ÿ ]{3,30}|"
                      r"Bachelor(?:'s)? (?:of|in) [A-Za-z ]{3,30}|Master(?:'s)? (?:of|in) [A-Za-z ]{3,30})\b", re.I)
_YEARS_RE = re.compile(r"\b(\d{1,2}(?:\.\d)?|" + "|".join(_WORD_NUMBERS) + r")\+?\s*(?:years?|yrs?)\b", re.I)
_CEFR_RE = re.compile(r"\b(?:english|cefr|level)?\W{0,3}\b([ABC][12])\b")
_SCORE_RE = re.compile(r"\b(ielts|toefl(?:\s*ibt)?)\s*(?:score\s*)?(?:of\s*)?(\d{1,3}(?:\.\d)?)\b", re.I)


class NotesExtractor:
    """Rule-based extraction from English navigator notes.  Passed exams use spaCy's Matcher
    over a blank English pipeline (tokenizer only, loaded on first use); a mention counts as
    passed unless a negation or plan word stands in the three tokens before or after it."""

    def __init__(self, lang: str = "en"):
        self.lang = lang

    @cached_property
    def _nlp(self):
        import spacy
        from spacy.matcher import Matcher

        nlp = spacy.blank(self.lang)
        matcher = Matcher(nlp.vocab)
        for label, patterns in _EXAMS.items():
            matcher.add(label, [[{"LOWER": t} for t in p] for p in patterns])
        return nlp, matcher

    def extract(self, notes: str) -> NotesFacts:
        text = _cell(notes)
        if not text:
            return NotesFacts()
        nlp, matcher = self._nlp
        doc = nlp(text)
        passed: dict[str, int] = {}
        spans = sorted(matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        covered = -1
        for match_id, start, end in spans:
            if start < covered:
                continue
            covered = end
            label = nlp.vocab.strings[match_id]
            window = {t.lower_ for t in doc[max(0, start - 3):start]} | {t.lower_ for t in doc[end:end + 2]}
            sent_after = doc[end:end + 4].text.lower()
            if window & _NEGATIONS or "pending" in sent_after:
                continue
            if label == "USMLE Step 1" and "usmle" not in text.lower() and "step 1" not in text.lower():
                continue
            passed.setdefault(label, start)
        # "Step 1 and Step 2 CK passed" / "USMLE Step 1 and 2 passed"
        low = text.lower()
        if re.search(r"step\s*1\s*(?:and|&|,)\s*(?:step\s*)?2", low) and re.search(r"\bpassed\b", low):
            passed.setdefault("USMLE Step 1", 0)
            passed.setdefault("USMLE Step 2 CK", 0)
        english, evidence = None, ""
        m = _SCORE_RE.search(text)
        if m:
            test = "ielts" if m.group(1).lower().startswith("ielts") else "toefl"
            english = _cefr_from_score(test, float(m.group(2)))
            evidence = m.group(0)
        if english is None:
            m2 = re.search(r"\benglish\b[^.;]{0,20}?\b([ABC][12])\b|\b([ABC][12])\b[^.;]{0,10}\benglish\b", text, re.I)
            if m2:
                english = (m2.group(1) or m2.group(2)).upper()
                evidence = m2.group(0)
        years = None
        ym = _YEARS_RE.search(text)
        if ym:
            v = ym.group(1).lower()
            years = float(_WORD_NUMBERS.get(v, v)) if v in _WORD_NUMBERS else float(v)
        titles = [t.strip(" -") for t in (_TITLE_RE.findall(text) + _FORMER_RE.findall(text)) if t.strip()]
        creds = [c.strip() for c in _CRED_RE.findall(text)]
        return NotesFacts(tuple(dict.fromkeys(titles)), tuple(dict.fromkeys(creds)),
                          tuple(sorted(passed, key=passed.get)), english, evidence, years)
