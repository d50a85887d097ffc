import pandas as pd
import pytest

from conftest import ROOT, SHARED, needs_shared
from matcher.batch import ScoreConfig, score_file
from matcher.cli import main
from matcher.errors import MissingColumnsError
from matcher.io import read_table, write_table
from matcher.openings import ClientProfile, OpeningRanker, load_openings, prepare_openings
from matcher.pathways import PathwayRanker

INTAKE = ROOT / "examples" / "intake_sample.csv"
OPENINGS = ROOT / "examples" / "openings_louisville.csv"


@pytest.fixture(scope="module")
def prepared(taxonomy, title_matcher):
    return prepare_openings(load_openings(OPENINGS), title_matcher, taxonomy)


@pytest.fixture(scope="module")
def ranker(taxonomy, prepared):
    return OpeningRanker(PathwayRanker(taxonomy=taxonomy)).fit(prepared)


def test_sample_openings(prepared):
    assert len(prepared) >= 150
    assert set(prepared["sector"]) >= {"healthcare", "manufacturing", "hospitality"}
    assert (prepared["onet_code"] != "").all()
    raw = read_table(OPENINGS)
    assert (raw["sample_data"] == "yes").all()
    rn = prepared[prepared["title"].str.contains(r"^RN\b|Registered Nurse", regex=True)]
    assert (rn["onet_code"].str.startswith("29-1141")).mean() > 0.8


def test_openings_for_a_nurse_and_for_a_welder(ranker):
    nurse = ClientProfile("C1", "29-1141.00", (("29-1141.00", "relicensure", 0.8), ("31-1131.00", "bridge", 0.7)),
                          english="B2", years_experience=8, zip="40202", licenses_in_progress=("KY-RN",),
                          wants_relicensing=True)
    top = ranker.rank_openings(nurse, top=5)
    assert len(top) == 5 and top == sorted(top, key=lambda m: -m.score)
    assert any(m.onet_code.startswith(("29-1141", "31-1131", "29-2061")) for m in top[:3])
    assert all(m.reasons and set(m.components) >= {"occupation", "requirements", "english", "wage", "distance"}
               for m in top)
    welder = ClientProfile("C2", "51-4121.00", (("51-4121.00", "direct", 0.7),), english="A2", zip="40216")
    wtop = ranker.rank_openings(welder, top=3)
    assert wtop[0].onet_code.startswith("51-"), wtop[0]
    assert wtop[0].distance_miles is not None


def test_reverse_direction_agrees(ranker, prepared):
    opening = prepared[prepared["onet_code"] == "51-4121.00"].iloc[0]
    clients = [ClientProfile("W", "51-4121.00", english="B1", zip="40216"),
               ClientProfile("N", "29-1141.00", english="B2", zip="40216"),
               ClientProfile("C", "35-2014.00", english="A2", zip="40216")]
    ranked = ranker.rank_clients(opening["opening_id"], clients)
    assert ranked[0].client_id == "W"
    forward = [m for m in ranker.rank_openings(clients[0], top=len(prepared)) if m.opening_id == opening["opening_id"]]
    assert forward[0].score == ranked[0].score


def test_openings_missing_columns_reported_together(tmp_path):
    p = write_table(pd.DataFrame({"foo": ["x"]}), tmp_path / "o.csv")
    with pytest.raises(MissingColumnsError) as e:
        load_openings(p)
    assert e.value.missing == ["employer", "title"]


@needs_shared
def test_linkedin_export_loads_with_known_names(taxonomy, title_matcher):
    posts = read_table(SHARED / "postings" / "linkedin_2023_ky_in_oh_tn.csv").head(200)
    o = load_openings(posts)
    assert (o["employer"] != "").mean() > 0.9 and (o["title"] != "").all()
    assert set(o["state"]) <= {"KY", "IN", "OH", "TN", ""} | set(o["state"])
    p = prepare_openings(o, title_matcher, taxonomy)
    assert (p["onet_code"] != "").mean() > 0.9
    assert list(posts["title"].str.strip()) == list(o["title"])   # same rows, same order
    assert posts.columns[0] == "job_id" and "employer" not in posts.columns   # the caller's frame is untouched


