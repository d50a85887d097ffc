import dataclasses
import shutil

import pytest

from matcher.errors import ArtifactError, ConfigError, InputError
from matcher.titles import FEATURES, TitleMatch, TitleMatcher, TitleMatcherConfig, to_frame


@pytest.mark.parametrize("title,code", [
    ("RN - Hospice", "29-1141.00"),
    ("Registered Nurse (RN) - Med/Surg - Nights - $10K Sign On", "29-1141"),
    ("CNA - PRN", "31-1131.00"),
    ("LPN", "29-2061.00"),
    ("Sr. CNC Machinist II - 2nd Shift", "51-4041"),
    ("Welder/Fabricator", "51-4121"),
    ("Line Cook - Full Time", "35-2014.00"),
    ("Housekeeping Room Attendant", "37-2012.00"),
    ("Pharmacy Technician", "29-2052.00"),
    ("Phlebotomist", "31-9097.00"),
    ("Forklift Operator", "53-7051.00"),
    ("HVAC Technician", "49-9021"),
    ("Hotel Front Desk Agent", "43-4081.00"),
    ("Medical Scribe", None),
])
def test_english_titles(title_matcher, title, code):
    r = title_matcher.match(title)
    assert r.status in ("matched", "review")
    if code:
        assert r.onet_code.startswith(code), (title, r.onet_code, r.explanation)
    assert r.explanation and r.candidates[0].matched_alias
    assert set(r.candidates[0].components) >= {"word_cos", "char_cos", "fuzz_token_set", "head_match", "exact"}


@pytest.mark.parametrize("bad", ["", "   ", "12345", "????", None, float("nan"), "$$$ 555-0199", "asdf qwer zxcv"])
def test_garbage_is_no_match_not_an_exception(title_matcher, bad):
    r = title_matcher.match(bad)
    assert r.status in ("no_match", "review") if bad == "asdf qwer zxcv" else r.status == "no_match"
    if r.status == "no_match":
        assert r.onet_code == "" and r.reason


def test_match_many_keeps_order_and_repeats(title_matcher):
    titles = ["Welder", "", "Registered Nurse", "Welder", None, "Line Cook"]
    res = title_matcher.match_many(titles)
    assert len(res) == len(titles)
    assert res[0] == res[3]
    assert res[1].status == "no_match" and res[4].status == "no_match"
    assert res[2].onet_code == "29-1141.00" and res[5].onet_code.startswith("35-2014")
    df = to_frame(res)
    assert list(df.columns) == ["onet_code", "onet_title", "soc_code", "isco_codes", "confidence", "status",
                                "top_codes", "language", "explanation", "taxonomy_version", "model_version"]
    assert df.loc[2, "isco_codes"] == "2221"        # registered nurses: ISCO-08 2221 through the BLS crosswalk
    assert df.loc[2, "top_codes"].split("|")[0] == "29-1141.00"


def test_results_are_frozen_and_versioned(title_matcher):
    r = title_matcher.match("Registered Nurse")
    assert isinstance(r, TitleMatch)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.status = "x"
    assert r.taxonomy_version.startswith("onet-27.0") and r.model_version.startswith("title-matcher@")
    assert r.confidence > 0.6 and r.candidates[0].components["exact"] == 1.0
    assert len(title_matcher.match("Registered Nurse", top=3).candidates) == 3


def test_config_reports_all_problems_at_once():
    with pytest.raises(ConfigError) as e:
        TitleMatcherConfig(top=0, word_weight=2.0, match_threshold=-1)
    assert len(e.value.problems) == 3


def test_top_must_be_positive(title_matcher):
    with pytest.raises(InputError):
        title_matcher.match_many(["nurse"], top=-1)


def test_tampered_artifact_is_refused(tmp_path, taxonomy):
    from matcher.titles import DEFAULT_MODEL_DIR
    dst = tmp_path / "m"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    with open(dst / "reranker.pkl.z", "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ArtifactError, match="checksum"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)
    (dst / "meta.json").unlink()
    with pytest.raises(ArtifactError, match="meta.json"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)


def test_meta_records_versions_and_metrics(title_matcher):
    meta = title_matcher.meta_
    assert meta["format_version"] == 2 and meta["kind"] == "title-matcher"
    assert "scikit-learn" in meta["dependencies"] and "numpy" in meta["dependencies"]
    assert meta["features"] == list(FEATURES) and set(meta["files"]) == {"index.pkl.z", "reranker.pkl.z", "forest.pkl.z"}
    assert meta["metrics"]["heldout_reported_titles"]["soc6_top5"] > 0.6
