"""The title model at run time without scikit-learn: plain arrays exported from the fitted
scikit-learn objects, and numpy code that evaluates them.

scikit-learn fits the model (``TitleMatcher.fit``/``fit_reranker``, ``LanguageIdentifier.fit``);
matching only needs a TF-IDF transform, a naive Bayes score and a forest of small regression
trees, and importing scikit-learn costs about a second, more than everything else a fresh
``matcher normalize --text X`` does.  Each class here is exported from its fitted scikit-learn
counterpart (``from_sklearn``) and reproduces its ``transform`` / ``predict_proba`` (the tests
compare both on real titles).  Nothing here is fitted.
"""
from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

__all__ = ["TfidfTransform", "TreeEnsemble", "NaiveBayesTable", "Calibration"]

_WHITE = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams inside word boundaries, padded with a space (scikit-learn's ``char_wb``)."""
    out: list[str] = []
    append = out.append
    for w in _WHITE.sub(" ", text).split():
        w = " " + w + " "
        wl = len(w)
        for n in range(lo, hi + 1):
            offset = 0
            append(w[offset:offset + n])
            while offset + n < wl:
                offset += 1
                append(w[offset:offset + n])
            if offset == 0:        # a short word counts once
                break
    return out


class TfidfTransform:
    """``TfidfVectorizer.transform`` for a fitted vectorizer with analyzer ``str.split`` (words)
    or ``char_wb``, sublinear tf, idf and l2 norm: a vocabulary dict and the idf array."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, analyzer: str, ngram_range=(1, 1),
                 lowercase: bool = True, dtype=np.float32):
        if analyzer not in ("split", "char_wb"):
            raise ValueError(f"analyzer must be 'split' or 'char_wb' (got {analyzer!r})")
        self.vocabulary, self.idf = vocabulary, np.asarray(idf)
        self.analyzer, self.ngram_range, self.lowercase, self.dtype = analyzer, tuple(ngram_range), lowercase, dtype

    @classmethod
    def from_sklearn(cls, vec) -> "TfidfTransform":
        if callable(vec.analyzer):
            if vec.analyzer is not str.split:
                raise ValueError("only the str.split analyzer can be exported")
            analyzer = "split"
        elif vec.analyzer == "char_wb":
            analyzer = "char_wb"
        else:
            raise ValueError(f"analyzer {vec.analyzer!r} cannot be exported")
        if not (vec.sublinear_tf and vec.use_idf and vec.norm == "l2" and not vec.binary and vec.strip_accents is None):
            raise ValueError("only sublinear-tf, idf, l2-normalised vectorizers can be exported")
        return cls(dict(vec.vocabulary_), np.asarray(vec.idf_), analyzer, vec.ngram_range,
                   vec.lowercase and analyzer == "char_wb", vec.dtype)

    def _terms(self, doc: str) -> list[str]:
        if self.analyzer == "split":
            return doc.split()
        return char_wb_ngrams(doc.lower() if self.lowercase else doc, *self.ngram_range)

    def transform(self, docs) -> sp.csr_matrix:
        vocab = self.vocabulary
        indptr, indices, data = [0], [], []
        for doc in docs:
            counts: dict[int, int] = {}
            for term in self._terms(doc):
                j = vocab.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            for j in sorted(counts):
                indices.append(j)
                data.append(counts[j])
            indptr.append(len(indices))
        X = sp.csr_matrix((np.asarray(data, dtype=self.dtype), np.asarray(indices, dtype=np.int32),
                           np.asarray(indptr, dtype=np.int32)), shape=(len(indptr) - 1, len(self.idf)))
        # sublinear tf, idf, l2 norm: the operations of scikit-learn, in its order
        np.log(X.data, X.data)
        X.data += 1.0
        X.data *= self.idf[X.indices]
        lengths = np.diff(X.indptr)
        rows = np.repeat(np.arange(X.shape[0]), lengths)
        norms = np.sqrt(np.bincount(rows, weights=X.data.astype(np.float64) ** 2, minlength=X.shape[0]))
        norms[norms == 0] = 1.0
        X.data /= norms[rows]
        return X


class NaiveBayesTable:
    """``MultinomialNB.predict_proba`` on character n-gram counts, with an explicit n-gram
    vocabulary instead of scikit-learn's feature hashing."""

    def __init__(self, vocabulary: dict[str, int], feature_log_prob: np.ndarray, class_log_prior: np.ndarray,
                 classes: np.ndarray, ngram_range=(1, 4)):
        self.vocabulary, self.feature_log_prob = vocabulary, np.asarray(feature_log_prob, np.float32)
        self.class_log_prior, self.classes_ = np.asarray(class_log_prior, np.float64), np.asarray(classes)
        self.ngram_range = tuple(ngram_range)

    def transform(self, texts) -> sp.csr_matrix:
        vocab = self.vocabulary
        indptr, indices, data = [0], [], []
        for t in texts:
            counts: dict[int, int] = {}
            for g in char_wb_ngrams(t.lower(), *self.ngram_range):
                j = vocab.get(g)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            indices.extend(counts)
            data.extend(counts.values())
            indptr.append(len(indices))
        return sp.csr_matrix((np.asarray(data, np.float32), np.asarray(indices, np.int32), np.asarray(indptr, np.int32)),
                             shape=(len(indptr) - 1, self.feature_log_prob.shape[1]))

    def predict_proba(self, texts) -> np.ndarray:
        jll = np.asarray(self.transform(texts) @ self.feature_log_prob.T, np.float64) + self.class_log_prior
        jll -= jll.max(axis=1, keepdims=True)
        p = np.exp(jll)
        return p / p.sum(axis=1, keepdims=True)


class TreeEnsemble:
    """``HistGradientBoostingClassifier.predict_proba`` (binary, numeric features) as arrays:
    every tree's nodes padded to one width, evaluated level by level for all trees at once."""

    def __init__(self, feature, threshold, left, right, is_leaf, value, missing_left, baseline: float, depth: int):
        self.feature, self.threshold = feature, threshold
        self.left, self.right, self.is_leaf, self.value = left, right, is_leaf, value
        self.missing_left, self.baseline, self.depth = missing_left, float(baseline), int(depth)

    @classmethod
    def from_sklearn(cls, model) -> "TreeEnsemble":
        preds = [p[0] for p in model._predictors]
        if getattr(model, "n_trees_per_iteration_", 1) != 1:
            raise ValueError("only binary classifiers can be exported")
        if any(n["is_categorical"].any() for n in (p.nodes for p in preds)):
            raise ValueError("categorical splits cannot be exported")
        width = max(len(p.nodes) for p in preds)
        T = len(preds)
        arr = {k: np.zeros((T, width), dt) for k, dt in (("feature", np.int32), ("threshold", np.float64),
                                                         ("left", np.int32), ("right", np.int32),
                                                         ("is_leaf", bool), ("value", np.float64),
                                                         ("missing_left", bool))}
        arr["is_leaf"][:] = True
        for t, p in enumerate(preds):
            n = p.nodes
            k = len(n)
            arr["feature"][t, :k] = n["feature_idx"]
            arr["threshold"][t, :k] = n["num_threshold"]
            arr["left"][t, :k] = n["left"]
            arr["right"][t, :k] = n["right"]
            arr["is_leaf"][t, :k] = n["is_leaf"].astype(bool)
            arr["value"][t, :k] = n["value"]
            arr["missing_left"][t, :k] = n["missing_go_to_left"].astype(bool)
        depth = int(max(p.nodes["depth"].max() for p in preds))
        return cls(baseline=float(np.ravel(model._baseline_prediction)[0]), depth=depth, **arr)

    BLOCK_ROWS = 4096        # rows evaluated at once: bounds the working arrays to a few MB

    def raw(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float64)
        if X.shape[0] == 0:
            return np.zeros(0)
        return np.concatenate([self._raw_block(X[i:i + self.BLOCK_ROWS]) for i in range(0, X.shape[0], self.BLOCK_ROWS)])

    def _flat(self):
        """The node arrays flattened (tree t's node k at t * width + k; a node's children at
        ``child[2 * node]`` (right) and ``child[2 * node + 1]`` (left)), built once."""
        f = self.__dict__.get("_flat_")
        if f is None:
            T, W = self.feature.shape
            base = (np.arange(T) * W)[:, None]
            child = np.empty((T * W, 2), np.int32)
            child[:, 0] = (self.right + base).ravel()
            child[:, 1] = (self.left + base).ravel()
            f = self.__dict__["_flat_"] = (W, self.feature.ravel().astype(np.int32), self.threshold.ravel(),
                                           child.ravel(), self.is_leaf.ravel(), self.value.ravel(),
                                           self.missing_left.ravel())
        return f

    def _raw_block(self, X: np.ndarray) -> np.ndarray:
        """Every (row, tree) pair walks down its tree; pairs that reach a leaf leave the working set,
        so each level only moves the pairs still inside a tree."""
        W, feat, thr, child, is_leaf, value, missing_left = self._flat()
        n, nf = X.shape
        T = self.feature.shape[0]
        Xf = X.ravel()
        node = np.tile(np.arange(T, dtype=np.int32) * W, n)        # the root of every pair's tree
        offset = np.repeat(np.arange(n, dtype=np.int32) * nf, T)   # where the pair's row starts in Xf
        pair = np.arange(n * T, dtype=np.int32)
        final = node.copy()
        for _ in range(self.depth + 1):
            leaf = np.take(is_leaf, node)
            if leaf.any():
                final[pair[leaf]] = node[leaf]
                inside = ~leaf
                node, offset, pair = node[inside], offset[inside], pair[inside]
                if not len(node):
                    break
            x = np.take(Xf, offset + np.take(feat, node))
            go_left = x <= np.take(thr, node)
            nan = np.isnan(x)
            if nan.any():
                go_left = np.where(nan, np.take(missing_left, node), go_left)
            node = np.take(child, 2 * node + go_left)
        return self.baseline + np.take(value, final).reshape(n, T).sum(axis=1)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p1 = 1.0 / (1.0 + np.exp(-self.raw(X)))
        return np.stack([1.0 - p1, p1], axis=1)


class Calibration:
    """An isotonic calibration as its thresholds: ``np.interp(score, X_thresholds_, y_thresholds_)``
    (what ``IsotonicRegression(out_of_bounds='clip').predict`` computes)."""

    def __init__(self, x, y):
        self.X_thresholds_, self.y_thresholds_ = np.asarray(x, np.float64), np.asarray(y, np.float64)

    @classmethod
    def from_sklearn(cls, iso) -> "Calibration":
        return cls(iso.X_thresholds_, iso.y_thresholds_)

    def predict(self, x) -> np.ndarray:
        return np.interp(np.asarray(x, np.float64), self.X_thresholds_, self.y_thresholds_)
