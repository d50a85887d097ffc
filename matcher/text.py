"""Plain, idempotent text normalization for job titles and credentials.

Every function here maps ``str -> str`` (or a token list), has no state, and satisfies
``f(f(x)) == f(x)``.  Aliases and queries go through the same functions, so whatever a rule
does to one side it does to the other.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = [
    "fold", "transliterate_cyrillic", "strip_noise", "expand_abbreviations", "normalize_title",
    "tokens", "stem", "has_letters", "ABBREVIATIONS",
]

# --- character folding ------------------------------------------------------------------------
_ARABIC_MARKS = re.compile("[\u064B-\u065F\u0670\u0640\u06D6-\u06ED]")  # harakat, dagger alif, tatweel
_ARABIC_LETTERS = str.maketrans({
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",  # alef forms -> alef
    "\u0649": "\u064A", "\u06CC": "\u064A", "\u06D0": "\u064A", "\u06CD": "\u064A",  # yeh forms -> yeh
    "\u0643": "\u06A9",  # arabic kaf -> keheh (Persian/Pashto spelling)
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u0624": "\u0648", "\u0626": "\u064A",  # hamza carriers
    "\u06C0": "\u0647",
})
_DASHES = re.compile("[\u2010-\u2015\u2212\u00AD]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201A": "'", "\u201C": '"', "\u201D": '"',
                         "\u00B4": "'", "`": "'", "\u02BC": "'"})


def _strip_marks(text: str) -> str:
    """Drop combining marks that sit on Latin, Greek or Cyrillic letters (accents, breves);
    keep the marks of scripts where they carry letters (Devanagari vowel signs)."""
    out = []
    base_ok = True
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if base_ok:
                continue
        else:
            base_ok = ord(ch) < 0x0530
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


# invisible characters that only hide text or change its display order: NUL and other controls,
# zero-width spaces and joiners (ZWNJ, the Persian half-space, becomes a space in fold), BOMs,
# bidirectional embeddings, overrides and isolates
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e"
                        "\u2060-\u2064\u2066-\u2069\u061c\ufeff\ufff9-\ufffb]")


def clean_text(text: str) -> str:
    """Remove NUL, control, zero-width and bidirectional-control characters; tabs and line breaks
    become spaces.  Idempotent."""
    if not text:
        return ""
    return _INVISIBLE.sub("", str(text)).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def fold(text: str) -> str:
    """NFKC, case folding, accent stripping (Latin/Cyrillic), Arabic-script letter unification,
    dash/quote unification and whitespace collapse; invisible characters removed (``clean_text``)."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", clean_text(str(text)))
    t = t.casefold()
    t = t.replace("\u0451", "\u0435")  # ё -> е before mark stripping keeps й intact below
    t = _strip_marks(t)
    t = _ARABIC_MARKS.sub("", t).translate(_ARABIC_LETTERS)
    t = _DASHES.sub("-", t).translate(_QUOTES)
    t = t.replace("\u200c", " ").replace("\u200d", "")  # ZWNJ (Persian half-space) -> space
    return " ".join(t.split())


# --- transliteration --------------------------------------------------------------------------
_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh", "з": "z",
    "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "ъ": "", "ы": "y", "э": "e", "ў": "u", "'": "",
}
# Russian-specific: г is 'g', и is 'i'.  We choose per word: a word with Ukrainian-only letters
# (і ї є ґ) uses the Ukrainian table, otherwise the Russian one.
_CYR_RU = dict(_CYR, **{"г": "g", "и": "i", "й": "i"})
_UK_ONLY = set("іїєґ")
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04FF']+")


