"""Licence truth (issue 8): the state registries, step ranges, exam identifiers, places and wages,
on the committed Kentucky and Indiana data."""
from __future__ import annotations

import json

import pytest

from matcher.cli import main
from matcher.errors import InputError
from matcher.exams import ExamIdentifiers
from matcher.licensing import is_primary_source
from matcher.pathways import ClientContext, PathwayRanker

STATES = ("KY", "IN")
# the phrases the ranker uses for work that needs no licence
LICENCE_FREE_WORDS = ("does not license it", "so the client can apply now", "registry does not list it")


@pytest.fixture(scope="module")
def ranker():
    return PathwayRanker()


@pytest.fixture(scope="module")
def data(ranker):
    return ranker.licensing


def relicensure(ranker, code, **kw):
    paths = ranker.rank(ClientContext(code, **kw))
    hits = [p for p in paths if p.kind == "relicensure" and p.target_onet == code]
    assert hits, f"no relicensure pathway for {code}: {[(p.kind, p.target_onet) for p in paths]}"
    return hits[0], paths


# --- the registry: licensed occupations are never licence-free ------------------------------------
def test_both_states_have_registry_and_routes(data):
    assert set(STATES) <= set(data.states)
    for st in STATES:
        reg = data.registry(st)
        assert len(reg) >= 100, st
        assert len(data.licenses(st)) >= 25, st


@pytest.mark.parametrize("state", STATES)
def test_no_pathway_presents_a_licensed_occupation_as_licence_free(ranker, data, state):
    """Every occupation as the client's own: no pathway, in any role, into an occupation the state
    licenses is presented as licence-free."""
    licensed = {c for c, e in data.registry(state).items() if e.licensed}
    assert licensed
    seen = set()
    for code in ranker.taxonomy.occupations["onet_code"]:
        for p in ranker.rank(ClientContext(code, state=state)):
            if p.target_onet not in licensed:
                continue
            seen.add(p.target_onet)
            assert p.licence_required in ("yes", "conditional"), (code, p.kind, p.target_onet)
            if p.kind == "direct" or (p.license is None and p.licence_required == "conditional"):
                # only a conditional licence leaves work open without it, and the reason says the condition
                assert p.licence_required == "conditional" and p.licence_condition in p.reasons[0], (code, p.target_onet)
                continue
            assert p.license is not None, (code, p.kind, p.target_onet)
            assert p.steps or p.steps_done or not p.route_known, (code, p.kind, p.target_onet)
            assert not any(w in p.reasons[0] for w in LICENCE_FREE_WORDS), (code, p.kind, p.target_onet, p.reasons[0])
    assert len(seen) > 20


@pytest.mark.parametrize("code,state", [("25-2021.00", "KY"), ("23-1011.00", "KY"), ("29-1131.00", "KY"),
                                        ("25-2021.00", "IN"), ("23-1011.00", "IN"), ("29-1131.00", "IN")])
def test_teacher_lawyer_veterinarian_are_licensed(ranker, code, state):
    p, paths = relicensure(ranker, code, state=state)
    assert p.licence_required in ("yes", "conditional")
    assert p.license and p.license["board_name"]
    assert not any(q.kind == "direct" and q.target_onet == code and q.licence_required not in ("conditional",)
                   for q in paths)
    assert not any("no state licence is required" in r for q in paths for r in q.reasons)


@pytest.mark.parametrize("client,licensed_target", [
    ("29-1141.00", "31-9011.00"),   # nurse -> massage therapist
    ("29-1141.00", "31-2011.00"),   # nurse -> occupational therapy assistant
    ("29-1141.00", "25-1072.00"),   # nurse -> nursing instructor (needs an RN licence)
    ("53-3032.00", "53-5021.00"),   # truck driver -> ship captain (Coast Guard licence)
    ("23-1011.00", "11-1031.00"),   # lawyer -> legislator (elected office)
    ("23-1011.00", "13-1041.06"),   # lawyer -> coroner (elected office)
])
def test_bridges_into_licensed_work_carry_the_licence(ranker, client, licensed_target):
    for p in ranker.rank(ClientContext(client, state="KY")):
        if p.target_onet == licensed_target:
            assert p.license is not None and (p.steps or not p.route_known), p
            assert p.licence_required in ("yes", "conditional")


def test_unknown_status_never_reads_licence_free(ranker, data):
    code = "51-9061.00"   # inspectors: not in either registry
    for st in STATES:
        assert data.status(code, st).licence_required == "unknown"
    p = ranker.rank(ClientContext(code))[0]
    assert p.kind == "direct" and p.licence_required == "unknown"
    assert "not confirmed licence-free" in p.reasons[0]


