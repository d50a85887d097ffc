"""Measure the title matcher and the credential normalizer on held-out data.

    python scripts/evaluate.py [--source ../shared/data] [--json out.json] [--only titles|foreign|credentials]

Evaluation sets:
- heldout_reported: the 20% of O*NET reported titles that scripts/train.py holds out; measured
  with an index rebuilt without them (and the saved reranker, which never saw them).
- postings: 918 real job-ad titles from ../shared/data/postings labelled by hand
  (scripts/eval_data/posting_labels.csv holds job ids and codes; titles are read from ../shared,
  which is therefore needed for this set): the 300 first labelled (pass `original`, used while
  tuning) and 620 labelled blind in 2026 (pass `blind-2026`: other states, every sector, coded
  from the O*NET definitions without seeing the model; a second coder labelled 130 of them
  independently, scripts/eval_data/posting_labels_second_pass.csv, and disagreements were settled
  against the O*NET definitions).  The TEST part is the half of the blind postings picked by a
  hash of the job id (``is_test_posting``); everything else is DEVELOPMENT.  Tune on development
  only; both are reported, with calibration (reliability table: confidence bin -> share right)
  and the most frequent confusions, and per sector of the expected code.
- dmtf_check: the fifth of the BLS SOC Direct Match Title File held out of the index by
  scripts/build_taxonomy.py (``dmtf_held_out``), SOC-6.
- foreign: titles as immigrants write them, 13 languages (scripts/eval_data/foreign_titles.csv).
- credentials: foreign credentials (scripts/eval_data/credentials_eval.csv).
Top-k counts a hit when the expected code or one of its `also_acceptable` codes is among the
first k; SOC-6 and SOC-2 compare the SOC 2018 detailed code and the major group.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from matcher.taxonomy import load_taxonomy  # noqa: E402
from matcher.titles import TitleMatcher  # noqa: E402

EVAL = ROOT / "scripts" / "eval_data"
_MATCHER = None


def _codes(expected: str, also: str) -> list[str]:
    out = [expected.strip()]
    out += [c.strip() for c in str(also or "").split("|") if c.strip()]
    return out


def topk_metrics(ranked: list[list[str]], gold: list[list[str]], soc: dict[str, str]) -> dict:
    """Top-1/3/5 at O*NET, SOC-6 and SOC-2 level; ``ranked`` holds each query's codes, best first."""
    out = {"n": len(gold)}
    for level, key in (("onet", lambda c: c), ("soc6", lambda c: soc.get(c, c[:7])), ("soc2", lambda c: c[:2])):
        for k in (1, 3, 5):
            hits = [bool({key(c) for c in r[:k]} & {key(g) for g in gs}) for r, gs in zip(ranked, gold)]
            out[f"{level}_top{k}"] = round(float(np.mean(hits)) if hits else 0.0, 4)
    return out


def eval_titles(m: TitleMatcher, queries, gold, langs=None) -> tuple[dict, list]:
    t = time.time()
    res = m.match_many(queries, top=5, languages=langs)
    ranked = [r.top_codes for r in res]
    met = topk_metrics(ranked, gold, dict(zip(m.occ_codes_, m.occ_soc_)))
    met["seconds"] = round(time.time() - t, 2)
    met["status"] = pd.Series([r.status for r in res]).value_counts().to_dict()
    return met, res


def heldout_reported(tax) -> dict:
    from train import split_aliases

    index_aliases, held = split_aliases(tax)
    saved = _MATCHER
    m = TitleMatcher(saved.config).fit(tax, aliases=index_aliases)
    m.reranker_, m.calibrator_, m.language_identifier_ = saved.reranker_, saved.calibrator_, saved.language_identifier_
    m.forest_ = saved.forest_
    met, _ = eval_titles(m, held["alias"].tolist(), [[c] for c in held["onet_code"]])
    return met


def is_test_posting(job_id: str) -> bool:
    """The fixed test half of the blind-labelled postings (by a hash of the job id)."""
    import hashlib

    return int(hashlib.sha1(f"posting-test:{job_id}".encode()).hexdigest()[:8], 16) % 2 == 0


def reliability(conf: list[float], right: list[bool], bins: int = 10) -> dict:
    """Confidence bins -> n, mean confidence, share right; and the expected calibration error."""
    conf_a, right_a = np.asarray(conf, float), np.asarray(right, float)
    table, ece = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (conf_a >= lo) & ((conf_a < hi) if b < bins - 1 else (conf_a <= hi))
        if sel.any():
            table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": int(sel.sum()), "mean_confidence": round(float(conf_a[sel].mean()), 3),
                          "share_right": round(float(right_a[sel].mean()), 3)})
            ece += sel.sum() / len(conf_a) * abs(conf_a[sel].mean() - right_a[sel].mean())
    return {"table": table, "expected_calibration_error": round(float(ece), 4)}