def transliterate_cyrillic(text: str, lang: str | None = None) -> str:
    """Latin transliteration of Cyrillic words (simplified national romanization: Ukrainian
    KMU 2010 for words with Ukrainian letters or ``lang='uk'``, BGN/PCGN-like for Russian).
    Text without Cyrillic is returned unchanged; the result has no Cyrillic, so it is idempotent."""
    if not any("\u0400" <= ch <= "\u04FF" for ch in text):
        return text

    def word(m: re.Match) -> str:
        w = m.group(0)
        table = _CYR if (lang == "uk" or _UK_ONLY & set(w)) else _CYR_RU
        return "".join(table.get(ch, table.get(ch.lower(), ch)) for ch in w)

    return _CYRILLIC_WORD.sub(word, text)


# --- noise removal ----------------------------------------------------------------------------
_US_STATES = ("al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm "
              "ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc").split()
_STATE_NAMES = ("kentucky|indiana|ohio|tennessee|illinois|michigan|west virginia|virginia|georgia|"
                "texas|california|florida|new york|north carolina|south carolina|pennsylvania")
_CITY_NAMES = ("louisville|lexington|jeffersontown|elizabethtown|shepherdsville|bowling green|frankfort|"
               "covington|owensboro|jeffersonville|new albany|clarksville|indianapolis|cincinnati|columbus|"
               "cleveland|dayton|nashville|memphis|knoxville|chattanooga|evansville|fort wayne|toledo|akron")

_NOISE_PATTERNS = [
    # pay: "$2050/wk", "$25.50 - $30/hr", "up to $20 per hour", "$10k sign on bonus", "20/hr"
    r"(?:up to |starting at |from )?\$\s?\d[\d,\.]*\s?k?(?:\s?(?:-|to)\s?\$?\s?\d[\d,\.]*\s?k?)?"
    r"(?:\s?(?:/|per|an|a)\s?(?:hr|hour|hourly|wk|week|weekly|yr|year|annually|month|mo|shift))?",
    r"\b\d+(?:\.\d+)?\s?/\s?(?:hr|hour|wk|week|yr|year)\b",
    r"\b(?:sign[- ]?on|signing|retention|relocation)(?: bonus)?(?: available)?\b",
    r"\bbonus(?:es)?\b",
    # requisition / job ids
    r"\b(?:req(?:uisition)?|job|posting|position|ref|id)\s?(?:#|no\.?|number|id)?\s?:?\s?[a-z]{0,3}-?\d{3,}\b",
    r"#\s?[a-z]{0,3}-?\d+\b", r"\b[a-z]{1,3}-?\d{4,}\b", r"\b\d{4,}\b",
    # places
    rf"\b(?:{_CITY_NAMES})(?:\s?,\s?(?:{'|'.join(_US_STATES)})\b)?",
    rf"\b(?:{_STATE_NAMES})\b",
    rf",\s?(?:{'|'.join(_US_STATES)})\b",
    rf"(?:^|\s)-\s?(?:{'|'.join(_US_STATES)})$",
    r"\b(?:remote|hybrid|on[- ]?site|onsite|in[- ]office|work from home|wfh|nationwide|multiple locations)\b",
    # shifts and schedules
    r"\b(?:1st|2nd|3rd|first|second|third|day|days|night|nights|evening|evenings|overnight|weekend|weekends|"
    r"rotating|swing|graveyard|mid)\s?(?:shift|shifts)?\b(?=.*\w)",
    r"\b(?:shift|shifts)\b",
    r"\b(?:prn|per diem|full[- ]?time|part[- ]?time|ft|pt|fte|temp|temporary|seasonal|contract|contractor|"
    r"contract[- ]to[- ]hire|permanent|perm|casual|flex|float|travel|traveling|traveler|locum|locums)\b",
    r"\b\d{1,2}\s?(?:hr|hrs|hour|hours)\b",
    r"\b\d+x\d+\b", r"\b[0-9]+[ap]m?\s?-\s?[0-9]+[ap]m?\b",
    # seniority and levels
    r"\b(?:sr|senior|jr|junior|entry[- ]level|entry|experienced|trainee|apprentice level|level\s?[0-9ivx]+|"
    r"grade\s?[0-9]+|staff|lead|principal|associate level)\b(?=.*[a-z]{3})",
    r"\b(?:i|ii|iii|iv|v|vi)\b(?=\s*(?:$|[-,/(]))", r"\b(?:i|ii|iii|iv)\b$",
    # internships and seasons ("Audit Intern - Summer 2025" is an auditor's job)
    r"\b(?:intern|interns|internship|internships|co-?op|summer|fall|spring|winter|autumn)\b(?=.*[a-z]{3})",
    r"(?<=[a-z]{3} )(?:intern|internship|co-?op|summer|fall|winter)\b",
    # posting chatter
    r"\b(?:now hiring|hiring now|hiring|urgent(?:ly)?|immediate(?:ly)?|opening|openings|opportunity|"
    r"wanted|needed|job|jobs|position|positions|career|careers|apply today|apply now|new grads? welcome|"
    r"will train|no experience(?: necessary| required)?|great pay|weekly pay|daily pay)\b",
]
_NOISE_RE = re.compile("|".join(f"(?:{p})" for p in _NOISE_PATTERNS))
_PUNCT_RE = re.compile(r"[^\w\s&+#]|_", re.UNICODE)
_MULTI_SPACE = re.compile(r"\s+")


