import gzip
import json

import pandas as pd
import pytest

from conftest import SHARED, needs_shared
from matcher.cli import main
from matcher.errors import ConfigError, InputError
from matcher.licensing import LicensingData
from matcher.pathways import ClientContext, PathwayConfig, PathwayRanker, PathwayWeights, pathways_to_frame
from matcher.wages import WageTable


@pytest.fixture(scope="module")
def ranker(taxonomy):
    return PathwayRanker(taxonomy=taxonomy)


CASES = {
    "physician": "29-1229.00", "registered nurse": "29-1141.00", "pharmacist": "29-1051.00",
    "dentist": "29-1021.00", "engineer": "17-2141.00", "electrician": "47-2111.00", "welder": "51-4121.00",
    "cook": "35-2014.00", "hotel manager": "11-9081.00",
}


def _oews_louisville():
    with gzip.open(SHARED / "oews" / "oews_may2025_cross_industry.csv.gz", "rt") as f:
        o = pd.read_csv(f, dtype=str, keep_default_na=False)
    return o[o["area_code"] == "0031140"].set_index("soc_code")


@pytest.mark.parametrize("name,code", CASES.items())
def test_every_case_ranks_with_reasons(ranker, name, code):
    paths = ranker.rank(ClientContext(code, english="B2", years_experience=8, budget_usd=1000))
    assert paths, name
    assert [p.rank for p in paths] == list(range(1, len(paths) + 1))
    assert paths == sorted(paths, key=lambda p: -p.score)
    own = [p for p in paths if p.target_onet == code]
    assert own and own[0].kind in ("relicensure", "direct")
    for p in paths:
        assert p.reasons and set(p.components) >= {"wage", "time", "cost", "likelihood", "demand"}
        assert 0 <= p.score <= 1 and (p.loan_coverable_usd <= 3000 if p.route_known else p.loan_coverable_usd is None)
        assert p.data_versions["licensing"].startswith("licensing/KY#")


@pytest.mark.parametrize("name,code", CASES.items())
def test_wages_are_the_oews_louisville_figures(ranker, name, code):
    p = next(p for p in ranker.rank(ClientContext(code)) if p.target_onet == code)
    fig = ranker.wages.lookup(code)
    assert p.median_annual_wage == fig.annual_median
    assert p.wage_area == "Louisville/Jefferson County, KY-IN"


@needs_shared
@pytest.mark.parametrize("name,code", CASES.items())
def test_wages_match_raw_oews_file(ranker, name, code):
    raw = _oews_louisville()
    p = next(p for p in ranker.rank(ClientContext(code)) if p.target_onet == code)
    soc = ranker.taxonomy.occupations.at[code, "oews_code"]
    assert p.median_annual_wage == float(raw.at[soc, "annual_median"])


def test_licensed_occupations_get_their_route(ranker):
    for code, lic in [("29-1229.00", "KY-PHYSICIAN"), ("29-1141.00", "KY-RN"), ("29-1051.00", "KY-PHARMACIST"),
                      ("29-1021.00", "KY-DENTIST"), ("47-2111.00", "KY-ELECTRICIAN"), ("17-2141.00", "KY-PE")]:
        lics = [p.license["id"] for p in ranker.rank(ClientContext(code), top=None) if p.kind == "relicensure"]
        assert lic in lics, (code, lics)
        p = next(p for p in ranker.rank(ClientContext(code)) if p.kind == "relicensure")
        assert p.steps and all(s.source_url.startswith("http") and s.as_of for s in p.steps)
        assert p.license["board_url"].startswith("http")


def test_unlicensed_occupations_return_directly(ranker):
    for code in ("51-4121.00", "35-2014.00", "11-9081.00"):
        p = next(p for p in ranker.rank(ClientContext(code)) if p.target_onet == code)
        assert p.kind == "direct" and p.license is None and p.total_cost_usd == 0


def test_income_now_puts_a_bridge_first_and_savings_put_relicensure_first(ranker):
    needy = ranker.rank(ClientContext("29-1229.00", english="B1", years_experience=10, budget_usd=0,
                                      need_income_now=True))
    assert needy[0].kind == "bridge" and needy[0].months_to_first_job <= 6
    comfortable = ranker.rank(ClientContext("29-1229.00", english="C1", years_experience=10, budget_usd=5000))
    assert comfortable[0].kind == "relicensure"
    nurse_needy = ranker.rank(ClientContext("29-1141.00", english="B1", budget_usd=0, need_income_now=True))
    assert nurse_needy[0].kind == "bridge"