def test_score_sample_intake_end_to_end(tmp_path):
    out = tmp_path / "scored.csv"
    stats = score_file(INTAKE, out, openings=OPENINGS, config=ScoreConfig(n_jobs=1))
    src = read_table(INTAKE)
    df = read_table(out)
    assert len(df) == len(src) == stats["rows"]
    assert list(df["client_id"]) == list(src["client_id"])
    for c in src.columns:
        kept = f"{c}_input" if f"{c}_input" in df.columns else c      # clashing input columns are renamed
        ok = (df[kept] == src[c]) | src[c].str.startswith(("=", "+", "-", "@"))
        assert ok.all(), c
    assert "language_input" in df.columns and "language" in df.columns
    assert {"pathway_1", "pathway_3", "opening_1", "opening_5", "status", "messages", "onet_code"} <= set(df.columns)
    assert set(df["status"]) <= {"ok", "partial", "error"}
    assert (df["status"] == "ok").sum() >= len(df) * 0.4
    empty = df[(src["previous_title"] == "") & (src["credential"] == "") & (src["notes"] == "")]
    assert (empty["status"] == "error").all() and empty["messages"].str.contains("cannot score").all()
    assert not df["previous_title"].str.startswith("=").any()  # formulas neutralized
    nurse = df[src["previous_title"] == "Licenciada en Enfermería"].iloc[0]
    assert nurse["onet_code"] == "29-1141.00" and nurse["opening_1"]


def test_score_missing_columns_before_any_work(tmp_path, capsys):
    p = write_table(pd.DataFrame({"name": ["x"], "age": ["3"]}), tmp_path / "in.csv")
    assert main(["score", str(p), "-o", str(tmp_path / "o.csv"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "client_id" in err and "previous_title" in err and "credential" in err
    assert not (tmp_path / "o.csv").exists()


def test_score_parallel_matches_serial(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.parquet"
    big = tmp_path / "big.csv"
    src = read_table(INTAKE)
    write_table(pd.concat([src] * 80, ignore_index=True), big, safe=False)   # 5,280 rows: workers are used
    score_file(big, b, openings=OPENINGS, config=ScoreConfig(n_jobs=2, chunk_size=6000))
    score_file(big, a, openings=OPENINGS, config=ScoreConfig(n_jobs=1, chunk_size=1700))
    da, db = read_table(a), read_table(b)
    assert list(da["client_id"]) == list(db["client_id"])
    assert list(da["onet_code"]) == list(db["onet_code"]) and list(da["pathway_1"]) == list(db["pathway_1"])


def test_clients_for_an_opening_cli(capsys):
    assert main(["clients", "OPN-0007", "--intake", str(INTAKE), "--openings", str(OPENINGS), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Clients for OPN-0007") and " 1. CL-" in out and "score" in out


def test_score_and_opening_settings_report_every_problem():
    from matcher.errors import ConfigError
    from matcher.openings import OpeningWeights

    with pytest.raises(ConfigError) as e:
        ScoreConfig(top_pathways=-1, n_jobs=0, chunk_size=0)
    assert len(e.value.problems) == 3
    with pytest.raises(ConfigError) as e:
        OpeningWeights(occupation=-1, wage="high")
    assert len(e.value.problems) == 2


def test_cells_do_not_depend_on_the_chunk_a_row_falls_in(tmp_path):
    """Whole numbers stay whole ('24', not '24.0') whatever rows share a chunk: chunks of 7 rows
    give the same file as one chunk."""
    whole, small = tmp_path / "whole.csv", tmp_path / "small.csv"
    sample = ROOT / "examples" / "intake_sample.csv"
    score_file(sample, whole, openings=OPENINGS, config=ScoreConfig(chunk_size=1000))
    score_file(sample, small, openings=OPENINGS, config=ScoreConfig(chunk_size=7))
    a, b = (pd.read_csv(p, dtype=str, keep_default_na=False) for p in (whole, small))
    pd.testing.assert_frame_equal(a, b)
    assert not b["plan_loan_term_months"].str.endswith(".0").any()
