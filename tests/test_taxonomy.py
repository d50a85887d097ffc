import gzip
import json

import pandas as pd
import pytest

from conftest import ROOT, SHARED, needs_shared


def test_occupations_table(taxonomy):
    occ = taxonomy.occupations
    assert len(occ) == 1016
    rn = occ.loc["29-1141.00"]
    assert rn["title"] == "Registered Nurses" and rn["soc_code"] == "29-1141"
    assert rn["soc_major"] == "29-0000" and rn["soc_major_title"].startswith("Healthcare Practitioners")
    assert rn["sector"] == "healthcare" and rn["job_zone"] == "4"
    assert occ.loc["51-4121.00", "sector"] == "manufacturing"     # welders
    assert occ.loc["35-2014.00", "sector"] == "hospitality"       # restaurant cooks
    assert occ.loc["11-9081.00", "sector"] == "hospitality"       # lodging managers
    assert occ.loc["13-2011.00", "sector"] == "other"             # accountants
    assert occ.loc["29-1141.00", "national_employment"] > 3_000_000


def test_aliases_cover_onet_titles(taxonomy):
    al = taxonomy.onet_aliases
    assert 60_000 <= len(al) - (al["source"] == "dmtf").sum() <= 66_000
    assert set(al["source"]) == {"onet_title", "alternate", "alternate_short", "reported", "dmtf"}
    assert ((al["alias"] == "Hospice RN") & (al["onet_code"] == "29-1141.00")).any()


def test_direct_match_titles_are_indexed_except_the_held_out_fifth(taxonomy):
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from build_taxonomy import dmtf_held_out

    d = taxonomy.onet_aliases[taxonomy.onet_aliases["source"] == "dmtf"]
    # 6,519 titles in the BLS file; four fifths indexed, each on an O*NET code of its SOC code
    assert 5_000 <= len(d) <= 5_400
    assert not any(dmtf_held_out(c[:7], t) for c, t in zip(d["onet_code"], d["alias"]))
    assert ((d["alias"] == "COO") & (d["onet_code"] == "11-1011.00")).any()
    assert dmtf_held_out("11-1011", "CEO") and not ((d["alias"] == "CEO")).any()      # held out: a check title


def test_no_description_sentences_committed():
    for path in (ROOT / "taxonomies").rglob("*.csv*"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as f:
            header = f.readline().lower()
        assert "description" not in header and "task" not in header.split(","), path


def test_crosswalks(taxonomy):
    isco = taxonomy.isco
    assert set(isco.loc[isco["isco08"] == "2221", "onet_code"]) >= {"29-1141.00"}   # nursing professionals
    assert set(isco.loc[isco["isco08"] == "7212", "onet_code"]) >= {"51-4121.00"}   # welders
    rel = taxonomy.related
    assert len(rel) == 18460
    assert "29-2061.00" in set(rel.loc[rel["onet_code"] == "29-1141.00", "related_code"])


def test_esco_aliases_keep_their_route(taxonomy):
    e = taxonomy.esco_aliases
    assert set(e["lang"]) == {"en", "es", "fr", "ar"}
    assert set(e["route"]) == {"crosswalk", "hierarchy", "isco"}
    nurse_fr = e[(e["lang"] == "fr") & e["alias"].str.startswith("infirmier")]
    assert "29-1141.00" in set(nurse_fr["onet_code"])


def test_manifest_row_counts_match_tables(taxonomy):
    m = taxonomy.manifest
    assert m["tables"]["onet-27/occupations.csv"]["rows"] == len(taxonomy.occupations)
    assert m["tables"]["onet-27/aliases.csv.gz"]["rows"] == len(taxonomy.onet_aliases)
    assert {"onet-27", "soc-2018", "isco-08", "esco", "oews"} <= set(m["sources"])


def test_glossaries_are_valid(taxonomy):
    g = taxonomy.glossaries
    raw = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                     for p in sorted((ROOT / "taxonomies" / "glossaries").glob("*.csv"))])
    assert len(g) == len(raw), "every glossary code must exist in the taxonomy"
    counts = g.groupby("lang").size()
    for lang in ["uk", "ru", "fa", "ps", "sw", "so", "pt", "vi", "ne", "ht"]:
        assert counts.get(lang, 0) >= 80, lang
    assert (g["source_url"].str.startswith("http")).all()
    assert (g["as_of"].str.match(r"^\d{4}-\d{2}-\d{2}$")).all()
    assert set(g["confirmed"]) <= {"yes", "no", "partial"}
    titles = taxonomy.titles
    assert all(titles[c] == t for c, t in zip(g["onet_code"], g["onet_title"]))


@needs_shared
@pytest.mark.slow
def test_rebuild_is_identical(tmp_path):
    import sys
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_taxonomy

    manifest = build_taxonomy.build(SHARED, tmp_path)
    committed = json.loads((ROOT / "taxonomies" / "manifest.json").read_text())
    assert manifest == committed
    for rel in manifest["tables"]:
        assert (tmp_path / rel).read_bytes() == (ROOT / "taxonomies" / rel).read_bytes(), rel
