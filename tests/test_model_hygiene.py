"""The title model's training path and what loading checks: fit, save, load on a small alias set;
meta.json's feature list and scikit-learn release; the ``top`` argument."""
from __future__ import annotations

import json
import random
import shutil

import pytest

from matcher.augment import add_noise
from matcher.errors import ArtifactError, InputError
from matcher.titles import FEATURES, TitleMatcher

CODES = ["29-1141.00", "29-2061.00", "31-1131.00", "51-4121.00", "35-2014.00", "53-3032.00", "43-4051.00",
         "49-9071.00", "41-2031.00", "11-1021.00", "15-1252.00", "13-2011.00"]


@pytest.fixture(scope="module")
def small(taxonomy, tmp_path_factory):
    """A matcher fitted and trained on the aliases of twelve occupations, saved and loaded back."""
    al = taxonomy.all_aliases()
    al = al[al["onet_code"].isin(CODES)].reset_index(drop=True)
    m = TitleMatcher(candidate_occupations=6).fit(taxonomy, aliases=al)
    rng = random.Random(0)
    picks = [rng.randrange(len(m.alias_text_)) for _ in range(600)]
    queries = [add_noise(str(m.alias_text_[i]), rng, strength=0.8) for i in picks]
    codes = [m.occ_codes_[m.alias_occ_[i]] for i in picks]
    metrics = m.fit_reranker(queries, codes, random_state=0)
    folder = tmp_path_factory.mktemp("model") / "small"
    m.save(folder, metrics=metrics)
    return m, folder, al


def test_fit_save_load_round_trip(small, taxonomy):
    m, folder, _ = small
    back = TitleMatcher.load(folder, taxonomy=taxonomy, trusted=True)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["features"] == list(FEATURES) and "scikit-learn" in meta["dependencies"]
    titles = ["registered nurse", "enfermera", "welder fitter", "line cook", "CDL A driver", "software developer"]
    a, b = m.match_many(titles), back.match_many(titles)
    # the saved character matrix is float16: near-ties may swap, the answers do not move
    assert [r.top_codes[0] for r in a] == [r.top_codes[0] for r in b]
    assert [set(r.top_codes) for r in a] == [set(r.top_codes) for r in b]
    assert all(abs(x.confidence - y.confidence) < 0.05 for x, y in zip(a, b))
    assert a[0].onet_code == "29-1141.00" and a[2].onet_code == "51-4121.00" and a[3].onet_code == "35-2014.00"
    assert a[0].isco_codes == "2221"                   # ISCO-08 beside the SOC code
    assert {c for r in b for c in r.top_codes} <= set(CODES)   # only the aliases it was given are indexed


def _tampered(folder, tmp_path, edit) -> object:
    dst = tmp_path / "tampered"
    shutil.copytree(folder, dst)
    meta = json.loads((dst / "meta.json").read_text())
    edit(meta)
    (dst / "meta.json").write_text(json.dumps(meta))
    return dst


def test_load_checks_the_feature_list(small, taxonomy, tmp_path):
    _, folder, _ = small
    dst = _tampered(folder, tmp_path, lambda m: m.__setitem__("features", m["features"][:-1]))
    with pytest.raises(ArtifactError, match="features"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)


def test_load_checks_the_numpy_release(small, taxonomy, tmp_path):
    _, folder, _ = small
    dst = _tampered(folder, tmp_path, lambda m: m["dependencies"].__setitem__("numpy", "1.26.4"))
    with pytest.raises(ArtifactError, match="trained with numpy 1.26.4"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)


def test_the_run_time_model_needs_no_scikit_learn(small):
    """Loading and matching import no scikit-learn module (a fresh process: import time matters)."""
    import subprocess
    import sys

    _, folder, _ = small
    code = ("import sys; from matcher.titles import TitleMatcher; "
            f"m = TitleMatcher.load({str(folder)!r}, trusted=True); r = m.match('registered nurse'); "
            "print(r.onet_code, any(k == 'sklearn' or k.startswith('sklearn.') for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["29-1141.00", "False"]


def test_exported_inference_matches_scikit_learn(taxonomy):
    """The numpy TF-IDF transform, tree ensemble and calibration give scikit-learn's numbers."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.isotonic import IsotonicRegression

    from matcher._inference import Calibration, TfidfTransform, TreeEnsemble

    texts = [str(a).lower() for a in taxonomy.all_aliases()["alias"].sample(3000, random_state=1)]
    for vec in (TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True, min_df=2,
                                dtype=np.float32),
                TfidfVectorizer(analyzer=str.split, sublinear_tf=True, dtype=np.float32)):
        vec.fit(texts[:2500])
        a, b = vec.transform(texts[2500:]), TfidfTransform.from_sklearn(vec).transform(texts[2500:])
        assert a.shape == b.shape and abs(a - b).max() < 1e-6
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9000, 6))
    X[rng.random(X.shape) < 0.05] = np.nan            # missing values take each node's learned side
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1] * X[:, 2]) > 0.3).astype(int)
    hgb = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y)
    assert len(X) > TreeEnsemble.BLOCK_ROWS                 # several blocks, and the rows stay in order
    np.testing.assert_allclose(TreeEnsemble.from_sklearn(hgb).predict_proba(X), hgb.predict_proba(X), atol=1e-9)
    Z = rng.normal(size=(2000, 2))
    iso = IsotonicRegression(out_of_bounds="clip").fit(Z[:, 0], Z[:, 0] + rng.normal(size=2000) > 0)
    np.testing.assert_allclose(Calibration.from_sklearn(iso).predict(Z[:, 1]), iso.predict(Z[:, 1]), atol=1e-12)


def test_packaged_reranker_gives_the_saved_scikit_learn_scores():
    """The shipped model's numpy trees score real candidate rows as its saved scikit-learn model does."""
    import numpy as np

    from matcher.titles import TitleMatcher

    m = TitleMatcher.load()
    titles = ["registered nurse", "enfermera", "soudeur", "مهندس مدني", "line cook", "forklift driver",
              "cnc machinist", "hotel front desk clerk", "pharmacist", "maintenance technician"] * 50
    seen = []
    m._predict = lambda F, inner=m._predict: (seen.append(F), inner(F))[1]
    m.match_many([f"{t} {i}" for i, t in enumerate(titles)])
    F = np.vstack(seen)
    assert len(F) > 1000
    forest = m.forest_()
    np.testing.assert_allclose(m.reranker_.predict_proba(F), forest.predict_proba(F), atol=1e-9)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "3"])
def test_top_must_be_a_positive_integer(small, bad):
    m, _, _ = small
    with pytest.raises(InputError, match="top must be a positive integer"):
        m.match("nurse", top=bad)


def test_top_none_means_the_default(small):
    m, _, _ = small
    assert m.match("nurse", top=None).top_codes == m.match("nurse", top=m.config.top).top_codes
    assert len(m.match("nurse", top=1).candidates) == 1 < len(m.match("nurse").candidates)


def test_no_match_still_lists_its_best_candidates(small):
    m, _, _ = small
    res = m.match_many(["zzqx operator of things", "chief happiness ninja", "quantum astrologer", "nurse"])
    none = [r for r in res if r.status == "no_match"]
    assert none and res[-1].status != "no_match"
    for r in none:
        assert r.onet_code == "" and r.isco_codes == "" and r.top_codes     # candidates whatever the status