def strip_noise(text: str) -> str:
    """Remove what postings add around a title: pay, bonuses, requisition numbers, places,
    shifts, schedules, seniority levels and hiring chatter.  Expects folded text.  Never
    empties a title that had words: if everything would go, the input is returned."""
    if not text:
        return ""
    t = text
    for _ in range(2):  # a second pass catches what the first one exposed
        t = _NOISE_RE.sub(" ", t)
    t = _PUNCT_RE.sub(" ", t)
    t = _MULTI_SPACE.sub(" ", t).strip(" -&+")
    if not re.search(r"[^\W\d_]", t):
        fallback = _MULTI_SPACE.sub(" ", _PUNCT_RE.sub(" ", text)).strip()
        return fallback
    return t


# --- abbreviations ----------------------------------------------------------------------------
ABBREVIATIONS: dict[str, str] = {
    # healthcare
    "rn": "registered nurse", "bsn": "registered nurse", "lpn": "licensed practical nurse",
    "lvn": "licensed vocational nurse", "cna": "certified nursing assistant", "stna": "nursing assistant",
    "srna": "nursing assistant", "pct": "patient care technician", "hha": "home health aide",
    "pca": "personal care aide", "cma": "certified medical assistant", "ccma": "certified medical assistant",
    "mt": "medical technologist", "mlt": "medical laboratory technician", "mls": "medical laboratory scientist",
    "cls": "clinical laboratory scientist", "np": "nurse practitioner", "fnp": "family nurse practitioner",
    "aprn": "advanced practice registered nurse", "crna": "nurse anesthetist", "cnm": "nurse midwife",
    "pa-c": "physician assistant", "pta": "physical therapist assistant", "dpt": "physical therapist",
    "cota": "occupational therapy assistant", "slp": "speech language pathologist", "rrt": "respiratory therapist",
    "crt": "respiratory therapist", "emt": "emergency medical technician", "emt-b": "emergency medical technician",
    "cpht": "pharmacy technician", "rph": "pharmacist", "pharmd": "pharmacist", "dds": "dentist",
    "dmd": "dentist", "rdh": "dental hygienist", "cda": "dental assistant", "md": "physician",
    "mbbs": "physician", "med": "medical", "surg": "surgical", "icu": "intensive care", "pcu": "progressive care",
    "nicu": "neonatal intensive care", "picu": "pediatric intensive care", "tele": "telemetry",
    "l&d": "labor delivery", "ob": "obstetrics", "or": None, "er": "emergency", "ed": None,
    "cath": "catheterization", "ct": "computed tomography", "mri": "magnetic resonance imaging",
    "rad": "radiologic", "xray": "radiologic", "x-ray": "radiologic", "phleb": "phlebotomist",
    "spd": "sterile processing", "cst": "surgical technologist", "snf": "skilled nursing", "ltc": "long term care",
    "psych": "psychiatric", "peds": "pediatric", "lcsw": "clinical social worker", "msw": "social worker",
    "chw": "community health worker",
    # manufacturing and trades
    "cnc": "cnc", "hvac": "heating air conditioning", "hvacr": "heating air conditioning refrigeration",
    "qa": "quality assurance", "qc": "quality control", "cdl": "commercial driver", "cdl-a": "commercial driver",
    "plc": "programmable logic controller", "ehs": "environmental health safety",
    "mfg": "manufacturing", "maint": "maintenance", "mech": "mechanical", "elec": "electrical",
    "eng": "engineer", "engr": "engineer", "tech": "technician", "techs": "technician", "cad": "cad",
    "ops": "operations", "whse": "warehouse", "wh": "warehouse", "mgr": "manager", "mngr": "manager",
    "asst": "assistant", "assoc": "associate", "dir": "director", "coord": "coordinator", "rep": "representative",
    "reps": "representative", "spec": "specialist", "admin": "administrative", "svc": "service",
    "svcs": "services", "acct": "accountant", "hr": "human resources", "it": "information technology",
    "csr": "customer service representative", "ap": "accounts payable", "ar": "accounts receivable",
    "gm": "general manager", "agm": "assistant general manager", "vp": "vice president", "avp": "vice president",
    "sw": "software", "swe": "software engineer", "dev": "developer", "devops": "devops",
    "dba": "database administrator", "ui": "user interface", "ux": "user experience",
    # hospitality
    "foh": "front of house", "boh": "back of house", "hskp": "housekeeping", "hskpg": "housekeeping",
    "f&b": "food beverage", "fnb": "food beverage", "bbq": "barbecue", "qsr": "fast food",
}
_ABBR_TOKEN = re.compile(r"[\w&+\-]+", re.UNICODE)


