"""Language identification for short titles: script rules first (Cyrillic, Arabic, Devanagari,
Vietnamese letters), then a character n-gram naive Bayes model for Latin-script languages,
trained on the taxonomy's own multilingual aliases."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ._util import is_missing


__all__ = ["LanguageGuess", "LanguageIdentifier", "script_of", "LANGUAGE_NAMES"]

LANGUAGE_NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "ar": "Arabic", "uk": "Ukrainian", "ru": "Russian",
    "fa": "Dari/Farsi", "ps": "Pashto", "sw": "Swahili", "so": "Somali", "pt": "Portuguese",
    "vi": "Vietnamese", "ne": "Nepali", "ht": "Haitian Creole", "und": "undetermined",
}
# The language most intake titles from a country are written in (a fallback when a title's own
# letters do not decide; a caller's language hint always wins).
COUNTRY_LANGUAGE = {
    **dict.fromkeys("MX GT HN SV NI CR PA CU DO VE CO EC PE BO PY UY AR CL ES PR".split(), "es"),
    **dict.fromkeys("CD CG BI RW CM CI SN ML BF NE TD GN BJ TG GA FR BE".split(), "fr"),
    **dict.fromkeys("SY IQ SD EG JO LB YE LY TN DZ MA SA PS".split(), "ar"),
    "AF": "fa", "IR": "fa", "UA": "uk", "RU": "ru", "BY": "ru", "KZ": "ru", "BR": "pt", "PT": "pt", "AO": "pt",
    "MZ": "pt", "VN": "vi", "NP": "ne", "BT": "ne", "SO": "so", "KE": "sw", "TZ": "sw", "UG": "sw", "HT": "ht",
    "US": "en", "GB": "en", "PH": "en", "IN": "en", "NG": "en", "GH": "en", "LR": "en", "SL": "en",
}

_UK_LETTERS = set("іїєґІЇЄҐ")
_RU_LETTERS = set("ыэъЫЭЪё")
_PS_LETTERS = set("ټډړږښګڼۍېځڅ")
_FA_LETTERS = set("پچژگکی")
_VI_LETTERS = set("ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")


_WORD = re.compile(r"[^\W\d_]{2,}")
_NON_LATIN = re.compile(r"[^\x00-\u024F\u1E00-\u1EFF]")
_LETTER = re.compile(r"[^\W\d_]")


def script_of(text: str) -> str:
    """Dominant script: latin, cyrillic, arabic, devanagari, other, or none."""
    if not _NON_LATIN.search(text):  # fast path: Latin-only text
        return "latin" if _LETTER.search(text) else "none"
    counts: dict[str, int] = {}
    for ch in text:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0x0400 <= o <= 0x04FF:
            s = "cyrillic"
        elif 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFEFF:
            s = "arabic"
        elif 0x0900 <= o <= 0x097F:
            s = "devanagari"
        elif o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
            s = "latin"
        else:
            s = "other"
        counts[s] = counts.get(s, 0) + 1
    return max(counts, key=counts.get) if counts else "none"


@dataclass(frozen=True)
class LanguageGuess:
    lang: str
    confidence: float
    method: str  # "hint", "script", "ngram", "default"


class LanguageIdentifier:
    """``fit(texts, langs)`` learns one character n-gram naive Bayes model per script (Latin,
    Cyrillic, Arabic) from labelled titles; ``identify(text, hint)`` returns a guess.  Letters
    unique to one language (Ukrainian і ї є ґ, Pashto ټ ډ ښ, Vietnamese ơ ư đ) decide before the
    model, and a caller's hint decides before both."""

    def __init__(self, ngram_range: tuple[int, int] = (1, 4), alpha: float = 0.1, min_confidence: float = 0.45,
                 default: str = "en"):
        self.ngram_range = ngram_range
        self.alpha = alpha
        self.min_confidence = min_confidence
        self.default = default
        self.english_words_: frozenset = frozenset()

    @staticmethod
    def _prep(text: str) -> str:
        return " " + " ".join(unicodedata.normalize("NFC", str(text)).casefold().split()) + " "

    def fit(self, texts, langs) -> "LanguageIdentifier":
        from sklearn.naive_bayes import MultinomialNB

        # English fast path: words far more frequent in English aliases than in any other language's
        words: dict[str, dict[str, int]] = {}
        totals: dict[str, int] = {}
        for t, l in zip(texts, langs):
            totals[l] = totals.get(l, 0) + 1
            for w in set(_WORD.findall(str(t).casefold())):
                words.setdefault(w, {}).setdefault(l, 0)
                words[w][l] += 1
        en_total = max(totals.get("en", 0), 1)
        self.english_words_ = frozenset(
            w for w, c in words.items() if c.get("en", 0) >= 3 and len(w) > 1 and
            c.get("en", 0) / en_total > 4 * max([n / totals[l] for l, n in c.items() if l != "en"] or [0.0]))
        from sklearn.feature_extraction.text import CountVectorizer

        from ._inference import NaiveBayesTable

        texts = [self._prep(t) for t in texts]
        langs = np.asarray(langs)
        scripts = np.array([script_of(t) for t in texts])
        self.models_ = {}
        for script in ("latin", "cyrillic", "arabic"):
            mask = scripts == script
            classes, counts = np.unique(langs[mask], return_counts=True)
            if len(classes) < 2:
                if len(classes) == 1:
                    self.models_[script] = str(classes[0])
                continue
            # partial balancing: a language with few aliases counts more per alias, but not fully
            # (full balancing makes a 150-row glossary language claim every ambiguous title)
            w = {c: (mask.sum() / (len(classes) * n)) ** 0.5 for c, n in zip(classes, counts)}
            model = MultinomialNB(alpha=self.alpha, fit_prior=False)
            vec = CountVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, min_df=2, dtype=np.float32)
            X = vec.fit_transform([t for t, m in zip(texts, mask) if m])
            model.fit(X, langs[mask], sample_weight=np.array([w[l] for l in langs[mask]]))
            # kept: the n-gram vocabulary and the log probabilities (numpy at run time, no scikit-learn)
            self.models_[script] = NaiveBayesTable(dict(vec.vocabulary_), model.feature_log_prob_,
                                                   model.class_log_prior_, model.classes_, self.ngram_range)
        return self

    def identify(self, text: str, hint: str | None = None) -> LanguageGuess:
        return self.identify_many([text], [hint])[0]

    def identify_many(self, texts, hints=None, countries=None) -> list[LanguageGuess]:
        """``countries`` (ISO alpha-2, optional) break ties: a title the model is unsure of (or
        that it could only default) takes its country's usual language (method ``country``)."""
        texts = ["" if not isinstance(t, str) and is_missing(t) else str(t) for t in texts]
        hints = list(hints) if hints is not None else [None] * len(texts)
        guesses = self._identify(texts, hints)
        if countries is None:
            return guesses
        out = []
        for g, c in zip(guesses, countries):
            lang = COUNTRY_LANGUAGE.get(str(c or "").strip().upper())
            if lang and g.method in ("default", "ngram") and g.confidence < 0.8 and g.lang != lang:
                g = LanguageGuess(lang, 0.6, "country")
            out.append(g)
        return out

    def _identify(self, texts, hints) -> list[LanguageGuess]:
        out: list[LanguageGuess | None] = [None] * len(texts)
        pending: dict[str, list[int]] = {}
        for i, (t, h) in enumerate(zip(texts, hints)):
            h = h.strip().lower() if isinstance(h, str) else ""
            if h:
                out[i] = LanguageGuess(h, 1.0, "hint")
                continue
            t = unicodedata.normalize("NFC", t)
            script = script_of(t)
            if script == "none":
                out[i] = LanguageGuess("und", 0.0, "default")
                continue
            if script == "latin" and self.english_words_:
                ws = _WORD.findall(t.casefold())
                if ws and all(w in self.english_words_ for w in ws):
                    out[i] = LanguageGuess("en", 0.9, "vocabulary")
                    continue
            rule = _script_rule(t)
            if rule and rule.confidence >= 0.85:
                out[i] = rule
                continue
            model = getattr(self, "models_", {}).get(script)
            if isinstance(model, str):
                out[i] = LanguageGuess(model, 0.7, "script")
            elif model is None:
                out[i] = rule or LanguageGuess(self.default if script == "latin" else "und", 0.0, "default")
            else:
                pending.setdefault(script, []).append(i)
        if pending:
            for script, idx in pending.items():
                model = self.models_[script]
                P = model.predict_proba([self._prep(texts[i]) for i in idx])
                for i, p in zip(idx, P):
                    j = int(np.argmax(p))
                    conf = float(p[j])
                    if conf >= self.min_confidence or script != "latin":
                        out[i] = LanguageGuess(str(model.classes_[j]), round(conf, 3), "ngram")
                    else:
                        out[i] = LanguageGuess(self.default, round(conf, 3), "default")
        return [g or LanguageGuess(self.default, 0.0, "default") for g in out]


def _script_rule(text: str) -> LanguageGuess | None:
    script = script_of(text)
    chars = set(text)
    if script == "cyrillic":
        if chars & _UK_LETTERS:
            return LanguageGuess("uk", 0.95, "script")
        if chars & _RU_LETTERS:
            return LanguageGuess("ru", 0.9, "script")
        return LanguageGuess("ru", 0.6, "script")
    if script == "arabic":
        if chars & _PS_LETTERS:
            return LanguageGuess("ps", 0.9, "script")
        if chars & _FA_LETTERS:
            return LanguageGuess("fa", 0.8, "script")
        return LanguageGuess("ar", 0.7, "script")
    if script == "devanagari":
        return LanguageGuess("ne", 0.9, "script")
    if script == "latin" and len(chars & _VI_LETTERS) >= 1 and re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơư]", text.lower()):
        return LanguageGuess("vi", 0.9, "script")
    return None