def confusions(res, gold, soc: dict, titles: dict, k: int = 12) -> list[dict]:
    """The most frequent (expected SOC-6 -> first answer SOC-6) errors."""
    from collections import Counter

    cnt = Counter()
    for r, g in zip(res, gold):
        got = soc.get(r.top_codes[0], "") if r.top_codes else "(none)"
        want = {soc.get(c, c[:7]) for c in g}
        if got not in want:
            cnt[(soc.get(g[0], g[0][:7]), got)] += 1
    return [{"expected": e, "expected_title": titles.get(e, ""), "got": g, "got_title": titles.get(g, ""), "n": n}
            for (e, g), n in cnt.most_common(k)]


def _posting_part(m: TitleMatcher, lab: pd.DataFrame, sectors: dict) -> dict:
    gold = [_codes(e, a) for e, a in zip(lab["onet_code"], lab["also_acceptable"])]
    met, res = eval_titles(m, lab["title"].tolist(), gold)
    soc = dict(zip(m.occ_codes_, m.occ_soc_))
    right = [bool(r.top_codes) and soc.get(r.top_codes[0]) in {soc.get(c, c[:7]) for c in g} for r, g in zip(res, gold)]
    met["calibration_soc6_top1"] = reliability([r.confidence for r in res], right)
    soc_titles = {s_: t for s_, t in zip(m.occ_soc_, m.occ_titles_)}
    met["confusions"] = confusions(res, gold, soc, soc_titles)
    per = {}
    for sector in ("healthcare", "manufacturing", "hospitality", "other"):
        idx = [i for i, g in enumerate(gold) if sectors.get(g[0]) == sector]
        if idx:
            per[sector] = topk_metrics([res[i].top_codes for i in idx], [gold[i] for i in idx], soc)
    met["per_sector"] = per
    return met


def postings(m: TitleMatcher, source: Path) -> dict | None:
    p = source / "postings" / "linkedin_2023_ky_in_oh_tn.csv"
    lab_path = EVAL / "posting_labels.csv"
    if not p.exists() or not lab_path.exists():
        return None
    posts = pd.read_csv(p, dtype=str, keep_default_na=False)[["job_id", "title"]]
    lab = pd.read_csv(lab_path, dtype=str, keep_default_na=False).merge(posts, on="job_id", how="inner")
    lab = lab[lab["onet_code"] != "UNCLEAR"].reset_index(drop=True)
    test = (lab["pass"] == "blind-2026") & lab["job_id"].map(is_test_posting)
    tax = load_taxonomy()
    sectors = dict(zip(tax.occupations["onet_code"], tax.occupations["sector"]))
    out = {"test": _posting_part(m, lab[test].reset_index(drop=True), sectors),
           "development": _posting_part(m, lab[~test].reset_index(drop=True), sectors)}
    second = EVAL / "posting_labels_second_pass.csv"
    if second.exists():
        sp2 = pd.read_csv(second, dtype=str, keep_default_na=False)
        soc = dict(zip(m.occ_codes_, m.occ_soc_))
        same = [soc.get(a, a[:7]) == soc.get(b, b[:7]) for a, b in zip(sp2["onet_code_first"], sp2["onet_code_second"])]
        out["labeller_agreement"] = {"n": len(sp2), "onet_exact": round(float(np.mean(sp2["onet_code_first"] ==
                                                                                      sp2["onet_code_second"])), 4),
                                     "soc6": round(float(np.mean(same)), 4)}
    return out


def dmtf_check(m: TitleMatcher, source: Path) -> dict | None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from build_taxonomy import dmtf_held_out, read_dmtf

    if not (source / "bls-dmtf").exists():
        return None
    df = read_dmtf(source)
    held = df[[dmtf_held_out(s_, t) for s_, t in zip(df["soc"], df["title"])]].reset_index(drop=True)
    res = m.match_many(held["title"].tolist(), top=5)
    soc = dict(zip(m.occ_codes_, m.occ_soc_))
    out = {"n": len(held)}
    for k in (1, 5):
        out[f"soc6_top{k}"] = round(float(np.mean([s_ in {soc[c] for c in r.top_codes[:k]}
                                                    for s_, r in zip(held["soc"], res)])), 4)
    return out