def expand_abbreviations(text: str) -> str:
    """Replace whole-token abbreviations (RN, CNA, CNC, HVAC, QA, CDL, Mgr, ...) by their words.
    Idempotent: no expansion contains an abbreviation that expands further."""
    if not text:
        return ""

    def sub(m: re.Match) -> str:
        tok = m.group(0)
        exp = ABBREVIATIONS.get(tok)
        return exp if exp else tok

    return _ABBR_TOKEN.sub(sub, text)


def normalize_title(text: object) -> str:
    """The full pipeline used for matching: fold -> Cyrillic to Latin -> strip noise ->
    expand abbreviations -> collapse whitespace.  Non-string input gives ''."""
    if text is None or isinstance(text, float):
        return ""
    t = _normalize_once(str(text))
    for _ in range(4):  # rules can expose new matches for each other: run to a fixed point
        again = _normalize_once(t)
        if again == t:
            break
        t = again
    return t


def _normalize_once(text: str) -> str:
    t = fold(text)
    t = transliterate_cyrillic(t)
    t = strip_noise(t)
    t = expand_abbreviations(t)
    t = t.replace("-", " ").replace("/", " ")
    return _MULTI_SPACE.sub(" ", t).strip()


# --- employer and place parts of a title string ------------------------------------------------
# words that mark the part after a separator as an employer or a place, not part of the job title
_ORG_WORDS = frozenset(
    "inc incorporated llc llp ltd limited corp corporation co company companies group holdings institute "
    "university universidad universite college school academy hospital hospitals clinic clinics health "
    "healthcare medical center centre services solutions systems technologies technology partners associates "
    "the bank foundation church ministries agency department county city district restaurant restaurants hotel "
    "hotels resort casino store stores market markets foods manufacturing industries international usa america "
    "american".split())
_ORG_SPLIT = re.compile(r"\s+(?:at|@|chez|en la empresa)\s+|\s*[,|;]\s*|\s+@", re.IGNORECASE)