# --- step ranges ---------------------------------------------------------------------------------
def test_medical_assistant_conditional_steps_count_in_the_high_end(ranker):
    p = next(p for p in ranker.rank(ClientContext("31-9092.00")) if p.target_onet == "31-9092.00")
    assert p.kind == "direct" and p.licence_required == "no"
    assert p.months_to_first_job_max >= 6 and p.total_cost_usd_max >= 1000
    assert p.months_to_first_job < p.months_to_first_job_max
    assert p.range_conditions


def test_dentist_advanced_standing_program_has_a_cost(ranker):
    p, _ = relicensure(ranker, "29-1021.00")
    assert p.total_cost_usd_max >= 100_000
    assert p.months_to_first_job_max >= 24


def test_electrician_with_experience_abroad_is_paid_early(ranker):
    p, _ = relicensure(ranker, "47-2111.00", years_experience=15)
    assert p.months_to_first_paycheck_max < 12, p.reasons
    assert p.paid_step is not None or p.steps_done
    q, _ = relicensure(ranker, "47-2111.00", years_experience=0)
    assert q.months_to_first_job_max > p.months_to_first_job  # experience shortens the route


def test_pharmacist_internship_is_paid(ranker):
    p, _ = relicensure(ranker, "29-1051.00")
    assert p.paid_step and p.paid_step["annual_wage_usd"]
    assert p.months_to_first_paycheck_min < p.months_to_first_job


def test_physician_residency_pays_a_resident_wage_not_a_physician_median(ranker):
    p, _ = relicensure(ranker, "29-1215.00")
    assert p.paid_step and "esiden" in p.paid_step["step"]
    assert p.paid_step["annual_wage_usd"] is None or p.paid_step["annual_wage_usd"] < 0.5 * p.median_annual_wage
    assert p.months_to_first_paycheck_min < p.months_to_first_job


# --- exam identifiers ------------------------------------------------------------------------------
def test_identifiers_resolve_aliases_and_expand():
    x = ExamIdentifiers()
    assert x.resolve("Paso 1") == x.resolve("usmle step-1") == "USMLE-1"
    assert x.closure(["ECFMG-CERT"]) >= {"USMLE-1", "USMLE-2CK", "OET"}
    assert x.find("10 years of experience") == []          # no 'pe' inside 'experience'
    with pytest.raises(InputError, match="known identifiers: .*USMLE-1"):
        x.parse(["Step 7"])


@pytest.mark.parametrize("state", STATES)
def test_each_identifier_removes_exactly_the_steps_it_satisfies(ranker, data, state):
    exams = ranker.exams
    checked = 0
    for lic in data.licenses(state).values():
        ids = {i for s in lic.steps for i in s.satisfied_by}
        code = lic.onet_codes[0]
        for ident in sorted(ids):
            expect = {s.name for s in lic.steps if set(s.satisfied_by) & exams.closure([ident])}
            route = ranker._route(lic, code, code, "0031140", exams.closure([ident]), None)
            assert {d["name"] for d in route["done"]} == expect, (lic.license_id, ident)
            assert not expect & {s.name for s in route["steps"]}
            checked += 1
    assert checked >= 20


def test_passed_pe_ecfmg_ielts(ranker):
    # PE is not a substring match: the PE route's experience step stays
    pe, _ = relicensure(ranker, "17-2051.00", passed=("PE",))
    assert all("PE" not in d["by"] or "xperience" not in d["name"] for d in pe.steps_done)
    assert any(s.kind in ("work_experience", "supervised_practice", "apprenticeship") or "xperience" in s.name
               for p in ranker.rank(ClientContext("17-2051.00", passed=("FE",))) if p.kind == "relicensure"
               for s in p.steps)
    # ECFMG certification includes Step 1, Step 2 CK and OET
    full, _ = relicensure(ranker, "29-1215.00")
    ecfmg, _ = relicensure(ranker, "29-1215.00", passed=("ECFMG",))
    names = " ".join(s.name for s in ecfmg.steps)
    assert "Step 2 CK" not in names and "Step 1" not in names and "OET" not in names
    assert ecfmg.total_cost_usd < full.total_cost_usd
    # IELTS satisfies the RN English step
    rn, _ = relicensure(ranker, "29-1141.00", passed=("IELTS",))
    assert not any(s.kind == "english_test" for s in rn.steps)
    assert any("IELTS" in d["by"] for d in rn.steps_done)


def test_unknown_passed_value_is_an_error(capsys):
    assert main(["pathways", "--onet", "29-1141.00", "--passed", "NCLEX-XYZ"]) == 2
    err = capsys.readouterr().err
    assert "unknown exam" in err and "NCLEX-RN" in err


