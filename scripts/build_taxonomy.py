"""Compile the raw public sources in ../shared/data into the compact tables under taxonomies/.

    python scripts/build_taxonomy.py --source ../shared/data [--out taxonomies]

Deterministic: rows are sorted, CSVs use '\\n' line endings, gzip files carry mtime 0, so a
rebuild from the same sources gives byte-identical files (tests/test_taxonomy_build.py checks).
Only codes, titles, aliases, crosswalk pairs and figures are written; no description sentences.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

ONET_RELEASE = "O*NET 27.0 (August 2022, O*NET-SOC 2019)"
TAXONOMY_VERSION = "onet-27.0+soc-2018+esco-1.0+oews-2025.05"

# --- sector rule (documented in taxonomies/README.md) ---------------------------------------
HEALTHCARE_PREFIXES = ("29-", "31-", "11-9111", "21-1022", "21-1023", "21-1094", "43-6013", "27-3091")
HOSPITALITY_PREFIXES = ("35-", "11-9051", "11-9081", "37-2012", "43-4081", "39-3031", "39-3091", "39-6012")
MANUFACTURING_PREFIXES = ("51-", "17-", "49-", "11-3051", "11-3071", "47-2111", "47-2152", "47-2211",
                          "47-2221", "53-7", "53-3032", "53-3033", "13-1081")


def sector_of(onet_code: str) -> str:
    """Project sector tag: the longest matching prefix wins (healthcare/hospitality/manufacturing)."""
    best, best_len = "other", 0
    for sector, prefixes in (("healthcare", HEALTHCARE_PREFIXES), ("hospitality", HOSPITALITY_PREFIXES),
                             ("manufacturing", MANUFACTURING_PREFIXES)):
        for p in prefixes:
            if onet_code.startswith(p) and len(p) > best_len:
                best, best_len = sector, len(p)
    return best


def oews_code_for(soc: str, published: set[str], detailed: set[str]) -> str:
    """The OEWS code that publishes a SOC 2018 detailed code: itself, else the OEWS aggregate of its
    own broad group that is not itself a detailed code (25-9042 -> 25-9045 "Teaching Assistants,
    Except Postsecondary", 51-2092 -> 51-2090); '' when OEWS publishes nothing that contains it
    (never an unrelated parent).  ``published`` holds the codes OEWS publishes at its detailed level."""
    if soc in published:
        return soc
    aggregates = sorted(c for c in published if c[:6] == soc[:6] and c not in detailed)
    return aggregates[0] if len(aggregates) == 1 else ""


# --- writing helpers --------------------------------------------------------------------------
def _csv_bytes(df: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def write_table(df: pd.DataFrame, path: Path) -> dict:
    data = _csv_bytes(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
            gz.write(data)
        data = out.getvalue()
    path.write_bytes(data)
    return {"rows": int(len(df)), "columns": list(df.columns), "sha256": hashlib.sha256(data).hexdigest()}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)


# --- O*NET / SOC ------------------------------------------------------------------------------
def build_occupations(src: Path) -> pd.DataFrame:
    occ = read_tsv(src / "onet-27" / "Occupation Data.txt")[["O*NET-SOC Code", "Title"]]
    occ.columns = ["onet_code", "title"]
    xw = pd.read_csv(src / "soc-2018" / "onet_soc_2019_to_soc_2018.csv", dtype=str)
    xw.columns = ["onet_code", "onet_title", "soc_code", "soc_title"]
    occ = occ.merge(xw[["onet_code", "soc_code", "soc_title"]], on="onet_code", how="left")
    # structure: major / minor / broad titles
    st = pd.read_csv(src / "soc-2018" / "onet_soc_2019_structure.csv", dtype=str, keep_default_na=False)
    st.columns = ["major", "minor", "broad", "detailed", "onet", "title"]
    titles = {}
    for _, r in st.iterrows():
        for col in ("major", "minor", "broad"):
            if r[col]:
                titles[r[col]] = r["title"]
    occ["soc_code"] = occ["soc_code"].fillna(occ["onet_code"].str[:7])
    occ["soc_title"] = occ["soc_title"].fillna(occ["title"])
    occ["soc_major"] = occ["soc_code"].str[:2] + "-0000"
    occ["soc_major_title"] = occ["soc_major"].map(titles).fillna("")
    minor = occ["soc_code"].str[:4] + "000"
    # minor group codes end in 000 except 15-1200 / 31-1100 / 51-5100 style; look both up
    minor_alt = occ["soc_code"].str[:5] + "00"
    occ["soc_minor"] = [m2 if m2 in titles else m1 for m1, m2 in zip(minor, minor_alt)]
    occ["soc_minor_title"] = occ["soc_minor"].map(titles).fillna("")
    broad = occ["soc_code"].str[:6] + "0"
    occ["soc_broad"] = broad
    occ["soc_broad_title"] = broad.map(titles).fillna("")
    jz = read_tsv(src / "onet-27" / "Job Zones.txt")[["O*NET-SOC Code", "Job Zone"]]
    jz.columns = ["onet_code", "job_zone"]
    occ = occ.merge(jz, on="onet_code", how="left")
    occ["job_zone"] = occ["job_zone"].fillna("")
    occ["sector"] = occ["onet_code"].map(sector_of)
    # national employment (OEWS May 2025) of the SOC detailed code: the prior of the title matcher
    o = pd.read_csv(src / "oews" / "oews_may2025_cross_industry.csv.gz", dtype=str, keep_default_na=False,
                    usecols=["area_code", "soc_code", "soc_level", "employment"])
    o = o[o["soc_level"] == "3"]  # the level wages.csv.gz keeps: detailed codes and OEWS aggregates
    nat = o[o["area_code"] == "0000000"].set_index("soc_code")["employment"]
    detailed = set(occ["soc_code"])
    occ["oews_code"] = [oews_code_for(soc, set(nat.index), detailed) for soc in occ["soc_code"]]
    occ["national_employment"] = pd.to_numeric(occ["oews_code"].map(nat), errors="coerce").astype("Int64")
    return occ.sort_values("onet_code").reset_index(drop=True)


def dmtf_held_out(soc: str, title: str) -> bool:
    """The fixed 20% of the BLS Direct Match Title File kept out of the index as a check set
    (by a hash of the SOC code and the lower-cased title; scripts/evaluate.py uses the same rule)."""
    h = hashlib.sha1(f"dmtf:{soc}:{title.strip().lower()}".encode("utf-8")).hexdigest()
    return int(h[:8], 16) % 5 == 0


def read_dmtf(src: Path) -> pd.DataFrame:
    """SOC 2018 code and direct-match title of every row of the BLS file (UTF-8 with BOM)."""
    df = pd.read_csv(src / "bls-dmtf" / "soc_2018_direct_match_title_file.csv", dtype=str, keep_default_na=False,
                     encoding="utf-8-sig")
    df = df.rename(columns={"2018 SOC Code": "soc", "2018 SOC Direct Match Title": "title"})[["soc", "title"]]
    df["title"] = df["title"].str.strip()
    return df[(df["title"] != "") & df["soc"].str.match(r"^\d{2}-\d{4}$")].reset_index(drop=True)


def dmtf_onet(dmtf: pd.DataFrame, occ: pd.DataFrame, onet_rows: list[tuple]) -> list[tuple[str, str]]:
    """(title, O*NET-SOC code) for each direct-match title: the O*NET occupation of its SOC code
    that already lists the title, else the SOC code's general '.00' occupation, else its first."""
    by_soc = soc2018_to_onet(occ)
    listed: dict[str, set[str]] = defaultdict(set)
    for alias, code, _ in onet_rows:
        listed[alias.strip().lower()].add(code)
    out = []
    for soc, title in zip(dmtf["soc"], dmtf["title"]):
        codes = sorted(by_soc.get(soc, []))
        if not codes:
            continue
        hit = [c for c in codes if c in listed.get(title.lower(), ())]
        out.append((title, hit[0] if hit else (f"{soc}.00" if f"{soc}.00" in codes else codes[0])))
    return out


def build_aliases(src: Path, occ: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in occ.itertuples():
        rows.append((r.title, r.onet_code, "onet_title"))
    alt = read_tsv(src / "onet-27" / "Alternate Titles.txt")
    for code, title, short in zip(alt["O*NET-SOC Code"], alt["Alternate Title"], alt["Short Title"]):
        rows.append((title, code, "alternate"))
        if short and short != "n/a":
            rows.append((short, code, "alternate_short"))
    rep = read_tsv(src / "onet-27" / "Sample of Reported Titles.txt")
    for code, title in zip(rep["O*NET-SOC Code"], rep["Reported Job Title"]):
        rows.append((title, code, "reported"))
    # the BLS Direct Match Title File: titles that map to exactly one SOC code, except the held-out
    # fifth (a check set for scripts/evaluate.py)
    dmtf = read_dmtf(src)
    keep = dmtf[[not dmtf_held_out(s_, t) for s_, t in zip(dmtf["soc"], dmtf["title"])]]
    for title, code in dmtf_onet(keep, occ, rows):
        rows.append((title, code, "dmtf"))
    df = pd.DataFrame(rows, columns=["alias", "onet_code", "source"])
    df["alias"] = df["alias"].str.strip()
    df = df[df["alias"] != ""]
    df["lang"] = "en"
    df = df.drop_duplicates(["alias", "onet_code", "source"])
    return df.sort_values(["onet_code", "source", "alias"]).reset_index(drop=True)


def build_related(src: Path) -> pd.DataFrame:
    rel = read_tsv(src / "onet-27" / "Related Occupations.txt")
    rel.columns = ["onet_code", "related_code", "tier", "index"]
    rel["index"] = rel["index"].astype(int)
    return rel.sort_values(["onet_code", "index"]).reset_index(drop=True)


def build_activity_codes(src: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Detailed work activity IDs and technology commodity codes per occupation (codes only)."""
    dwa = read_tsv(src / "onet-27" / "Tasks to DWAs.txt")[["O*NET-SOC Code", "DWA ID"]]
    dwa.columns = ["onet_code", "dwa_id"]
    dwa = dwa.drop_duplicates().sort_values(["onet_code", "dwa_id"]).reset_index(drop=True)
    tech = read_tsv(src / "onet-27" / "Technology Skills.txt")[["O*NET-SOC Code", "Commodity Code", "Hot Technology"]]
    tech.columns = ["onet_code", "commodity_code", "hot"]
    tech = (tech.sort_values(["onet_code", "commodity_code", "hot"], ascending=[True, True, False])
            .drop_duplicates(["onet_code", "commodity_code"]).reset_index(drop=True))
    return dwa, tech


def build_education(src: Path) -> pd.DataFrame:
    """Modal 'Required Level of Education' category (O*NET RL scale 1-12) per occupation."""
    ete = read_tsv(src / "onet-27" / "Education, Training, and Experience.txt")
    rl = ete[ete["Scale ID"] == "RL"][["O*NET-SOC Code", "Category", "Data Value"]].copy()
    rl["Category"] = rl["Category"].astype(int)
    rl["Data Value"] = rl["Data Value"].astype(float)
    rl = rl.sort_values(["O*NET-SOC Code", "Data Value", "Category"], ascending=[True, False, True])
    top = rl.drop_duplicates("O*NET-SOC Code")
    out = pd.DataFrame({"onet_code": top["O*NET-SOC Code"], "education_category": top["Category"],
                        "share_pct": top["Data Value"].round(1)})
    return out.sort_values("onet_code").reset_index(drop=True)


def soc2018_to_onet(occ: pd.DataFrame) -> dict[str, list[str]]:
    m: dict[str, list[str]] = defaultdict(list)
    for code, soc in zip(occ["onet_code"], occ["soc_code"]):
        m[soc].append(code)
    return m


def build_isco(src: Path, occ: pd.DataFrame) -> pd.DataFrame:
    bls = pd.read_csv(src / "isco-08" / "bls_isco08_to_soc2010.csv", dtype=str, keep_default_na=False)
    bls.columns = ["isco08", "isco_title", "part", "soc2010", "soc2010_title", "comment"]
    bls["soc2010"] = bls["soc2010"].str.strip()
    bls["isco08"] = bls["isco08"].str.strip()
    x10 = pd.read_csv(src / "soc-2018" / "onet_soc_2010_to_soc_2018.csv", dtype=str)
    x10.columns = ["onet2010", "onet2010_title", "soc2018", "soc2018_title"]
    x10["soc2010"] = x10["onet2010"].str[:7]
    s10_to_18 = x10.groupby("soc2010")["soc2018"].apply(lambda s: sorted(set(s))).to_dict()
    to_onet = soc2018_to_onet(occ)
    rows = set()
    for r in bls.itertuples():
        for soc18 in s10_to_18.get(r.soc2010, []):
            for code in to_onet.get(soc18, []):
                rows.add((r.isco08, r.isco_title.strip(), r.soc2010, soc18, code, "partial" if r.part == "*" else "full"))
    df = pd.DataFrame(sorted(rows), columns=["isco08", "isco_title", "soc2010", "soc2018", "onet_code", "part"])
    return df


# --- ESCO -------------------------------------------------------------------------------------
_SPLIT_GENDER = re.compile(r"\s*/\s*")


def _esco_labels(pref: str, alts: str) -> list[tuple[str, str]]:
    out = []
    for lab, kind in [(pref, "esco_preferred")] + [(a, "esco_alternative") for a in (alts or "").split("\n")]:
        lab = (lab or "").strip()
        if not lab:
            continue
        parts = [p.strip() for p in _SPLIT_GENDER.split(lab) if p.strip()] if "/" in lab else [lab]
        # "aide-laborantin/aide-laborantine" -> both forms; keep only pieces that look like labels
        if len(parts) > 1 and all(len(p) > 2 for p in parts):
            out.extend((p, kind) for p in parts)
        else:
            out.append((lab, kind))
    return out


def build_esco(src: Path, occ: pd.DataFrame, isco: pd.DataFrame) -> pd.DataFrame:
    """Multilingual ESCO labels mapped to O*NET-SOC, each with its route:
    crosswalk (Nesta ESCO->O*NET), hierarchy (nearest broader ESCO occupation in the crosswalk),
    isco (ISCO-08 unit group -> BLS ISCO/SOC crosswalk, weight split over the codes)."""
    cw = pd.read_csv(src / "esco" / "esco_onet_crosswalk_nov2020.csv", dtype=str)
    valid = set(occ["onet_code"])
    direct = {}
    for uri, code, conf in zip(cw["concept_uri"], cw["onet_code"], cw["confidence"]):
        if code in valid:
            direct[uri] = (code, float(conf))
    br = pd.read_csv(src / "esco" / "broaderRelationsOccPillar.csv", dtype=str)
    parent = {c: b for c, b, bt in zip(br["conceptUri"], br["broaderUri"], br["broaderType"]) if bt == "Occupation"}
    emp = dict(zip(occ["onet_code"], occ["national_employment"].fillna(0).astype(int)))
    # ISCO last resort: the (at most) four most-employed O*NET occupations of the unit group
    isco_map = isco.groupby("isco08")["onet_code"].apply(
        lambda s: sorted(set(s), key=lambda c: (-emp.get(c, 0), c))[:4]).to_dict()
    conf_weight = {2.0: 1.0, 1.0: 0.9, 0.5: 0.7}

    def route(uri: str, isco_group: str) -> list[tuple[str, str, float]]:
        if uri in direct:
            code, conf = direct[uri]
            return [(code, "crosswalk", conf_weight.get(conf, 0.8))]
        seen, u = set(), uri
        while u in parent and u not in seen:
            seen.add(u)
            u = parent[u]
            if u in direct:
                return [(direct[u][0], "hierarchy", 0.75)]
        codes = isco_map.get((isco_group or "").strip()[:4], [])
        if codes:
            w = round(max(0.2, 0.6 / len(codes)), 3)
            return [(c, "isco", w) for c in codes]
        return []

    rows = []
    for lang in ("en", "es", "fr", "ar"):
        d = pd.read_csv(src / "esco" / f"occupations_{lang}.csv", dtype=str, keep_default_na=False)
        for uri, grp, pref, alts in zip(d["conceptUri"], d["iscoGroup"], d["preferredLabel"], d["altLabels"]):
            targets = route(uri, grp)
            if not targets:
                continue
            esco_id = uri.rsplit("/", 1)[-1][:8]
            for label, kind in _esco_labels(pref, alts):
                for code, rt, w in targets:
                    rows.append((label, code, kind, lang, rt, w, esco_id))
    df = pd.DataFrame(rows, columns=["alias", "onet_code", "source", "lang", "route", "route_weight", "esco_id"])
    df = df.drop_duplicates(["alias", "onet_code", "lang"])
    return df.sort_values(["lang", "onet_code", "alias", "esco_id"]).reset_index(drop=True)


# --- OEWS -------------------------------------------------------------------------------------
def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace({"*": None, "#": None, "**": None}), errors="coerce")


def build_oews(src: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    o = pd.read_csv(src / "oews" / "oews_may2025_cross_industry.csv.gz", dtype=str, keep_default_na=False)
    areas = (o[["area_code", "area_type", "state_fips", "area_name"]].drop_duplicates("area_code")
             .sort_values("area_code").reset_index(drop=True))
    # every OEWS code with its title (detailed codes and the OEWS-only aggregates such as 25-9045)
    codes = (o[["soc_code", "soc_title", "soc_level"]].drop_duplicates("soc_code")
             .sort_values("soc_code").reset_index(drop=True))
    keep = o[(o["soc_level"] == "3") | (o["soc_code"] == "00-0000")].copy()
    out = pd.DataFrame({"area_code": keep["area_code"], "soc_code": keep["soc_code"]})
    out["employment"] = _num(keep["employment"]).astype("Int64")
    for col in ("hourly_median", "annual_p10", "annual_p25", "annual_median", "annual_p75", "location_quotient",
                "jobs_per_1000"):
        out[col] = _num(keep[col])
    # top-coded (#) medians are flagged so callers can say "at least"
    out["annual_topcoded"] = (keep["annual_median"] == "#").map({True: "Y", False: ""})
    out = out.sort_values(["area_code", "soc_code"]).reset_index(drop=True)
    return areas, out, codes


# --- main -------------------------------------------------------------------------------------
SOURCES = {
    "onet-27": ("O*NET 27.0 Database, USDOL/ETA", "27.0 (Aug 2022)", "CC BY 4.0",
                ["Occupation Data.txt", "Alternate Titles.txt", "Sample of Reported Titles.txt", "Job Zones.txt",
                 "Related Occupations.txt", "Tasks to DWAs.txt", "Technology Skills.txt",
                 "Education, Training, and Experience.txt"]),
    "soc-2018": ("O*NET-SOC 2019 / SOC 2018 crosswalks, BLS & O*NET Resource Center", "2019", "public domain",
                 ["onet_soc_2019_structure.csv", "onet_soc_2019_to_soc_2018.csv", "onet_soc_2010_to_soc_2018.csv"]),
    "isco-08": ("BLS ISCO-08 to SOC 2010 crosswalk", "2012, updated 2015", "public (BLS/ILO)",
                ["bls_isco08_to_soc2010.csv"]),
    "esco": ("ESCO classification, European Commission; Nesta ESCO-O*NET crosswalk (MIT)", "ESCO v1.0.x; crosswalk Nov 2020",
             "ESCO: free reuse with attribution; crosswalk: MIT",
             ["occupations_en.csv", "occupations_es.csv", "occupations_fr.csv", "occupations_ar.csv",
              "broaderRelationsOccPillar.csv", "esco_onet_crosswalk_nov2020.csv"]),
    "oews": ("BLS Occupational Employment and Wage Statistics, cross-industry", "May 2025", "public domain",
             ["oews_may2025_cross_industry.csv.gz"]),
    "bls-dmtf": ("BLS SOC 2018 Direct Match Title File", "SOC 2018 (2021)", "public domain",
                 ["soc_2018_direct_match_title_file.csv"]),
}


def build(src: Path, out: Path) -> dict:
    tables = {}
    occ = build_occupations(src)
    tables["onet-27/occupations.csv"] = occ
    tables["onet-27/aliases.csv.gz"] = build_aliases(src, occ)
    tables["onet-27/related.csv"] = build_related(src)
    dwa, tech = build_activity_codes(src)
    tables["onet-27/dwa.csv.gz"] = dwa
    tables["onet-27/technology.csv.gz"] = tech
    tables["onet-27/education.csv"] = build_education(src)
    isco = build_isco(src, occ)
    tables["onet-27/isco08_onet.csv"] = isco
    tables["esco/aliases.csv.gz"] = build_esco(src, occ, isco)
    areas, wages, codes = build_oews(src)
    tables["oews-2025/areas.csv"] = areas
    tables["oews-2025/occupations.csv"] = codes
    tables["oews-2025/wages.csv.gz"] = wages

    manifest = {"taxonomy_version": TAXONOMY_VERSION, "builder": "scripts/build_taxonomy.py",
                "sources": {}, "tables": {}}
    for folder, (name, release, licence, files) in SOURCES.items():
        manifest["sources"][folder] = {
            "name": name, "release": release, "licence": licence,
            "files": {f: sha256_file(src / folder / f) for f in files}}
    for rel, df in tables.items():
        manifest["tables"][rel] = write_table(df, out / rel)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "taxonomies"))
    args = ap.parse_args(argv)
    src = Path(args.source)
    if not (src / "onet-27" / "Occupation Data.txt").exists():
        print(f"error: {src} does not look like the shared data folder (no onet-27/Occupation Data.txt)",
              file=sys.stderr)
        return 2
    manifest = build(src, Path(args.out))
    for rel, info in manifest["tables"].items():
        print(f"{rel:32s} {info['rows']:>8d} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