def strip_employer(text: str) -> str:
    """The job-title part of a string that also names the employer or the place: 'Cashier at
    Walmart' -> 'Cashier'; 'adjunct instructor: interior design, illinois institute of art' ->
    'adjunct instructor: interior design'.  A part after ' at ', '@', a comma, '|' or ';' is dropped
    when it names an organisation (a word such as inc, llc, institute, university, hospital, the...)
    or follows ' at '/'@'; 'Engineer, Software' and 'Registered Nurse, ICU' are kept whole.
    Idempotent; never returns an empty string for a string with letters."""
    if not text:
        return ""
    t = str(text)
    parts = _ORG_SPLIT.split(t)
    seps = _ORG_SPLIT.findall(t)
    if len(parts) < 2:
        return t
    keep = [parts[0]]
    for sep, part in zip(seps, parts[1:]):
        words = {w for w in re.findall(r"[^\W\d_]+", fold(part))}
        at = sep.strip().lower() in ("at", "@", "chez", "en la empresa")
        if at or (words & _ORG_WORDS):
            break                       # this part and everything after it: employer or place
        keep.append(sep + part)
    out = "".join(keep).strip(" ,;|")
    return out if re.search(r"[^\W\d_]", out) else t


_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")


def drop_parentheses(text: str) -> str:
    """'Support Specialist (Server Hardware)' -> 'Support Specialist': a bracketed part qualifies
    a title (team, shift, product) and must not outweigh its head; kept when fewer than two words
    would remain ('RN (ICU)').  Idempotent."""
    if not text or "(" not in text and "[" not in text:
        return text or ""
    out = _MULTI_SPACE.sub(" ", _PAREN.sub(" ", text)).strip()
    return out if len(re.findall(r"[^\W\d_]{2,}", out)) >= 2 else text


def has_letters(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]", text or ""))


# --- tokens and light stemming ----------------------------------------------------------------
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
_FR_SUFFIXES = (("ieres", "ier"), ("iere", "ier"), ("euses", "eur"), ("euse", "eur"), ("trices", "teur"),
                ("trice", "teur"), ("iennes", "ien"), ("ienne", "ien"), ("eres", "er"), ("ere", "er"))
_STOPWORDS = frozenset(
    "a an and the of for in at to with on de del la las los el en y e o u da do das dos des du le les et "
    "au aux d l pour par na no em com wa ya kwa iyo ee oo ka".split())


def stem(token: str) -> str:
    """Crude, language-agnostic folding of plural and grammatical gender for Latin-script tokens
    (nurses->nurse, enfermeras/enfermeros->enfermero, infirmière->infirmier, cocinera->cocinero).
    Applied identically to aliases and queries, so collisions stay symmetric.  Idempotent."""
    t = token
    if len(t) <= 3 or not t.isascii():
        return t
    for suf, rep in _FR_SUFFIXES:
        if t.endswith(suf) and len(t) - len(suf) >= 3:
            return t[: -len(suf)] + rep
    if t.endswith("ies") and len(t) > 5:
        t = t[:-3] + "y"
    elif t.endswith("oes") and len(t) > 5:
        t = t[:-2]
    elif t.endswith("es") and len(t) > 5 and t[-3] in "rnlzx":
        t = t[:-2]
    elif t.endswith("s") and not t.endswith(("ss", "us", "is", "os")) and len(t) > 4:
        t = t[:-1]
    elif t.endswith("os") and len(t) > 5:
        t = t[:-1]
    if t.endswith("a") and len(t) > 5 and t[-2] not in "aeiou":
        t = t[:-1] + "o"
    return t


def tokens(normalized: str, drop_stopwords: bool = True) -> list[str]:
    """Stemmed word tokens of a normalized title."""
    toks = _TOKEN_RE.findall(normalized)
    if drop_stopwords:
        kept = [t for t in toks if t not in _STOPWORDS]
        toks = kept or toks
    out: list[str] = []
    for t in toks:
        s = stem(t)
        if s not in out:
            out.append(s)
    return out