def foreign(m: TitleMatcher, use_hint: bool) -> dict:
    df = pd.read_csv(EVAL / "foreign_titles.csv", dtype=str, keep_default_na=False)
    gold = [_codes(e, a) for e, a in zip(df["expected_onet"], df["also_acceptable"])]
    met, res = eval_titles(m, df["text"].tolist(), gold, langs=df["lang"].tolist() if use_hint else None)
    soc = dict(zip(m.occ_codes_, m.occ_soc_))
    per = {}
    for lang, idx in df.groupby("lang").groups.items():
        idx = list(idx)
        per[lang] = topk_metrics([res[i].top_codes for i in idx], [gold[i] for i in idx], soc)
    met["per_language"] = per
    if not use_hint:
        met["language_id_accuracy"] = round(float(np.mean([r.language == l for r, l in zip(res, df["lang"])])), 4)
    return met


def esco_ngram_baseline(tax) -> dict:
    """The baseline the issue names: a character n-gram search over the ESCO labels alone (TF-IDF,
    char_wb 2-4, nearest labels by cosine, their O*NET codes in order), on the foreign titles."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matcher.text import fold

    df = pd.read_csv(EVAL / "foreign_titles.csv", dtype=str, keep_default_na=False)
    gold = [_codes(e, a) for e, a in zip(df["expected_onet"], df["also_acceptable"])]
    esco = tax.esco_aliases
    labels = [fold(a) for a in esco["alias"]]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1)
    E = vec.fit_transform(labels)
    Q = vec.transform([fold(t) for t in df["text"]])
    S = (Q @ E.T).tocsr()
    codes = esco["onet_code"].to_numpy()
    ranked = []
    for i in range(S.shape[0]):
        row = S.getrow(i)
        order = row.indices[np.argsort(-row.data, kind="stable")][:200]
        ranked.append(list(dict.fromkeys(codes[order]))[:5])
    soc = dict(zip(tax.occupations["onet_code"], tax.occupations["soc_code"]))
    out = topk_metrics(ranked, gold, soc)
    out["per_language"] = {lang: topk_metrics([ranked[i] for i in idx], [gold[i] for i in idx], soc)
                           for lang, idx in ((lg, list(ix)) for lg, ix in df.groupby("lang").groups.items())
                           if lang in ("es", "fr", "ar")}
    return out


def credentials(tax) -> dict | None:
    try:
        from matcher.credentials import CredentialNormalizer
    except ImportError:
        return None
    df = pd.read_csv(EVAL / "credentials_eval.csv", dtype=str, keep_default_na=False)
    cn = CredentialNormalizer(taxonomy=tax, title_matcher=_MATCHER)
    t = time.time()
    res = cn.normalize_many(df["text"].tolist(), countries=df["country"].tolist())
    gold = [_codes(e, a) for e, a in zip(df["expected_onet"], df["also_acceptable"])]
    soc = dict(zip(tax.occupations["onet_code"], tax.occupations["soc_code"]))
    met = topk_metrics([list(r.target_onet_codes) for r in res], gold, soc)
    met["isced_accuracy"] = round(float(np.mean([str(r.isced_level) == e for r, e in zip(res, df["expected_isced"])])), 4)
    from matcher.language import COUNTRY_LANGUAGE

    lang = df["country"].map(lambda c: COUNTRY_LANGUAGE.get(c, "other"))
    met["per_language"] = {lg: dict(topk_metrics([list(res[i].target_onet_codes) for i in idx],
                                                 [gold[i] for i in idx], soc), n=len(idx))
                           for lg, idx in ((lg, list(ix)) for lg, ix in df.groupby(lang).groups.items())}
    met["seconds"] = round(time.time() - t, 2)
    met["status"] = pd.Series([r.status for r in res]).value_counts().to_dict()
    return met


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--only", choices=["titles", "foreign", "credentials"])
    ap.add_argument("--model", help="a model folder you built (scripts/train.py --out); default: the package model")
    args = ap.parse_args(argv)
    tax = load_taxonomy()
    m = (TitleMatcher.load(args.model, taxonomy=tax, trusted=True) if args.model
         else TitleMatcher.load(taxonomy=tax))
    report: dict = {"taxonomy_version": tax.version, "model_version": m.model_version_}
    global _MATCHER
    _MATCHER = m
    if args.only in (None, "titles"):
        report["postings"] = postings(m, Path(args.source))
        report["dmtf_check"] = dmtf_check(m, Path(args.source))
        report["heldout_reported"] = heldout_reported(tax)
    if args.only in (None, "foreign"):
        report["foreign_with_language_hint"] = foreign(m, use_hint=True)
        report["foreign_detected_language"] = foreign(m, use_hint=False)
        report["foreign_esco_ngram_baseline"] = esco_ngram_baseline(tax)
    if args.only in (None, "credentials"):
        report["credentials"] = credentials(tax)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
