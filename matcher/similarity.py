"""Occupation-to-occupation similarity from O*NET data, shared by pathways, plans and openings.

Parts (each 0..1): O*NET related-occupation tiers, the share of the other occupation's detailed and
intermediate work activities the client's occupation performs, IDF-weighted technology cosine, the
same SOC minor group.  The similarity is their weighted sum (``SimilarityWeights``).  "All Other"
codes without activity data borrow their broad group's; ``has_own_data`` names the codes with their own.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from ._util import instance_cache
from .errors import ConfigError
from .settings import number_problems
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["SimilarityWeights", "OccupationSimilarity"]


@dataclass(frozen=True)
class SimilarityWeights:
    """Weights of the similarity parts (they sum to 1 by default)."""

    related: float = 0.35
    activities: float = 0.25
    activity_groups: float = 0.25
    technology: float = 0.10
    same_minor_group: float = 0.05

    def __post_init__(self):
        problems = number_problems(self, [f.name for f in fields(self)], 0.0, 1.0)
        if problems:
            raise ConfigError(problems)


class OccupationSimilarity:
    """``vector(code)`` (one row for every occupation), ``pair(a, b)`` with its parts and
    ``similar(code)`` (the most similar occupations, best first); rows are cached per instance."""

    def __init__(self, taxonomy: Taxonomy | None = None, weights: SimilarityWeights | None = None,
                 min_similarity: float = 0.15):
        self.taxonomy = taxonomy or load_taxonomy()
        self.weights = weights or SimilarityWeights()
        self.min_similarity = min_similarity

    @cached_property
    def has_own_data(self) -> frozenset:
        self._data  # noqa: B018 - computed with the data
        return self.__dict__["has_own_data"]

    @cached_property
    def _data(self):
        tax = self.taxonomy
        codes = list(tax.occupations["onet_code"])
        index = {c: i for i, c in enumerate(codes)}
        tier_w = {"Primary-Short": 1.0, "Primary-Long": 0.8, "Supplemental": 0.55}
        related: dict[str, dict[str, float]] = defaultdict(dict)
        for a, b, tier, idx in zip(tax.related["onet_code"], tax.related["related_code"], tax.related["tier"],
                                   tax.related["index"]):
            w = tier_w.get(tier, 0.5) * (1.0 - 0.01 * (int(idx) - 1))
            related[a][b] = max(related[a].get(b, 0), w)
            related[b][a] = max(related[b].get(a, 0), w * 0.8)

        def sets(df, col):
            s: dict[str, set] = defaultdict(set)
            for c, v in zip(df["onet_code"], df[col]):
                s[c].add(v)
            return s

        dwa = sets(tax.dwa, "dwa_id")
        tech = sets(tax.technology, "commodity_code")
        self.__dict__['has_own_data'] = frozenset(c for c in codes if dwa.get(c))
        # "All Other" and some new O*NET-SOC 2019 codes have no activity data: they borrow the union of
        # the occupations in their SOC broad group (29-1229.00 <- 29-122x), else their minor group
        for data in (dwa, tech):
            for c in codes:
                if not data.get(c):
                    for width in (6, 4):
                        peers = [data[p] for p in codes if p[:width] == c[:width] and p != c and data.get(p)]
                        if peers:
                            data[c] = set().union(*peers)
                            break
        for c in codes:
            if not related.get(c):
                for width in (6, 4):
                    peers = [p for p in codes if p[:width] == c[:width] and p != c and related.get(p)]
                    if peers:
                        merged: dict[str, float] = {}
                        for p in peers:
                            for b, w in related[p].items():
                                merged[b] = max(merged.get(b, 0.0), w * 0.9)
                        merged.pop(c, None)
                        related[c] = merged
                        break
        # intermediate work activities: a DWA ID without its last segment (4.A.2.a.4.I09.D03 -> 4.A.2.a.4.I09)
        iwa = {c: {d.rsplit(".", 1)[0] for d in ds} for c, ds in dwa.items()}
        return codes, index, related, dwa, iwa, tech

    def pair(self, a: str, b: str) -> tuple[float, dict]:
        """Similarity of occupation ``b`` to the client's occupation ``a`` (0..1) and its parts:
        O*NET relatedness, the share of b's detailed and intermediate work activities that a
        performs, IDF-weighted technology cosine, same SOC minor group."""
        codes, index, *_ = self._data
        if a not in index or b not in index:
            return 0.0, {"related": 0.0, "shared_activities": 0.0, "shared_activity_groups": 0.0,
                         "shared_technology": 0.0, "same_minor_group": 0.0}
        sim, (rel, d, i, t, same) = self._row(a)
        j = index[b]
        return float(sim[j]), {"related": round(float(rel[j]), 3), "shared_activities": round(float(d[j]), 3),
                               "shared_activity_groups": round(float(i[j]), 3),
                               "shared_technology": round(float(t[j]), 3), "same_minor_group": float(same[j])}

    def vector(self, a: str) -> tuple[list[str], np.ndarray]:
        """(codes, similarity of each code to ``a``): one vectorised row, cached per occupation."""
        codes, index, *_ = self._data
        if a not in index:
            return codes, np.zeros(len(codes))
        return codes, self._row(a)[0]

    def _row(self, a: str):
        cache = instance_cache(self, "_row_cache", "similarity_rows")
        if a not in cache:
            rel, d, i, t, same = self._vectors(a)
            w = self.weights
            sim = (w.related * rel + w.activities * d + w.activity_groups * i
                   + w.technology * np.minimum(1.0, 1.5 * t) + w.same_minor_group * same)
            cache[a] = (sim.astype(np.float32), tuple(x.astype(np.float32) for x in (rel, d, i, t, same)))
        return cache[a]

    def similar(self, code: str, limit: int = 150) -> list[tuple[float, str, dict]]:
        """(similarity, code, parts) of the ``limit`` most similar occupations above ``min_similarity``,
        best first (military codes excluded); cached per occupation on this ranker."""
        cache = instance_cache(self, "_similar_cache", "similar")
        if code not in cache:
            codes, index, *_ = self._data
            sim, (rel, d, i, t, same) = self._row(code)
            order = np.lexsort((np.arange(len(codes)), -sim))
            sims = []
            for j in order:
                if sim[j] < self.min_similarity or len(sims) >= limit:
                    break
                other = codes[j]
                if other == code or other.startswith("55-"):
                    continue
                sims.append((float(sim[j]), other, {"related": round(float(rel[j]), 3),
                                                    "shared_activities": round(float(d[j]), 3),
                                                    "shared_activity_groups": round(float(i[j]), 3),
                                                    "shared_technology": round(float(t[j]), 3),
                                                    "same_minor_group": float(same[j])}))
            cache[code] = sims
        return cache[code]

    @cached_property
    def _matrices(self):
        """Binary occupation x DWA / IWA / technology matrices and a dense related-occupation matrix."""
        import scipy.sparse as sp

        codes, index, related, dwa, iwa, tech = self._data

        def incidence(sets):
            vocab: dict = {}
            rows, cols = [], []
            for r, c in enumerate(codes):
                for v in sets.get(c, ()):
                    rows.append(r)
                    cols.append(vocab.setdefault(v, len(vocab)))
            m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(codes), max(1, len(vocab))))
            return m, np.asarray(m.sum(axis=1)).ravel()

        # technology: cosine over IDF-weighted commodities, so that the office software nearly every
        # occupation lists counts little and specialised tools count much
        Tm, _ = incidence(tech)
        df = np.asarray(Tm.sum(axis=0)).ravel()
        idf = np.log((1 + len(codes)) / (1 + df)) + 1.0
        Tw = Tm @ sp.diags(idf.astype(np.float32))
        norms = np.sqrt(np.asarray(Tw.multiply(Tw).sum(axis=1)).ravel())
        Tw = sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)) @ Tw
        R = np.zeros((len(codes), len(codes)), np.float32)
        for a, row in related.items():
            if a in index:
                for b, w in row.items():
                    if b in index:
                        R[index[a], index[b]] = w
        minor = np.array([c[:4] for c in codes])
        # the sets were only needed to build the matrices: free them (about 10 MB)
        self.__dict__["_data"] = (codes, index, None, None, None, None)
        return incidence(dwa), incidence(iwa), Tw.tocsr(), R, minor

    def _vectors(self, code: str):
        """The parts of ``similarity(code, other)`` for every other occupation at once."""
        codes, index, *_ = self._data
        (D, nd), (I, ni), Tw, R, minor = self._matrices
        a = index[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            # the share of the target's activities the client performs; targets with very few listed
            # activities are damped (a floor on the denominator) so that a thin profile cannot look similar
            d = np.nan_to_num(np.asarray((D @ D[a].T).todense()).ravel() / np.maximum(nd, 8))
            i = np.nan_to_num(np.asarray((I @ I[a].T).todense()).ravel() / np.maximum(ni, 6))
            t = np.asarray((Tw @ Tw[a].T).todense()).ravel()
        same = (minor == code[:4]).astype(float)
        return R[a].astype(float), d, i, t, same

