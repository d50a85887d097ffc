"""Intake files: schema, column mapping, per-field parsing with messages, and extraction of job
titles, credentials, passed exams, English level and years of experience from free-text notes
(spaCy tokenizer and rule matcher, loaded lazily)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping


from ._util import is_missing
from .licensing import CEFR_LEVELS

__all__ = ["INTAKE_FIELDS", "REQUIRED_FIELDS", "ClientRecord", "resolve_columns", "parse_row", "NotesExtractor",
           "NotesFacts"]

INTAKE_FIELDS = ("client_id", "previous_title", "credential", "country", "language", "english_level",
                 "years_experience", "zip", "needs_income_now", "budget_usd", "notes", "exams_passed",
                 "work_authorized", "graduation_year", "onet_code")
REQUIRED_FIELDS = ("client_id", "previous_title", "credential")
MAX_BUDGET_USD = 10_000_000.0     # a budget beyond this is a data-entry error
MAX_NOTES_CHARS = 5_000           # notes are cut to this length before extraction (noted in the row's messages)
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
    "exams_passed": ["exams_passed", "passed_exams", "exams", "licences_held", "certifications_held"],
    "work_authorized": ["work_authorized", "work_authorization", "work_permit", "ead", "authorized_to_work"],
    "graduation_year": ["graduation_year", "year_of_graduation", "grad_year", "graduated"],
    "onet_code": ["onet_code", "onet", "o_net_soc_code", "occupation_code"],
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
    passed: tuple[str, ...] = ()          # exam/credential identifiers (matcher.exams) stated as passed or held
    planned: tuple[str, ...] = ()         # ... stated as planned, wanted or in progress
    failed: tuple[str, ...] = ()
    exam_mentions: tuple[tuple[str, str], ...] = ()   # (identifier, passed/planned/in_progress/failed/mentioned)
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
    passed: tuple[str, ...] = ()          # exam/credential identifiers passed or held (column and notes)
    planned: tuple[str, ...] = ()         # identifiers the client intends to take or is taking
    work_authorized: str = ""             # yes, no, pending ('' unknown)
    graduation_year: int | None = None
    onet_code: str = ""                   # an O*NET-SOC code given outright (API callers, navigators)
    sources: dict = field(default_factory=dict, compare=False, hash=False)   # field -> "column" or "notes"
    messages: tuple[str, ...] = ()


def _cell(v) -> str:
    if not isinstance(v, str) and is_missing(v):     # None, NaN, NA; text is kept as written
        return ""
    return str(v).strip()


_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_IELTS_TO_CEFR = [(8.5, "C2"), (7.0, "C1"), (5.5, "B2"), (4.0, "B1"), (3.0, "A2"), (0.0, "A1")]
_TOEFL_TO_CEFR = [(114, "C2"), (95, "C1"), (72, "B2"), (42, "B1"), (0, "A2")]


_ENGLISH_SCORE_RE = re.compile(r"^(ielts|toefl)(?:\s*ibt)?\s*:?\s*(\d{1,3}(?:[.,]\d)?)$", re.I)


def _cefr_from_score(test: str, score: float) -> str | None:
    table = _IELTS_TO_CEFR if test == "ielts" else _TOEFL_TO_CEFR if test == "toefl" else None
    if table is None:
        return None
    if test == "ielts" and not 0 <= score <= 9:
        return None
    if test == "toefl" and not 0 <= score <= 120:
        return None
    return next(level for cut, level in table if score >= cut)


def parse_row(raw: Mapping[str, object], columns: Mapping[str, str], facts: NotesFacts | None = None,
              exams=None, geography=None) -> ClientRecord:
    """One intake row -> ClientRecord; invalid values are dropped with a message, and empty
    fields are filled from the notes' facts when there are any."""
    get = lambda f: _cell(raw.get(columns[f])) if f in columns else ""  # noqa: E731
    msgs: list[str] = []
    sources: dict[str, str] = {}
    english = get("english_level").upper().replace(" ", "")
    score = _ENGLISH_SCORE_RE.match(get("english_level").strip())
    if english and english not in CEFR_LEVELS and score:
        test, value = score.group(1).lower(), float(score.group(2).replace(",", "."))
        level = _cefr_from_score(test, value)
        if level is None:
            msgs.append(f"english_level: {test.upper()} score {score.group(2)!r} is out of range; ignored")
            english = ""
        else:
            msgs.append(f"english_level {level} from the {test.upper()} score {score.group(2)}")
            english = level
    elif english and english not in CEFR_LEVELS:
        msgs.append(f"english_level {get('english_level')[:20]!r} is not a CEFR level (A1..C2) or an IELTS or "
                    f"TOEFL score; ignored")
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
            if not math.isfinite(budget) or budget > MAX_BUDGET_USD:
                msgs.append(f"budget_usd {get('budget_usd')[:20]!r} is not a finite amount up to "
                            f"${MAX_BUDGET_USD:,.0f}; ignored")
                budget = None
            elif budget < 0:
                msgs.append(f"budget_usd {get('budget_usd')!r} is negative; treated as 0")
                budget = 0.0
        except ValueError:
            msgs.append(f"budget_usd {get('budget_usd')[:20]!r} is not a number; ignored")
    need_txt = get("needs_income_now").lower()
    if need_txt in ("yes", "y", "true", "1", "si", "sí", "oui", "x"):
        need = True
    elif need_txt in ("", "no", "n", "false", "0", "non"):
        need = False
    else:
        need = False
        msgs.append(f"needs_income_now {get('needs_income_now')!r} is not yes/no; read as no")
    auth_txt = get("work_authorized").lower()
    work_authorized = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "si": "yes", "sí": "yes", "oui": "yes",
                       "no": "no", "n": "no", "false": "no", "0": "no", "non": "no",
                       "pending": "pending", "applied": "pending", "in progress": "pending"}.get(auth_txt, "")
    if auth_txt and not work_authorized:
        msgs.append(f"work_authorized {get('work_authorized')!r} is not yes/no/pending; ignored")
    graduation_year = None
    gtxt = get("graduation_year")
    if gtxt:
        import datetime as _dt

        try:
            g = int(float(gtxt))
            if not 1940 <= g <= _dt.date.today().year:
                raise ValueError
            graduation_year = g
        except ValueError:
            msgs.append(f"graduation_year {gtxt!r} is not a year; ignored")
    ztxt = get("zip")
    m = re.fullmatch(r"(\d{5})(?:[- ]?\d{4})?", ztxt)     # 40214 or ZIP+4 (40214-1234)
    zip_code = m.group(1) if m else ""
    if ztxt and not m:
        msgs.append(f"zip {ztxt[:20]!r} is not a 5-digit ZIP; ignored")
    elif zip_code and geography is not None and not geography.is_zip(zip_code):
        msgs.append(f"zip {zip_code!r} is not a US ZIP code; ignored")
        zip_code = ""
    title, credential = get("previous_title"), get("credential")
    from .titles import MAX_TITLE_CHARS

    if len(title) > MAX_TITLE_CHARS:
        msgs.append(f"previous_title cut to {MAX_TITLE_CHARS} characters before matching")
    if len(get("notes")) > MAX_NOTES_CHARS:
        msgs.append(f"notes cut to {MAX_NOTES_CHARS:,} characters before reading")
    passed: tuple[str, ...] = ()
    planned: tuple[str, ...] = ()
    if get("exams_passed") and exams is not None:
        names = [x.strip() for x in re.split(r"[|;,]", get("exams_passed")) if x.strip()]
        known = [exams.resolve(n) for n in names]
        bad = [n for n, k in zip(names, known) if k is None]
        if bad:
            msgs.append(f"exams_passed: {len(bad)} name(s) not known as exam identifiers; ignored")
        passed = tuple(dict.fromkeys(k for k in known if k))
        if passed:
            sources["exams_passed"] = "column"
    for f, v in (("previous_title", title), ("credential", credential), ("english_level", english)):
        if v:
            sources[f] = "column"
    if years is not None:
        sources["years_experience"] = "column"
    if facts is not None:
        new = tuple(i for i in facts.passed if i not in passed)
        passed = passed + new
        planned = tuple(i for i in facts.planned if i not in passed)
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
        if new:
            msgs.append("already passed (from notes): " + ", ".join(new))
        if planned:
            msgs.append("planned or in progress (from notes, not counted as passed): " + ", ".join(planned))
        if facts.failed:
            msgs.append("failed (from notes): " + ", ".join(facts.failed))
    return ClientRecord(get("client_id"), title, credential, get("country"), get("language").lower(),
                        english or None, years, zip_code, need, budget, get("notes"), passed, planned,
                        work_authorized, graduation_year, get("onet_code"), sources, tuple(msgs))


