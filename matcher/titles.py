"""Job-title normalization onto O*NET-SOC 2019: candidate generation over every alias (word and
character TF-IDF), per-occupation features (fuzzy ratios, head-noun agreement, coverage, exact
alias, route, employment prior), a learned gradient-boosted reranker, and calibrated confidence.

    >>> m = TitleMatcher.load()                       # the trained model in models/title-matcher
    >>> r = m.match("RN - Hospice")
    >>> r.onet_code, r.status, r.explanation
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from ._paths import model_dir
from .errors import ConfigError, InputError
from .settings import integer_problems, number_problems
from .language import LANGUAGE_NAMES, LanguageIdentifier
from .taxonomy import Taxonomy, load_taxonomy
from ._inference import Calibration, TfidfTransform, TreeEnsemble
from .text import clean_text, drop_parentheses, has_letters, normalize_title, strip_employer, tokens

__all__ = ["TitleMatcherConfig", "TitleMatcher", "TitleMatch", "Candidate", "DEFAULT_MODEL_DIR", "FEATURES",
           "FRAME_COLUMNS", "MAX_TITLE_CHARS", "to_frame", "to_rows"]

# titles are cut to this many characters before matching (real job titles are far shorter)
MAX_TITLE_CHARS = 200
# a title listed verbatim by many occupations ('Maintenance Technician': 15) keeps them all as
# candidates, up to this many, beyond TitleMatcherConfig.candidate_occupations
MAX_EXACT_CANDIDATES = 24

DEFAULT_MODEL_DIR = model_dir()
MODEL_KIND = "title-matcher"

FEATURES = (
    "combined", "word_cos", "char_cos", "fuzz_token_set", "fuzz_ratio", "fuzz_partial", "exact",
    "head_match", "head_in_alias", "query_coverage", "alias_coverage", "support", "prior", "rank",
    "gap", "route_weight", "src_onet", "src_glossary", "src_esco", "query_len", "lang_match", "exact_occupations",
    "prior_share_exact", "prior_share_candidates",
    # how titles are used: the occupation's own title, how many sources list the alias for the
    # occupation (O*NET, BLS direct-match, ESCO, glossaries), the direct-match file, the share of
    # the alias's sources that name this occupation, and the head noun and its modifiers
    "title_fuzz", "src_title", "alias_sources", "alias_dmtf", "title_share", "alias_head_in_query",
    "modifier_overlap",
)
_SOURCE_LABELS = {
    "onet_title": "O*NET occupation title", "alternate": "O*NET alternate title",
    "alternate_short": "O*NET short alternate title", "reported": "O*NET sample of reported titles",
    "esco_preferred": "ESCO preferred label", "esco_alternative": "ESCO alternative label",
    "dmtf": "BLS SOC direct-match title",
}


def _stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process (``hash`` is salted per process)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


class StringColumn:
    """Many strings held as one UTF-8 buffer and their offsets: ``col[i]`` is the i-th string.
    139,000 aliases take about 5 MB this way, against 10 MB as Python strings."""

    def __init__(self, strings):
        data = [str(x).encode("utf-8") for x in strings]
        self._offsets = np.zeros(len(data) + 1, np.int64)
        np.cumsum([len(b) for b in data], out=self._offsets[1:])
        self._buffer = b"".join(data)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i) -> str:
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._buffer[self._offsets[i]:self._offsets[i + 1]].decode("utf-8")

    def take(self, indices) -> list[str]:
        """The strings at ``indices``, as a list."""
        buf, off = self._buffer, self._offsets
        return [buf[off[i]:off[i + 1]].decode("utf-8") for i in np.asarray(indices, np.int64).tolist()]

    def to_array(self) -> np.ndarray:
        return np.array([self[i] for i in range(len(self))], dtype=object)


@dataclass(frozen=True)
class TitleMatcherConfig:
    """Settings of the matcher, validated as a whole (every problem is reported at once)."""

    top: int = 5
    candidate_aliases: int = 40
    candidate_occupations: int = 16
    word_weight: float = 0.55
    char_weight: float = 0.45
    match_threshold: float = 0.5
    review_threshold: float = 0.15
    min_similarity: float = 0.2
    batch_size: int = 512
    retrieval_max_df: int = 300

    def __post_init__(self):
        problems = integer_problems(self, ("top", "candidate_aliases", "candidate_occupations", "batch_size",
                                           "retrieval_max_df"))
        problems += number_problems(self, ("word_weight", "char_weight", "match_threshold", "review_threshold",
                                           "min_similarity"), 0.0, 1.0)
        if not problems:
            if self.review_threshold > self.match_threshold:
                problems.append("review_threshold must not exceed match_threshold")
            if self.candidate_occupations > self.candidate_aliases:
                problems.append("candidate_occupations must not exceed candidate_aliases")
            if self.word_weight + self.char_weight <= 0:
                problems.append("word_weight + char_weight must be positive")
        if problems:
            raise ConfigError(problems)


@dataclass(frozen=True)
class Candidate:
    """One ranked occupation for a title, with the alias that supports it and every component score."""

    onet_code: str
    onet_title: str
    soc_code: str
    score: float
    matched_alias: str
    alias_source: str
    alias_lang: str
    route: str
    components: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class TitleMatch:
    """The result for one title.  ``status`` is matched, review or no_match; on no_match the code
    fields are empty strings and ``reason`` says why."""

    query: str
    normalized: str
    language: str
    language_method: str
    status: str
    onet_code: str
    onet_title: str
    soc_code: str
    score: float
    confidence: float
    candidates: tuple[Candidate, ...]
    explanation: str
    reason: str
    taxonomy_version: str
    model_version: str
    isco_codes: str = ""          # ISCO-08 unit groups of onet_code through the BLS crosswalk, '|'-joined

    @property
    def top_codes(self) -> list[str]:
        """The best candidates' codes, best first; listed for ``no_match`` too (``onet_code`` is then empty)."""
        return [c.onet_code for c in self.candidates]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["candidates"] = [asdict(c) for c in self.candidates]
        return d


