"""Train the title matcher's reranker and save models/title-matcher.

    python scripts/train.py [--queries 40000] [--seed 0] [--out models/title-matcher]

1. Split: a fixed 20% of O*NET's 'Sample of Reported Titles' (by a hash of code and title) is
   held out for evaluation; it is neither indexed nor used as a training query here.
2. Index every other alias (O*NET, ESCO en/es/fr/ar, the project glossaries).
3. Training queries: aliases drawn from the index, given realistic posting/intake noise
   (matcher.augment); for most, the alias row they came from is removed from the candidates,
   so the reranker learns to rank titles that are not in the index verbatim.
4. Fit the reranker and its confidence calibration, measure the held-out reported titles,
   then re-index with all aliases and save the model with its metrics in meta.json.
   Confidence is calibrated on the synthetic held-out queries pooled (half the weight each) with
   the DEVELOPMENT part of the hand-labelled postings (scripts/evaluate.py: never the test part)
   when ../shared/data/postings is there: real job-ad titles are harder than noisy aliases, and
   a confidence of 0.8 should be right 80% of the time on real titles.
5. When the package model (models/title-matcher) is saved, pin its checksums in package code
   (matcher/_model_pins.py, see ``write_pins``): TitleMatcher.load() checks the package model
   against those pins, not only against its own meta.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from matcher.artifacts import check_member_name  # noqa: E402
from matcher.augment import add_noise  # noqa: E402
from matcher.taxonomy import load_taxonomy  # noqa: E402
from matcher.text import normalize_title  # noqa: E402
from matcher.titles import DEFAULT_MODEL_DIR, TitleMatcher  # noqa: E402


def is_heldout(code: str, title: str) -> bool:
    """The evaluation split: 20% of reported titles, fixed by a hash (independent of seeds)."""
    return int(hashlib.sha1(f"{code}|{title}".encode()).hexdigest(), 16) % 5 == 0


def split_aliases(tax) -> tuple[pd.DataFrame, pd.DataFrame]:
    al = tax.all_aliases()
    mask = (al["source"] == "reported").to_numpy() & np.array([is_heldout(c, t) for c, t in zip(al["onet_code"], al["alias"])], dtype=bool)
    heldout = al[mask].reset_index(drop=True)
    # an alias text held out must not stay in the index through another source of the same code
    keys = set(zip(heldout["alias"].map(normalize_title), heldout["onet_code"]))
    keep = [(normalize_title(a), c) not in keys for a, c in zip(al["alias"], al["onet_code"])]
    return al[np.array(keep) & ~mask].reset_index(drop=True), heldout


def training_queries(m: TitleMatcher, n: int, seed: int) -> tuple[list[str], list[str], list[set[int]]]:
    rng = random.Random(seed)
    n_alias = len(m.alias_text_)
    route = m.routes_[m.alias_route_]
    lang = m.langs_[m.alias_lang_]
    groups = {
        "onet": np.flatnonzero(route == "onet"),
        "glossary": np.flatnonzero(route == "glossary"),
        "esco_en": np.flatnonzero((route != "onet") & (route != "glossary") & (lang == "en")),
        "esco_other": np.flatnonzero((route != "onet") & (route != "glossary") & (lang != "en")),
    }
    share = {"onet": 0.55, "glossary": 0.12, "esco_en": 0.13, "esco_other": 0.20}
    nprng = np.random.default_rng(seed)
    picks = []
    # job ads and intake forms name common occupations more often than rare ones: half of the
    # queries are drawn in proportion to employment^0.75 / aliases of the occupation, half uniformly
    emp = np.power(10.0, m.occ_prior_ * 7.0)
    for g, idx in groups.items():
        k = min(len(idx), int(n * share[g])) if g != "glossary" else min(len(idx) * 3, int(n * share[g]))
        occ = m.alias_occ_[idx]
        per_occ = np.bincount(occ, minlength=len(m.occ_codes_))[occ]
        w = np.power(emp[occ], 0.75) / per_occ
        w = 0.5 * w / w.sum() + 0.5 / len(idx)
        picks.append(nprng.choice(idx, size=k, replace=len(idx) < k, p=w / w.sum()))
    picks = np.concatenate(picks)
    queries, codes, exclude = [], [], []
    for ai in picks:
        text = str(m.alias_text_[ai])
        q = add_noise(text, rng, strength=1.0 if route[ai] == "onet" else 0.6) if rng.random() < 0.75 else text
        queries.append(q)
        codes.append(m.occ_codes_[m.alias_occ_[ai]])
        # most queries play a title that is not in the index at all: every alias row with the same
        # normalized text (of any occupation) is removed from its candidates
        p_excl = 0.3 if route[ai] == "glossary" else 0.6
        exclude.append(set(m._exact_ids(m.alias_norm_[ai]) or (int(ai),)) if rng.random() < p_excl else set())
    assert n_alias == len(m.alias_occ_)
    return queries, codes, exclude


def topk_accuracy(m: TitleMatcher, queries, codes, k=5) -> dict:
    res = m.match_many(queries, top=k)
    soc = dict(zip(m.occ_codes_, m.occ_soc_))
    t1 = np.mean([r.candidates[0].onet_code == c if r.candidates else False for r, c in zip(res, codes)])
    t5 = np.mean([c in r.top_codes[:k] for r, c in zip(res, codes)])
    s1 = np.mean([bool(r.candidates) and soc[r.candidates[0].onet_code] == soc[c] for r, c in zip(res, codes)])
    s5 = np.mean([soc[c] in {soc[x] for x in r.top_codes[:k]} for r, c in zip(res, codes)])
    return {"onet_top1": round(float(t1), 4), "onet_top5": round(float(t5), 4),
            "soc6_top1": round(float(s1), 4), "soc6_top5": round(float(s5), 4), "n": len(codes)}


def development_postings(source: Path):
    """(titles, acceptable codes) of the development part of the hand-labelled postings, or None."""
    from evaluate import EVAL, _codes, is_test_posting

    p = source / "postings" / "linkedin_2023_ky_in_oh_tn.csv"
    if not p.exists():
        return None
    posts = pd.read_csv(p, dtype=str, keep_default_na=False)[["job_id", "title"]]
    lab = pd.read_csv(EVAL / "posting_labels.csv", dtype=str, keep_default_na=False).merge(posts, on="job_id")
    lab = lab[lab["onet_code"] != "UNCLEAR"]
    dev = lab[~((lab["pass"] == "blind-2026") & lab["job_id"].map(is_test_posting))]
    return dev["title"].tolist(), [_codes(e, a) for e, a in zip(dev["onet_code"], dev["also_acceptable"])]


PINS_MODULE = ROOT / "matcher" / "_model_pins.py"


def write_pins(folder: str | Path = DEFAULT_MODEL_DIR, module: str | Path = PINS_MODULE) -> dict[str, str]:
    """Write ``matcher/_model_pins.py``: {file name: sha256} of the package model in ``folder``.

    Deterministic (sorted names, fixed text).  Only the package model folder can be pinned, and
    every file's checksum must agree with its meta.json, so a stale or half-written folder is
    never pinned.  Returns the pins."""
    folder = Path(folder)
    if folder.resolve() != Path(DEFAULT_MODEL_DIR).resolve():
        raise SystemExit(f"write_pins: {folder} is not the package model folder {DEFAULT_MODEL_DIR}")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    pins = {}
    for name in sorted(meta["files"]):
        p = check_member_name(folder, name)
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        if digest != meta["files"][name]:
            raise SystemExit(f"write_pins: {name} does not match its checksum in meta.json; retrain")
        pins[name] = digest
    lines = ['"""Checksums (sha256) of the package\'s own model, models/title-matcher.',
             "",
             "Generated by scripts/train.py (write_pins) when it saves the package model; do not edit by hand.",
             "TitleMatcher.load() refuses the package model unless its files match these: the model",
             'folder\'s own meta.json cannot vouch for itself."""',
             "",
             "PINS: dict[str, str] = {"]
    lines += [f"    {name!r}: {digest!r}," for name, digest in pins.items()]
    lines += ["}", ""]
    module = Path(module)
    tmp = module.with_name(f".{module.name}.tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, module)
    return pins


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=40000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--candidates", type=int, default=None,
                    help="candidate occupations per title (TitleMatcherConfig.candidate_occupations)")
    ap.add_argument("--out", default=str(DEFAULT_MODEL_DIR))
    ap.add_argument("--source", default=str(ROOT.parent / "shared" / "data"),
                    help="raw data folder: its postings calibrate confidence (development part only)")
    args = ap.parse_args(argv)
    t0 = time.time()
    tax = load_taxonomy()
    index_aliases, heldout = split_aliases(tax)
    print(f"aliases indexed for training: {len(index_aliases)}; held-out reported titles: {len(heldout)}")
    m = (TitleMatcher(candidate_occupations=args.candidates) if args.candidates else TitleMatcher()).fit(
        tax, aliases=index_aliases)
    q, c, ex = training_queries(m, args.queries, args.seed)
    print(f"training queries: {len(q)} ({time.time() - t0:.0f}s)")
    fit_metrics = m.fit_reranker(q, c, exclude=ex, random_state=args.seed)
    print("reranker:", fit_metrics, f"({time.time() - t0:.0f}s)")
    held = topk_accuracy(m, heldout["alias"].tolist(), heldout["onet_code"].tolist())
    print("held-out reported titles:", held)
    final = TitleMatcher(m.config).fit(tax)
    final.reranker_, final.calibrator_, final.forest_ = m.reranker_, m.calibrator_, m.forest_
    dev = development_postings(Path(args.source))
    if dev is not None:
        pts = m.calibration_points_
        fit_metrics["calibration"] = final.recalibrate(dev[0], dev[1], weight=len(pts[0]) / max(1, len(dev[0])),
                                                       synthetic=pts)
        print("calibration:", fit_metrics["calibration"])
    metrics = {"reranker": fit_metrics, "heldout_reported_titles": held, "training_queries": len(q),
               "seed": args.seed}
    out = final.save(args.out, metrics=metrics)
    print(f"saved {out} ({time.time() - t0:.0f}s)")
    if Path(out).resolve() == Path(DEFAULT_MODEL_DIR).resolve():
        write_pins(out)
        print(f"pinned its checksums in {PINS_MODULE.relative_to(ROOT)}")
    else:
        print(f"{out} is not the package model: load it with TitleMatcher.load({str(out)!r}, trusted=True)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