def test_physician_bridges_are_computed_not_listed(ranker):
    paths = ranker.rank(ClientContext("29-1229.00", need_income_now=True), top=None)
    bridges = [p for p in paths if p.kind == "bridge"]
    assert len(bridges) >= 3
    assert all(p.months_to_first_job <= 6 for p in bridges)
    assert any(p.target_onet.startswith(("31-9", "29-20", "21-1094", "27-3091")) for p in bridges)
    assert all("similarity" in p.reasons[0] for p in bridges)


def test_loan_covers_at_most_the_configured_amount(taxonomy):
    r = PathwayRanker(PathwayConfig(loan_max_usd=1000), taxonomy=taxonomy)
    p = next(p for p in r.rank(ClientContext("29-1229.00")) if p.kind == "relicensure")
    assert p.loan_coverable_usd == 1000 and p.out_of_pocket_usd == p.total_cost_usd - 1000


def test_passed_exams_are_skipped(ranker):
    full = next(p for p in ranker.rank(ClientContext("29-1141.00")) if p.kind == "relicensure")
    done = next(p for p in ranker.rank(ClientContext("29-1141.00", passed=("NCLEX",))) if p.kind == "relicensure")
    assert done.total_cost_usd < full.total_cost_usd
    assert any("already done" in r for r in done.reasons)


def test_config_and_client_validation():
    with pytest.raises(ConfigError) as e:
        PathwayConfig(weights=PathwayWeights(wage=-1), loan_max_usd=-5, max_bridges=-1)
    assert len(e.value.problems) == 3
    with pytest.raises(InputError):
        ClientContext("29-1141.00", english="fluent").validate()


def test_unknown_inputs_are_clear(ranker):
    with pytest.raises(InputError, match="O\\*NET"):
        ranker.rank(ClientContext("99-9999.99"))
    with pytest.raises(InputError, match="area"):
        ranker.rank(ClientContext("29-1141.00", area="123"))
    with pytest.raises(InputError, match="state"):
        ranker.rank(ClientContext("29-1141.00", state="ZZ"))


def test_wage_fallback_names_the_level(taxonomy):
    wt = WageTable(taxonomy)
    f = wt.lookup("29-1141.00", "0031140")
    assert f.level == "area" and f.annual_median == 84850.0
    assert wt.lookup("55-1011.00").level == "none"
    # an occupation Louisville does not publish falls back to Kentucky or national figures
    occ = taxonomy.occupations
    missing = [c for c in occ["onet_code"] if wt.lookup(c).level in ("state", "national")]
    assert missing and all(wt.lookup(c).annual_median for c in missing[:5])


def test_licensing_data_is_complete(taxonomy):
    lic = LicensingData(taxonomy).licenses("KY")
    for lid in ["KY-PHYSICIAN", "KY-RN", "KY-LPN", "KY-CNA", "KY-APRN", "KY-PHARMACIST", "KY-PHARM-TECH", "KY-DENTIST",
                "KY-DENTAL-HYGIENIST", "KY-PT", "KY-OT", "KY-RT", "KY-RAD-TECH", "KY-CLS", "KY-EMT", "KY-PARAMEDIC",
                "KY-CPM", "KY-DIETITIAN", "KY-SOCIAL-WORKER", "KY-FE", "KY-PE", "KY-ELECTRICIAN", "KY-PLUMBER",
                "KY-HVAC", "KY-CDL", "LOU-FOOD-MANAGER", "KY-ALCOHOL-SERVER", "KY-COSMETOLOGIST", "KY-BARBER"]:
        assert lid in lic, lid
        assert lic[lid].steps and [s.step_no for s in lic[lid].steps] == list(range(1, len(lic[lid].steps) + 1))
    unconfirmed = [s for l in lic.values() for s in l.steps if s.cost_usd is None]
    assert all(s.cost_note for s in unconfirmed), "an unknown fee must say why"


def test_cli_json_has_the_documented_fields(capsys):
    assert main(["pathways", "--onet", "29-1141.00", "--english", "B2", "--years", "10", "--budget", "2000",
                 "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = {"rank", "kind", "target_onet", "target_title", "license", "steps", "total_cost_usd", "loan_coverable_usd",
            "months_to_first_job", "median_annual_wage", "wage_area", "employment", "score", "components", "reasons"}
    assert keys <= set(data[0])
    assert data[0]["steps"] == [] or {"name", "kind", "cost_usd", "months", "loan_eligible", "source_url", "as_of"} <= set(data[0]["steps"][0])


def test_frame(ranker):
    df = pathways_to_frame(ranker.rank(ClientContext("51-4121.00")))
    assert {"rank", "kind", "target_onet", "score", "reasons"} <= set(df.columns)


def test_cli_table_output(capsys):
    assert main(["pathways", "--onet", "51-4121.00", "--english", "A2", "--need-income-now", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "Welders" in out and " 1. " in out and "score" in out and "Louisville" in out