# --- notes -----------------------------------------------------------------------------------
# words that say what happened to an exam mentioned in the same clause (compared in exam_key form)
_EXAM_CUES = {
    "passed": {"passed", "cleared", "completed", "certified", "obtained", "holds", "achieved", "aprobado", "aprobo",
               "aprobe", "reussi", "done"},
    "failed": {"failed", "fail", "failing", "reprobado", "reprobo", "echoue", "echec"},
    "in_progress": {"pending", "progress", "started", "studying", "preparing", "waiting", "underway", "ongoing",
                    "enrolled", "applied", "applying", "submitted", "taking", "estudiando"},
    "planned": {"wants", "want", "interested", "interest", "plan", "plans", "planning", "planned", "needs", "need",
                "will", "scheduled", "intends", "intend", "hopes", "hope", "later", "future", "considering",
                "consider", "registering", "goal", "quiere", "interesada", "interesado", "prepare", "retake"},
}
_NEGATORS = {"not", "never", "didn", "didnt", "no", "yet"}
_CLAUSE_BREAKS = {".", ";", ",", "!", "?", "but", "however", "pero", "mais", "\n"}
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
    """Rule-based extraction from English navigator notes.  Exams and credentials are found with
    the project's identifier table (``matcher.exams``: the table ``--passed`` uses) over spaCy's
    tokenizer (a blank pipeline, loaded on first use); each mention's status (passed, planned, in
    progress, failed, or only mentioned) comes from the nearest cue word in its clause.  Only
    ``passed`` counts as done: "Interested in FPGEE", "CGFNS CES in progress" or "Wants CDL-A" do not."""

    def __init__(self, lang: str = "en", exams=None):
        self.lang = lang
        self._exams = exams

    @cached_property
    def exams(self):
        from .exams import ExamIdentifiers

        return self._exams or ExamIdentifiers()

    @cached_property
    def _nlp(self):
        import spacy

        return spacy.blank(self.lang)

    def exam_mentions(self, text: str) -> list[tuple[str, str]]:
        """(identifier, status) for each exam or credential the text names, in order."""
        from .exams import exam_key

        words, clause = [], []
        c = 0
        for tok in self._nlp(text):
            if tok.text.lower() in _CLAUSE_BREAKS or tok.is_space:
                c += 1
                continue
            for w in exam_key(tok.text).split():
                words.append(w)
                clause.append(c)
        english = {i for i, e in self.exams.exams.items() if e.kind == "english_test"}
        out = []
        for ident, start, end in self.exams.find_words(words):
            best, dist = "mentioned", 10 ** 6
            if ident in english and end < len(words) and clause[end] == clause[start] and \
                    re.fullmatch(r"\d{1,3}", words[end]):
                best, dist = "passed", 0           # a score: "IELTS 7.0", "TOEFL 95"
            for j, w in enumerate(words):
                if clause[j] != clause[start] or start <= j < end:
                    continue
                if w in ("pass", "passed") and j > 0 and words[j - 1] in _NEGATORS:
                    d = start - j if j < start else j - end + 1
                    if d < dist:
                        best, dist = "failed", d   # "did not pass", "not passed"
                    continue
                for status, cues in _EXAM_CUES.items():
                    if w in cues:
                        d = start - j if j < start else j - end + 1
                        if d < dist:
                            best, dist = status, d
            out.append((ident, best))
        return out

    def extract(self, notes: str) -> NotesFacts:
        from .text import clean_text

        text = clean_text(_cell(notes)[:MAX_NOTES_CHARS]).strip()
        if not text:
            return NotesFacts()
        mentions = self.exam_mentions(text)
        by_status: dict[str, list[str]] = {}
        for ident, status in mentions:
            by_status.setdefault(status, [])
            if ident not in by_status[status]:
                by_status[status].append(ident)
        passed = by_status.get("passed", [])
        planned = [i for i in by_status.get("planned", []) + by_status.get("in_progress", []) if i not in passed]
        failed = [i for i in by_status.get("failed", []) if i not in passed]
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
        return NotesFacts(tuple(dict.fromkeys(titles)), tuple(dict.fromkeys(creds)), tuple(passed),
                          tuple(dict.fromkeys(planned)), tuple(failed), tuple(mentions), english, evidence, years)