FRAME_COLUMNS = ("onet_code", "onet_title", "soc_code", "isco_codes", "confidence", "status", "top_codes", "language",
                 "explanation", "taxonomy_version", "model_version")


def to_rows(matches: Sequence[TitleMatch]) -> list[tuple]:
    """One tuple per match, in order, with the values of ``FRAME_COLUMNS`` (compact: what worker
    processes send back)."""
    return [(m.onet_code, m.onet_title, m.soc_code, m.isco_codes, m.confidence, m.status, "|".join(m.top_codes),
             m.language, m.explanation, m.taxonomy_version, m.model_version) for m in matches]


def to_frame(matches: Sequence[TitleMatch]):
    """One row per match, in order: the columns of ``matcher normalize`` (a pandas DataFrame)."""
    import pandas as pd

    return pd.DataFrame(to_rows(matches), columns=list(FRAME_COLUMNS))


@lru_cache(maxsize=2)
def _worker_matcher(folder: str, trusted: bool = False) -> "TitleMatcher":
    """The model, loaded once per worker process."""
    return TitleMatcher.load(folder, trusted=trusted)


def _match_part(folder: str, titles: list, languages: list, countries: list, top: int, trusted: bool = False,
                rows: bool = False) -> list:
    res = _worker_matcher(folder, trusted).match_many(titles, top=top, languages=languages, countries=countries)
    return to_rows(res) if rows else res