# --- places ------------------------------------------------------------------------------------------
def test_zip_47130_is_indiana_with_louisville_wages(ranker):
    p, _ = relicensure(ranker, "29-1141.00", zip_code="47130")
    assert p.state == "IN" and p.license["id"].startswith("IN-")
    assert "Indiana" in p.license["board_name"]
    assert p.wage_area.startswith("Louisville") and p.wage_level == "area"


@pytest.mark.parametrize("state", ["IN"])
def test_every_indiana_route_ranks(ranker, data, state):
    for lic in data.licenses(state).values():
        code = lic.onet_codes[0]
        paths = ranker.rank(ClientContext(code, state=state))
        assert any(p.license and p.license.get("id", "").startswith("IN-") for p in paths), lic.license_id
        assert all(p.state == "IN" for p in paths)


def test_area_in_another_state_is_an_error(ranker):
    with pytest.raises(InputError, match="not in KY"):
        ranker.rank(ClientContext("29-1141.00", state="KY", area="0026900"))   # Indianapolis
    with pytest.raises(InputError, match="not in KY"):
        ranker.rank(ClientContext("29-1141.00", state="KY", zip_code="47130"))
    with pytest.raises(InputError, match="no licensing data for state 'CA'"):
        ranker.rank(ClientContext("29-1141.00", zip_code="90210"))
    # Louisville's area spans both states
    assert ranker.resolve_place(ClientContext("29-1141.00", state="IN"))[:2] == ("IN", "0031140")


# --- wages and demand ----------------------------------------------------------------------------------
def test_national_employment_is_never_local(ranker):
    p = next(p for p in ranker.rank(ClientContext("11-3012.00")) if p.target_onet == "11-3012.00")
    assert p.wage_level == "national" and p.employment is None and not p.demand_known
    assert not any("jobs in" in r or "jobs locally" in r for r in p.reasons)
    assert p.components["demand"] == ranker.config.unknown_demand


def test_teaching_assistants_get_the_oews_aggregate_wage(ranker):
    w = ranker.wages.lookup("25-9042.00")
    assert w.oews_code == "25-9045" and w.level == "area" and w.annual_median == 36250.0
    assert ranker.wages.lookup("11-1031.00").annual_median is None    # legislators: no unrelated parent


def test_specialty_wage_is_flagged(ranker):
    p = next(p for p in ranker.rank(ClientContext("11-9121.01")) if p.target_onet == "11-9121.01")
    assert any("does not publish Clinical Research Coordinators separately" in r for r in p.reasons)


# --- facts ---------------------------------------------------------------------------------------------
def test_data_audit(capsys):
    assert main(["data", "audit", "--format", "json"]) == 0
    report = {r["state"]: r for r in json.loads(capsys.readouterr().out)}
    for st in STATES:
        r = report[st]
        assert r["steps"] == sum(r["steps_confirmed"].values())
        assert set(r["cost_basis"]) <= {"confirmed", "estimate", "unknown"}
        assert r["oldest_as_of"] <= r["newest_as_of"]


def test_confirmed_fees_are_single_figures_from_sources(data):
    for st in STATES:
        for lic in data.licenses(st).values():
            for s in lic.steps:
                if s.cost_basis == "confirmed":
                    assert s.cost_usd_min == s.cost_usd_max and s.confirmed in ("yes", "partial"), (lic.license_id, s.name)
                if s.cost_basis == "estimate":
                    assert s.cost_usd_min is not None and s.cost_usd_max is not None


def test_primary_source_rule():
    assert is_primary_source("https://kbn.ky.gov/x") and is_primary_source("https://www.in.gov/pla/")
    assert is_primary_source("https://apps.legislature.ky.gov/law/kar/titles/201/020/070/")
    assert not is_primary_source("https://physiciansthrive.com/medical-license/kentucky/")


def test_zip_counties_and_unconfirmed_areas(ranker):
    g = ranker.geography
    here = g.locate("40202")
    assert (here.state, here.county, here.oews_area) == ("KY", "Jefferson County", "0031140")
    assert g.locate("46350").oews_area == "0033140"                     # 'LaPorte County' spelled either way
    frankfort = g.locate("40601")                                        # nonmetro county: area not confirmed
    assert frankfort.state == "KY" and frankfort.oews_area == ""
    state, area, notes = ranker.resolve_place(ClientContext("29-1141.00", zip_code="40601"))
    assert (state, area) == ("KY", "2100000") and "statewide" in notes[0]
    with pytest.raises(InputError, match="5 digits"):
        g.locate("402140")