def match_parallel(titles: Sequence[object], n_jobs: int = 2, top: int = 5,
                   languages: Sequence[str | None] | None = None, countries: Sequence[str | None] | None = None,
                   folder: str | Path = DEFAULT_MODEL_DIR, parallel=None, trusted: bool = False,
                   rows: bool = False) -> list:
    """``match_many`` over ``n_jobs`` worker processes (joblib/loky); unique titles are split into
    parts, each worker loads the model once and keeps it.  Results come back in input order:
    ``TitleMatch`` objects, or with ``rows=True`` the compact ``to_rows`` tuples (much less to
    send between processes).  A model folder other than the package's needs ``trusted=True``."""
    if isinstance(titles, (str, bytes)):
        raise InputError("match_parallel takes a list of titles, not one string")
    from joblib import Parallel, delayed

    titles = list(titles)
    languages = list(languages) if languages is not None else [None] * len(titles)
    countries = list(countries) if countries is not None else [None] * len(titles)
    keys = list(zip([TitleMatcher._as_text(t) for t in titles], languages, countries))
    unique = list(dict.fromkeys(keys))
    size = max(1, -(-len(unique) // n_jobs))
    parts = [unique[i:i + size] for i in range(0, len(unique), size)]
    par = parallel or Parallel(n_jobs=n_jobs, backend="loky")
    done = par(delayed(_match_part)(str(folder), [k[0] for k in part], [k[1] for k in part], [k[2] for k in part], top,
                                    trusted, rows) for part in parts)
    res = {k: r for part, rs in zip(parts, done) for k, r in zip(part, rs)}
    return [res[k] for k in keys]


def _major_minor(version: str) -> tuple:
    parts = str(version).split(".")
    return tuple(parts[:2])


def _installed(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return ""


def _check_model_meta(meta: dict) -> list[str]:
    """What in a model's meta.json this library cannot use, checked before unpickling (as spaCy
    checks a pipeline's meta): the reranker's feature list, and the releases of the libraries whose
    objects the model pickles (numpy arrays and scipy sparse matrices: same major release).  The
    run-time model holds no scikit-learn object (``matcher._inference``), so the scikit-learn that
    trained it is recorded, not required."""
    problems = []
    feats = meta.get("features")
    if feats is not None and list(feats) != list(FEATURES):
        problems.append(f"the model's features ({len(feats)}) are not this library's ({len(FEATURES)}): "
                        f"retrain it with scripts/train.py")
    deps = meta.get("dependencies") or {}
    for dist in ("numpy", "scipy"):
        trained, running = deps.get(dist), _installed(dist)
        if trained and running and _major_minor(trained)[:1] != _major_minor(running)[:1]:
            problems.append(f"trained with {dist} {trained}, running {running}: install {dist} "
                            f"{trained.split('.')[0]}.x or retrain with scripts/train.py")
    return problems


# ---------------------------------------------------------------------------------------------
class TitleMatcher:
    """``fit(taxonomy)`` builds the alias index; ``fit_reranker(queries)`` trains the reranker;
    ``match`` / ``match_many`` rank occupations; ``save`` / ``load`` use models/ folders."""

    def __init__(self, config: TitleMatcherConfig | None = None, **overrides):
        base = config or TitleMatcherConfig()
        self.config = TitleMatcherConfig(**{**asdict(base), **overrides}) if overrides else base

    # --- index ---------------------------------------------------------------------------------
    def fit(self, taxonomy: Taxonomy | None = None, aliases=None) -> "TitleMatcher":
        """Index ``aliases`` (a DataFrame like ``Taxonomy.all_aliases()``; default: every O*NET, ESCO
        and glossary alias of the taxonomy)."""
        import pandas as pd
        from sklearn.feature_extraction.text import TfidfVectorizer

        tax = taxonomy or load_taxonomy()
        al = tax.all_aliases() if aliases is None else aliases.copy()
        al = al[al["onet_code"].isin(tax.titles)].copy()
        al["norm"] = [normalize_title(a) for a in al["alias"]]
        al = al[al["norm"].map(has_letters)]
        # how each (normalized alias, occupation) pair is used: how many distinct sources list it,
        # whether the BLS direct-match file does, and its share of the alias's sources
        srcs = al.groupby(["norm", "onet_code"], sort=False)["source"].agg(lambda x: frozenset(x))
        nsrc = srcs.map(len)
        share = nsrc / nsrc.groupby(level=0).transform("sum")
        use = pd.DataFrame({"nsrc": nsrc, "dmtf": srcs.map(lambda x: "dmtf" in x), "share": share})
        # one row per (normalized alias, occupation): a curated glossary row wins (it marks the canonical
        # reading of a title O*NET lists under several occupations), then O*NET, then ESCO routes
        src_rank = al["route"].map({"glossary": 0, "onet": 1, "crosswalk": 2, "hierarchy": 3, "isco": 4}).fillna(5)
        al = (al.assign(_r=src_rank).sort_values(["norm", "onet_code", "_r", "route_weight"],
                                                 ascending=[True, True, True, False])
              .drop_duplicates(["norm", "onet_code"]).reset_index(drop=True))
        toks = [tokens(n) for n in al["norm"]]
        self.occ_codes_ = sorted(tax.titles)
        occ_index = {c: i for i, c in enumerate(self.occ_codes_)}
        self.occ_titles_ = [tax.titles[c] for c in self.occ_codes_]
        self.occ_soc_ = [tax.soc_code(c) for c in self.occ_codes_]
        emp = tax.occupations["national_employment"].reindex(self.occ_codes_).fillna(0).to_numpy(float).copy()
        # O*NET-SOC codes that share one SOC code share its employment: the ".00" code (the
        # general occupation) takes 60%, the specialties split the rest
        soc = [tax.soc_code(c) for c in self.occ_codes_]
        siblings = pd.Series(soc).value_counts()
        for i, (c, sc) in enumerate(zip(self.occ_codes_, soc)):
            k = siblings[sc]
            if k > 1:
                has_base = f"{sc}.00" in tax.titles
                emp[i] *= (0.6 if c.endswith(".00") else 0.4 / (k - 1)) if has_base else 1.0 / k
        self.occ_prior_ = (np.log10(emp + 10.0) / 7.0).astype(np.float32)
        self.alias_text_ = al["alias"].to_numpy(object)
        self.alias_norm_ = al["norm"].to_numpy(object)
        self.alias_tokens_ = np.array([" ".join(t) for t in toks], dtype=object)
        self.alias_occ_ = al["onet_code"].map(occ_index).to_numpy(np.int32)
        self.alias_weight_ = al["route_weight"].astype(float).to_numpy(np.float32)
        pair = pd.MultiIndex.from_arrays([al["norm"], al["onet_code"]])
        use = use.reindex(pair)
        self.alias_nsrc_ = use["nsrc"].fillna(1).to_numpy(np.uint8)
        self.alias_dmtf_ = use["dmtf"].fillna(False).to_numpy(bool)
        self.alias_share_ = use["share"].fillna(1.0).to_numpy(np.float32)
        self.sources_, src_codes = np.unique(al["source"].to_numpy(str), return_inverse=True)
        self.alias_source_ = src_codes.astype(np.int16)
        self.langs_, lang_codes = np.unique(al["lang"].to_numpy(str), return_inverse=True)
        self.alias_lang_ = lang_codes.astype(np.int16)
        self.routes_, route_codes = np.unique(al["route"].to_numpy(str), return_inverse=True)
        self.alias_route_ = route_codes.astype(np.int16)
        word_vectorizer = TfidfVectorizer(analyzer=str.split, sublinear_tf=True, dtype=np.float32)
        self.W_ = word_vectorizer.fit_transform(self.alias_tokens_).tocsr()
        char_vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True,
                                                min_df=2, dtype=np.float32)
        self.C_ = char_vectorizer.fit_transform(self.alias_norm_).tocsr()
        # at run time the transforms are plain arrays (matcher._inference): no scikit-learn import
        self.word_tfidf_ = TfidfTransform.from_sklearn(word_vectorizer)
        self.char_tfidf_ = TfidfTransform.from_sklearn(char_vectorizer)
        self._derive()
        # language identifier trained on the same aliases (Latin-script languages only)
        sample = pd.concat([g.sample(min(len(g), 6000), random_state=0) for _, g in al.groupby("lang")])
        self.language_identifier_ = LanguageIdentifier().fit(sample["alias"].tolist(), sample["lang"].tolist())
        self.taxonomy_version_ = tax.version
        self.isco_ = dict(tax.isco_map)
        self.model_version_ = "untrained"
        self.reranker_ = None
        self.calibrator_ = None
        return self

    def _derive(self) -> None:
        """State computed from the saved index (not saved itself)."""
        # exact lookups: the normalized aliases' hashes, sorted (1.6 MB where a dict took 18 MB)
        norms = self.alias_norm_.to_array() if isinstance(self.alias_norm_, StringColumn) else self.alias_norm_
        keys = np.fromiter((_stable_hash(n) for n in norms.tolist()), np.int64, len(norms))
        order = np.argsort(keys, kind="stable")
        self._exact_keys, self._exact_order = keys[order], order.astype(np.int32)
        for name in ("alias_text_", "alias_norm_", "alias_tokens_"):
            if not isinstance(getattr(self, name), StringColumn):
                setattr(self, name, StringColumn(getattr(self, name)))
        CT = self.C_.T.tocsr()
        df = np.diff(CT.indptr)
        self.char_rare_ = np.flatnonzero(df <= self.config.retrieval_max_df)
        diag = sp.diags(self.alias_weight_).tocsr()
        self.WTw_ = (self.W_.T.tocsr() @ diag).tocsr()
        self.CTw_rare_ = (CT[self.char_rare_] @ diag).tocsr()
        if not hasattr(self, "occ_title_norm_"):
            self.occ_title_norm_ = [normalize_title(t) for t in self.occ_titles_]
        routes = list(self.routes_)
        self._glossary_route = routes.index("glossary") if "glossary" in routes else -1

    # --- candidates and features ---------------------------------------------------------------
    def _prepare(self, titles: Sequence[object]) -> tuple[list[str], list[str]]:
        """Queries: the job-title part (employer and place, and bracketed qualifiers, set aside),
        normalized, and its tokens."""
        norms = [normalize_title(drop_parentheses(strip_employer(t)) if isinstance(t, str) else t) for t in titles]
        return norms, [" ".join(tokens(n)) for n in norms]

    def _candidates(self, norms: list[str], toks: list[str], langs: list[str],
                    exclude: list[set[int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Feature rows for the candidate occupations of each query.
        Returns (features [n_rows, n_features], meta [n_rows, 3] = query index, occupation index,
        best alias index)."""
        cfg = self.config
        Qw = self.word_tfidf_.transform(toks)
        Qc = self.char_tfidf_.transform(norms)
        # retrieval: every word, but only the character n-grams rare enough to be selective
        # (df <= retrieval_max_df); full character cosines are computed for the candidates only
        # (the alias route weights, by which ESCO-by-ISCO aliases count less than direct ones, are
        # already multiplied into the retrieval matrices)
        S = ((Qw @ self.WTw_) * cfg.word_weight + (Qc[:, self.char_rare_] @ self.CTw_rare_) * cfg.char_weight).tocsr()
        rows_q, rows_a, rows_support = [], [], []
        K = cfg.candidate_aliases
        for qi in range(len(norms)):
            a, b = S.indptr[qi], S.indptr[qi + 1]
            idx = S.indices[a:b]
            val = S.data[a:b]
            ex = self._exact_ids(norms[qi])
            if exclude is not None and exclude[qi]:
                keep = ~np.isin(idx, list(exclude[qi]))
                idx, val = idx[keep], val[keep]
                if ex:
                    ex = [e for e in ex if e not in exclude[qi]]
            if len(idx) > K:
                part = np.argpartition(-val, K)[:K]
                idx, val = idx[part], val[part]
            order = np.argsort(-val, kind="stable")
            idx = idx[order]
            n_exact = 0
            if ex:
                # every occupation that lists the title verbatim is a candidate, whatever the cap:
                # the project's canonical (glossary) reading first, then by employment
                ex = sorted(ex, key=lambda a: (self.alias_route_[a] != self._glossary_route,
                                               -float(self.occ_prior_[self.alias_occ_[a]]), a))
                n_exact = len({int(self.alias_occ_[a]) for a in ex})
                idx = np.concatenate([np.asarray(ex, dtype=idx.dtype), idx])
            cap = max(cfg.candidate_occupations, min(n_exact, MAX_EXACT_CANDIDATES))
            seen: dict[int, int] = {}
            counts: dict[int, int] = {}
            for ai, o in zip(idx.tolist(), self.alias_occ_[idx].tolist()):
                counts[o] = counts.get(o, 0) + 1
                if o not in seen and len(seen) < cap:
                    seen[o] = ai
            for o, ai in seen.items():
                rows_q.append(qi)
                rows_a.append(ai)
                rows_support.append(counts[o])
        if not rows_q:
            return np.zeros((0, len(FEATURES)), np.float32), np.zeros((0, 3), np.int64)
        q = np.asarray(rows_q)
        ai = np.asarray(rows_a)
        occ = self.alias_occ_[ai]
        word_cos = np.asarray(Qw[q].multiply(self.W_[ai]).sum(axis=1)).ravel()
        char_cos = np.asarray(Qc[q].multiply(self.C_[ai]).sum(axis=1)).ravel()
        combined = (word_cos * cfg.word_weight + char_cos * cfg.char_weight) * self.alias_weight_[ai]
        F, meta = self._features(norms, toks, langs, q, ai, occ, word_cos, char_cos, combined, exclude)
        F[:, 11] = np.log1p(np.asarray(rows_support, np.float32))
        return F, meta

    def _features(self, norms, toks, langs, q, ai, occ, word_cos, char_cos, combined, exclude):
        from rapidfuzz import fuzz
        from rapidfuzz.process import cpdist

        n = len(q)
        F = np.zeros((n, len(FEATURES)), np.float32)
        rank = np.zeros(n, np.float32)
        gap = np.zeros(n, np.float32)
        start = 0
        bounds = np.flatnonzero(np.diff(q)) + 1
        for end in list(bounds) + [n]:
            block = slice(start, end)
            comb = combined[block]
            order = np.argsort(-comb, kind="stable")
            r = np.empty_like(order)
            r[order] = np.arange(len(order))
            rank[block] = r
            gap[block] = comb.max() - comb
            start = end
        src_names = self.sources_[self.alias_source_[ai]]
        lang_names = self.langs_[self.alias_lang_[ai]]
        qn_list = [norms[qi] for qi in q]
        an_list = self.alias_norm_.take(ai)
        # pairwise fuzzy ratios in C (rapidfuzz cpdist), one call per scorer for the whole chunk
        F[:, 3] = cpdist(qn_list, an_list, scorer=fuzz.token_set_ratio, dtype=np.float32) / 100.0
        ot_list = [self.occ_title_norm_[o] for o in occ.tolist()]
        F[:, 24] = cpdist(qn_list, ot_list, scorer=fuzz.token_sort_ratio, dtype=np.float32) / 100.0
        F[:, 4] = cpdist(qn_list, an_list, scorer=fuzz.ratio, dtype=np.float32) / 100.0
        F[:, 5] = cpdist(qn_list, an_list, scorer=fuzz.partial_ratio, dtype=np.float32) / 100.0
        qtoks = [t.split() for t in toks]
        qsets = [set(t) for t in qtoks]
        exact_occ_by_q: dict[int, set[int]] = {}
        for k in range(n):
            qi = q[k]
            qt = qtoks[qi]
            qs = qsets[qi]
            at = self.alias_tokens_[ai[k]].split()
            as_ = set(at)
            inter = len(qs & as_)
            exact_occ = exact_occ_by_q.get(qi)
            if exact_occ is None:
                exact_ids = [e for e in self._exact_ids(norms[qi]) if exclude is None or e not in exclude[qi]]
                exact_occ = exact_occ_by_q[qi] = {int(self.alias_occ_[e]) for e in exact_ids}
            F[k, 6] = 1.0 if int(occ[k]) in exact_occ else 0.0
            F[k, 21] = len(exact_occ)
            if qt and at:
                F[k, 7] = 1.0 if qt[-1] == at[-1] else 0.0
                F[k, 8] = 1.0 if qt[-1] in as_ else 0.0
            F[k, 9] = inter / len(qs) if qs else 0.0
            F[k, 10] = inter / len(as_) if as_ else 0.0
            F[k, 19] = len(qt)
            if at:
                F[k, 29] = 1.0 if at[-1] in qs else 0.0
                mods = as_ - {at[-1]}
                F[k, 30] = len(mods & qs) / len(mods) if mods else 1.0
        is_onet = np.isin(src_names, ["onet_title", "alternate", "alternate_short", "reported", "dmtf"])
        F[:, 25] = src_names == "onet_title"
        F[:, 26] = np.log1p(self.alias_nsrc_[ai].astype(np.float32))
        F[:, 27] = self.alias_dmtf_[ai]
        F[:, 28] = self.alias_share_[ai]
        F[:, 16] = is_onet
        F[:, 17] = np.char.startswith(src_names.astype(str), "glossary")
        F[:, 18] = np.char.startswith(src_names.astype(str), "esco")
        F[:, 20] = lang_names == np.asarray(langs, dtype=object)[q]
        F[:, 0] = combined
        F[:, 1] = word_cos
        F[:, 2] = char_cos
        F[:, 12] = self.occ_prior_[occ]
        F[:, 13] = rank
        F[:, 14] = gap
        F[:, 15] = self.alias_weight_[ai]
        # the occupation's share of employment among the occupations competing for the same query
        emp = np.power(10.0, self.occ_prior_[occ].astype(np.float64) * 7.0)
        exact_emp = emp * F[:, 6]
        start = 0
        for end in list(bounds) + [n]:
            block = slice(start, end)
            tot_e = exact_emp[block].sum()
            F[block, 22] = exact_emp[block] / tot_e if tot_e > 0 else 0.0
            F[block, 23] = emp[block] / emp[block].sum()
            start = end
        meta = np.stack([q, occ, ai], axis=1)
        return F, meta

    # --- reranker ------------------------------------------------------------------------------
    def fit_reranker(self, queries: Sequence[str], codes: Sequence[str], exclude: list[set[int]] | None = None,
                     langs: Sequence[str] | None = None, random_state: int = 0) -> dict:
        """Train the reranker on (noisy query, true code) pairs; ``exclude`` removes, per query, the
        alias rows it was made from.  A fifth of the queries calibrates confidence.  Returns metrics."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.isotonic import IsotonicRegression

        rng = np.random.default_rng(random_state)
        n = len(queries)
        norms, toks = self._prepare(queries)
        langs = list(langs) if langs is not None else [g.lang for g in self.language_identifier_.identify_many(queries)]
        occ_index = {c: i for i, c in enumerate(self.occ_codes_)}
        truth = np.array([occ_index.get(c, -1) for c in codes])
        Fs, Ms = [], []
        for s in range(0, n, self.config.batch_size):
            e = min(n, s + self.config.batch_size)
            F, M = self._candidates(norms[s:e], toks[s:e], langs[s:e], exclude[s:e] if exclude else None)
            M[:, 0] += s
            Fs.append(F)
            Ms.append(M)
        F = np.vstack(Fs)
        M = np.vstack(Ms)
        y = (M[:, 1] == truth[M[:, 0]]).astype(int)
        calib_q = rng.random(n) < 0.2
        train_rows = ~calib_q[M[:, 0]]
        model = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.12, max_leaf_nodes=31,
                                               l2_regularization=1.0, random_state=random_state)
        model.fit(F[train_rows], y[train_rows])
        self.reranker_ = TreeEnsemble.from_sklearn(model)     # run time: numpy arrays
        self.forest_ = model                                   # kept with the model: the tests compare
        # calibration: top-1 relative score -> P(top-1 correct), on held-out queries
        p = model.predict_proba(F)[:, 1]
        top_score, top_rel, top_ok = self._top1(p, M, truth, n)
        cal_mask = calib_q & (top_score >= 0)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(top_rel[cal_mask], top_ok[cal_mask])
        self.calibrator_ = Calibration.from_sklearn(iso)
        self.calibration_points_ = (top_rel[cal_mask], top_ok[cal_mask])    # not saved: for recalibrate()
        recall = float(np.mean([truth[i] in set(M[M[:, 0] == i, 1]) for i in np.flatnonzero(calib_q)[:3000]]))
        return {"train_queries": int((~calib_q).sum()), "calibration_queries": int(calib_q.sum()),
                "candidate_recall": round(recall, 4),
                "calibration_top1_accuracy": round(float(top_ok[cal_mask].mean()), 4)}

    def recalibrate(self, queries: Sequence[str], acceptable: Sequence[Sequence[str]], weight: float = 1.0,
                    synthetic: tuple | None = None) -> dict:
        """Refit the confidence calibration on real titles with known answers (``acceptable``: the
        codes counted right for each, compared at SOC-6), optionally pooled with the synthetic
        calibration points ``(rel, right)`` that ``fit_reranker`` kept.  Returns the points' counts."""
        from sklearn.isotonic import IsotonicRegression

        self._check_fitted()
        saved, self.calibrator_ = self.calibrator_, None
        try:
            res = self.match_many(list(queries), top=1)
        finally:
            self.calibrator_ = saved
        soc = dict(zip(self.occ_codes_, self.occ_soc_))
        rel = np.array([r.confidence for r in res], float)           # uncalibrated: the raw relative score
        right = np.array([bool(r.candidates) and soc.get(r.candidates[0].onet_code) in
                          {soc.get(c, c[:7]) for c in acc} for r, acc in zip(res, acceptable)], float)
        w = np.full(len(rel), float(weight))
        if synthetic is not None:
            s_rel, s_right = (np.asarray(x, float) for x in synthetic)
            rel, right = np.concatenate([rel, s_rel]), np.concatenate([right, s_right])
            w = np.concatenate([w, np.ones(len(s_rel))])
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        iso.fit(rel, right, sample_weight=w)
        self.calibrator_ = Calibration.from_sklearn(iso)
        return {"real_titles": len(queries), "synthetic_points": 0 if synthetic is None else len(synthetic[0])}

    @staticmethod
    def _top1(p, M, truth, n):
        top_score = np.full(n, -1.0)
        top_rel = np.zeros(n)
        top_ok = np.zeros(n)
        sums = np.zeros(n)
        np.add.at(sums, M[:, 0], p)
        for k in range(len(p)):
            qi = M[k, 0]
            if p[k] > top_score[qi]:
                top_score[qi] = p[k]
                top_ok[qi] = 1.0 if M[k, 1] == truth[qi] else 0.0
        with np.errstate(invalid="ignore", divide="ignore"):
            top_rel = np.where(sums > 0, top_score / np.maximum(sums, 1e-9), 0.0)
        # blend absolute and relative evidence: a lone weak candidate is not a confident one
        rel = np.sqrt(np.clip(top_score, 0, 1) * top_rel)
        return top_score, rel, top_ok

    # --- matching ------------------------------------------------------------------------------
    def match(self, title: object, top: int | None = None, language: str | None = None,
              country: str | None = None) -> TitleMatch:
        return self.match_many([title], top=top, languages=[language], countries=[country])[0]

    def match_many(self, titles: Iterable[object], top: int | None = None,
                   languages: Sequence[str | None] | None = None,
                   countries: Sequence[str | None] | None = None) -> list[TitleMatch]:
        """Match every title, in order.  Repeated titles are scored once.  Never raises on a bad title:
        it gets status ``no_match`` and a reason.  ``languages`` are hints that win over detection;
        ``countries`` (ISO alpha-2) only break ties in detection."""
        self._check_fitted()
        if isinstance(titles, (str, bytes)):
            raise InputError("match_many takes a list of titles, not one string: use match(title) for one title")
        titles = list(titles)
        top = self.config.top if top is None else top
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
            raise InputError(f"top must be a positive integer or None for the default {self.config.top} (got {top!r})")
        top = int(top)
        languages = list(languages) if languages is not None else [None] * len(titles)
        countries = list(countries) if countries is not None else [None] * len(titles)
        if len(languages) != len(titles) or len(countries) != len(titles):
            raise InputError("languages and countries must have one entry per title")
        keys = [(self._as_text(t), (l or "").strip().lower() if isinstance(l, str) else "",
                 (c or "").strip().upper() if isinstance(c, str) else "")
                for t, l, c in zip(titles, languages, countries)]
        unique = list(dict.fromkeys(keys))
        results: dict[tuple[str, str], TitleMatch] = {}
        bs = self.config.batch_size
        for s in range(0, len(unique), bs):
            chunk = unique[s:s + bs]
            for key, res in zip(chunk, self._match_chunk([k[0] for k in chunk], [k[1] or None for k in chunk], top,
                                                         [k[2] or None for k in chunk])):
                results[key] = res
        return [results[k] for k in keys]

    @staticmethod
    def _as_text(t: object) -> str:
        """Text of a title: invisible characters removed, cut to MAX_TITLE_CHARS (a job title is short;
        the cut bounds the work for any input)."""
        if t is None or (isinstance(t, float) and math.isnan(t)):   # (is_missing would also drop 'N/A' titles)
            return ""
        if isinstance(t, bytes):
            t = t.decode("utf-8", errors="replace")
        return clean_text(str(t)[:4 * MAX_TITLE_CHARS])[:MAX_TITLE_CHARS]

    def _match_chunk(self, titles: list[str], hints: list[str | None], top: int,
                     countries: list[str | None] | None = None) -> list[TitleMatch]:
        guesses = self.language_identifier_.identify_many(titles, hints, countries)
        langs = [g.lang for g in guesses]
        norms, toks = self._prepare(titles)
        valid = [i for i, n in enumerate(norms) if has_letters(n)]
        out: list[TitleMatch | None] = [None] * len(titles)
        valid_set = set(valid)
        for i in range(len(titles)):
            if i not in valid_set:
                reason = "empty title" if not titles[i].strip() else "no letters after normalization"
                out[i] = self._no_match(titles[i], norms[i], guesses[i], reason)
        if valid:
            F, M = self._candidates([norms[i] for i in valid], [toks[i] for i in valid], [langs[i] for i in valid])
            p = self._predict(F)
            by_q: dict[int, list[int]] = {}
            for k in range(len(p)):
                by_q.setdefault(int(M[k, 0]), []).append(k)
            rows_by_valid = [sorted(by_q.get(j, []), key=lambda k: -p[k]) for j in range(len(valid))]
            conf = self._confidence([p[r] for r in rows_by_valid])
            for j, i in enumerate(valid):
                out[i] = self._result(titles[i], norms[i], guesses[i], rows_by_valid[j], F, M, p, top, conf[j])
        return out  # type: ignore[return-value]

    def _predict(self, F: np.ndarray) -> np.ndarray:
        """Reranker scores from the numpy trees (``_inference.TreeEnsemble``: the same numbers as
        scikit-learn's predict, tested; no scikit-learn import, which would cost a second at start-up
        and about 64 MB in every worker)."""
        if not len(F):
            return np.zeros(0)
        return self.reranker_.predict_proba(F)[:, 1]

    def _confidence(self, scores_per_query: list) -> np.ndarray:
        """Calibrated P(top-1 correct) from each query's sorted reranker scores (vectorized)."""
        rel = np.zeros(len(scores_per_query))
        for j, ps in enumerate(scores_per_query):
            if len(ps):
                total = float(np.sum(ps))
                rel[j] = math.sqrt(max(0.0, float(ps[0])) * (float(ps[0]) / total if total > 0 else 0.0))
        if self.calibrator_ is None:
            return rel
        return np.interp(rel, self.calibrator_.X_thresholds_, self.calibrator_.y_thresholds_)

    def _result(self, title, norm, guess, rows, F, M, p, top, conf) -> TitleMatch:
        if not rows:
            return self._no_match(title, norm, guess, "no alias shares a word or character sequence with the title")
        conf = float(conf)
        best_sim = float(F[rows[0], 0])
        # the best candidate carries every component score; the others their score and alias
        cands = tuple(self._candidate(M[k], F[k], float(p[k]), full=(j == 0)) for j, k in enumerate(rows[:top]))
        c0 = cands[0]
        if best_sim < self.config.min_similarity:
            status, reason = "no_match", f"best alias similarity {best_sim:.2f} is below {self.config.min_similarity}"
        elif conf >= self.config.match_threshold:
            status, reason = "matched", ""
        elif conf >= self.config.review_threshold:
            status, reason = "review", f"confidence {conf:.2f} is below {self.config.match_threshold}"
        else:
            status, reason = "no_match", f"confidence {conf:.2f} is below {self.config.review_threshold}"
        comp = c0.components
        method = "exact alias" if comp["exact"] else "fuzzy alias"
        lang_name = LANGUAGE_NAMES.get(guess.lang, guess.lang)
        expl = (f"{method} match on '{c0.matched_alias}' ({self._source_label(c0)}, {c0.alias_lang}, route {c0.route}); "
                f"query language {lang_name} ({guess.method}); word {comp['word_cos']:.2f}, char {comp['char_cos']:.2f}, "
                f"fuzzy {comp['fuzz_token_set']:.2f}, head noun {'agrees' if comp['head_match'] else 'differs'}; "
                f"reranker {c0.score:.2f}, confidence {conf:.2f}")
        if status == "no_match":
            return TitleMatch(title, norm, guess.lang, guess.method, status, "", "", "", round(c0.score, 4),
                              round(conf, 4), cands, f"no match: {reason}; nearest was {c0.onet_code} {c0.onet_title} "
                              f"via '{c0.matched_alias}'", reason, self.taxonomy_version_, self.model_version_)
        return TitleMatch(title, norm, guess.lang, guess.method, status, c0.onet_code, c0.onet_title, c0.soc_code,
                          round(c0.score, 4), round(conf, 4), cands, expl, reason, self.taxonomy_version_,
                          self.model_version_, self.isco_.get(c0.onet_code, ""))

    def _source_label(self, c: Candidate) -> str:
        if c.alias_source.startswith("glossary"):
            return f"project glossary ({c.alias_source.split(':', 1)[-1]} form)"
        return _SOURCE_LABELS.get(c.alias_source, c.alias_source)

    def _exact_ids(self, norm: str) -> tuple[int, ...]:
        """The aliases whose normalized form is exactly ``norm``, in index order."""
        h = _stable_hash(norm)
        a = int(np.searchsorted(self._exact_keys, h, side="left"))
        b = int(np.searchsorted(self._exact_keys, h, side="right"))
        if a == b:
            return ()
        return tuple(sorted(i for i in self._exact_order[a:b].tolist() if self.alias_norm_[i] == norm))

    def _candidate(self, meta_row, frow, score, full: bool = True) -> Candidate:
        _, o, ai = (int(x) for x in meta_row)
        if full:
            comps = dict(zip(FEATURES, np.round(frow.astype(np.float64), 4).tolist()))
        else:
            comps = {"combined": round(float(frow[0]), 4), "exact": float(frow[6])}
        return Candidate(self.occ_codes_[o], self.occ_titles_[o], self.occ_soc_[o], round(score, 4),
                         str(self.alias_text_[ai]), str(self.sources_[self.alias_source_[ai]]),
                         str(self.langs_[self.alias_lang_[ai]]), str(self.routes_[self.alias_route_[ai]]), comps)

    def _no_match(self, title, norm, guess, reason) -> TitleMatch:
        return TitleMatch(title, norm, guess.lang, guess.method, "no_match", "", "", "", 0.0, 0.0, (),
                          f"no match: {reason}", reason, self.taxonomy_version_, self.model_version_)

    def _check_fitted(self):
        if getattr(self, "reranker_", None) is None:
            raise InputError("this TitleMatcher has no trained reranker: use TitleMatcher.load() or fit + fit_reranker")

    # --- persistence ---------------------------------------------------------------------------
    _STATE = ("occ_codes_", "occ_titles_", "occ_soc_", "occ_prior_", "alias_text_", "alias_norm_", "alias_tokens_",
              "alias_occ_", "alias_weight_", "sources_", "alias_source_", "langs_", "alias_lang_", "routes_",
              "alias_route_", "alias_nsrc_", "alias_dmtf_", "alias_share_", "word_tfidf_", "W_",
              "char_tfidf_", "C_", "occ_title_norm_", "taxonomy_version_")

    def save(self, folder: str | Path = DEFAULT_MODEL_DIR, metrics: dict | None = None) -> Path:
        from .artifacts import save_artifact

        self._check_fitted()
        index = {k: getattr(self, k) for k in self._STATE}
        for k, v in index.items():
            if isinstance(v, StringColumn):
                index[k] = v.to_array()               # the saved format keeps object arrays
        # character matrix values in float16 halve the file; cosines keep three decimals
        C = self.C_
        index["C_"] = {"shape": C.shape, "indptr": C.indptr.astype(np.int32), "indices": C.indices.astype(np.int32),
                       "data": C.data.astype(np.float16)}
        objects = {"index": index}
        if getattr(self, "forest_", None) is not None:
            objects["forest"] = self.forest_() if callable(self.forest_) else self.forest_
        return save_artifact(folder, {**objects, "reranker": {"model": self.reranker_, "calibrator": self.calibrator_,
                                                                   "language": self.language_identifier_,
                                                                   "config": asdict(self.config)}},
                             kind=MODEL_KIND, taxonomy_version=self.taxonomy_version_, metrics=metrics,
                             extra={"features": list(FEATURES)})

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_MODEL_DIR, taxonomy: Taxonomy | None = None,
             config: TitleMatcherConfig | None = None, *, trusted: bool = False) -> "TitleMatcher":
        """Load a trained matcher; checks format, file names, checksums and that it was built for the taxonomy.

        Loading unpickles the model, which can run code, so only two kinds of folder are loaded: the
        package's own model (``DEFAULT_MODEL_DIR``, whose checksums must match those pinned in
        ``matcher/_model_pins.py``), or a folder you vouch for with ``trusted=True`` (a model you
        built yourself with ``save``).  Anything else raises ArtifactError."""
        from . import _model_pins
        from .artifacts import load_artifact

        tax = taxonomy or load_taxonomy()
        objs, meta = load_artifact(folder, kind=MODEL_KIND, taxonomy_version=tax.version, trusted=trusted,
                                   package_folder=DEFAULT_MODEL_DIR, pins=_model_pins.PINS,
                                   check=_check_model_meta, defer=("forest",))
        rer = objs["reranker"]
        self = cls(config or TitleMatcherConfig(**rer["config"]))
        for k, v in objs["index"].items():
            setattr(self, k, v)
        c = self.C_
        self.C_ = sp.csr_matrix((c["data"].astype(np.float32), c["indices"], c["indptr"]), shape=c["shape"])
        self._derive()
        self.reranker_ = rer["model"]
        self.forest_ = objs.get("forest")           # the scikit-learn model, unpickled only if called (tests)
        self.calibrator_ = rer["calibrator"]
        self.language_identifier_ = rer["language"]
        self.model_version_ = f"{MODEL_KIND}@{meta['files'].get('reranker.pkl.z', '')[:12]}"
        self.isco_ = dict(tax.isco_map)
        self.meta_ = meta
        return self
