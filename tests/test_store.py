"""The caseload store and its API, on SQLite and on PostgreSQL (``MATCHER_TEST_POSTGRES_URL``, which
.ci/run sets after starting Debian's PostgreSQL; without it the PostgreSQL cases are skipped)."""
from __future__ import annotations

import json
import os
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.cli import main
from matcher.engine import Engine
from matcher.errors import InputError
from matcher.store import Store, StoreError, status_of

ROOT = Path(__file__).resolve().parents[1]
PG = os.environ.get("MATCHER_TEST_POSTGRES_URL", "")
NURSE = {"client_id": "CL-77", "previous_title": "enfermera", "credential": "Licenciatura en Enfermería",
         "country": "CU", "language": "es", "zip": "40214", "needs_income_now": "yes",
         "notes": "Maria Zyxwvut, passport 998877; IELTS 6.5"}


def _pg_url() -> str:
    """A fresh schema-less database per test run: tables are dropped first."""
    from sqlalchemy import create_engine, text

    eng = create_engine(PG)
    with eng.begin() as c:
        for t in ("audit", "events", "plans", "clients", "navigators", "alembic_version"):
            c.execute(text(f"DROP TABLE IF EXISTS {t} CASCADE"))
    eng.dispose()
    return PG


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        if not PG:
            pytest.skip("MATCHER_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
        s = Store.open(_pg_url())
    else:
        s = Store.open(f"sqlite:///{tmp_path / 'caseload.db'}")
    yield s
    s.close()


@pytest.fixture(scope="module")
def engine():
    return Engine(openings=ROOT / "examples" / "openings_louisville.csv")


def _row(kind="relicensure", route="10", pay="1.5"):
    return {"onet_title": "Registered Nurses", "plan_route_kind": kind, "plan_months_to_route": route,
            "plan_months_to_first_paycheck": pay, "status": "ok"}


def test_navigators_passwords_and_tokens(store):
    nav, token = store.add_navigator("amina", "correct horse battery")
    assert nav.name == "amina" and store.token_owner(token) == "amina" and store.token_owner("nope") is None
    assert store.check_password("amina", "correct horse battery") and not store.check_password("amina", "wrong pass!")
    assert store.check_password("nobody", "correct horse battery") is None
    with pytest.raises(InputError, match="already exists"):
        store.add_navigator("amina", "another long password")
    with pytest.raises(InputError, match="at least 10"):
        store.add_navigator("ben", "short")
    from sqlalchemy import text

    with store.engine.connect() as c:
        stored = c.execute(text("SELECT password_hash, token_digest FROM navigators")).first()
    assert stored[0].startswith("scrypt$") and "correct" not in stored[0] and token not in stored[1]


def test_clients_events_replan_status(store):
    today = date.today()
    cid = store.create_client(dict(NURSE), _row(), {"plan": 1}, {"taxonomy": "t1"}, by="amina",
                              consent_date=today, intake_date=today - timedelta(days=200))
    c = store.get(cid)
    assert c["client_ref"] == "CL-77" and c["navigator"] == "amina" and len(c["plans"]) == 1
    # planned first job at 1.5 months: 200 days later it is overdue, the licence is next after
    assert c["status"] == {"state": "overdue", "next_step": "first job",
                           "due": (today - timedelta(days=200) + timedelta(days=46)).isoformat(), "overdue": True}
    store.add_event(cid, "hired", today - timedelta(days=150), by="ben", occupation="31-1131.00", hourly_wage=17.5)
    st = store.get(cid)["status"]
    assert st["next_step"] == "licence" and st["state"] == "on time"
    # moving the clock past the planned licence (10 months) makes the client overdue
    assert status_of(store.get(cid), as_of=today + timedelta(days=200))["state"] == "overdue"
    store.add_event(cid, "license_obtained", today, by="amina")
    assert store.get(cid)["status"]["state"] == "done"
    with pytest.raises(InputError, match="event must be one of"):
        store.add_event(cid, "promoted", today, by="amina")
    with pytest.raises(InputError, match="needs amount_usd"):
        store.add_event(cid, "loan_drawn", today, by="amina")
    store.replan(cid, _row(route="12"), {"plan": 2}, {"taxonomy": "t2"}, by="amina")
    plans = store.get(cid)["plans"]
    assert [p["current"] for p in plans] == [True, False] and plans[1]["versions"] == {"taxonomy": "t1"}
    events = store.get(cid)["events"]
    assert [(e["event"], e["recorded_by"]) for e in events] == [("hired", "ben"), ("licence_obtained", "amina")]
    total, items = store.list(navigator="amina")
    assert total == 1 and items[0]["id"] == cid and items[0]["state"] == "done"
    assert store.list(overdue=True)[0] == 0
    with pytest.raises(StoreError, match="no client"):
        store.get(uuid.uuid4().hex)


def test_delete_leaves_nothing_and_the_audit_has_no_values(store, tmp_path):
    # the client sits among others, so its pages stay in use after the deletion
    for i in range(40):
        store.create_client(dict(NURSE, client_id=f"O{i}", notes=f"other client {i} " * 20), _row(), {"p": i}, {},
                            by="amina")
    cid = store.create_client(dict(NURSE), _row(), {"plan": "Zyxwvut"}, {}, by="amina")
    for i in range(40, 60):
        store.create_client(dict(NURSE, client_id=f"O{i}", notes=f"other client {i} " * 20), _row(), {"p": i}, {},
                            by="amina")
    store.add_event(cid, "hired", date.today(), by="amina", note="told us Zyxwvut moved")
    store.delete_client(cid, by="amina")
    with pytest.raises(StoreError):
        store.get(cid)
    trail = store.audit_trail(cid)
    assert [a["action"] for a in trail] == ["create_client", "add_event:hired", "delete_client"]
    assert "Zyxwvut" not in json.dumps(store.audit_trail())
    from sqlalchemy import text

    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM clients WHERE id = :i"), {"i": cid}).scalar() == 0
        for t in ("plans", "events"):
            assert c.execute(text(f"SELECT count(*) FROM {t} WHERE client_id = :i"), {"i": cid}).scalar() == 0
    if store.engine.dialect.name == "sqlite":
        raw = Path(store.url[len("sqlite:///"):]).read_bytes()
        assert b"Zyxwvut" not in raw                                     # no readable copy in the file
        assert b"other client 59" in raw and b"998877" not in raw      # the others stay readable


def test_retention_and_purge(store):
    old = store.create_client(dict(NURSE, client_id="OLD"), _row(), None, {}, by="amina",
                              consent_date=date.today() - timedelta(days=400), retention_days=365)
    keep = store.create_client(dict(NURSE, client_id="NEW"), _row(), None, {}, by="amina", consent_date=date.today())
    assert store.past_retention() == [old]
    assert store.purge(by="dpo") == [old]
    assert [i["id"] for i in store.list()[1]] == [keep]


def test_report_from_the_store(store, tmp_path):
    cid = store.create_client(dict(NURSE), dict(_row(), client_id="CL-77", plan_loan_usd="1000",
                                                plan_loan_schedule="0:1000"), None, {}, by="amina")
    store.add_event(cid, "loan_drawn", date.today(), by="amina", amount_usd=1000)
    scored, outcomes = store.scored_frame()
    assert list(scored["client_id"]) == [cid] and list(outcomes["event"]) == ["loan_drawn"]


def test_bad_database_url_is_one_line():
    with pytest.raises(StoreError, match="cannot open the caseload database"):
        Store.open("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")


# --- the API ----------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def api(request, engine, tmp_path):
    if request.param == "postgresql":
        if not PG:
            pytest.skip("MATCHER_TEST_POSTGRES_URL is not set")
        store = Store.open(_pg_url())
    else:
        store = Store.open(f"sqlite:///{tmp_path / 'api.db'}")
    _, amina = store.add_navigator("amina", "correct horse battery")
    _, ben = store.add_navigator("ben", "another horse battery")
    app = create_app(engine, token="server-token-0123456789", caseload=store, job_dir=tmp_path)
    with TestClient(app) as c:
        yield c, {"Authorization": f"Bearer {amina}"}, {"Authorization": f"Bearer {ben}"}, store
    store.close()


def test_api_clients_lifecycle(api, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    c, amina, ben, store = api
    P = "/api/v1/clients"
    assert c.post(P, json=NURSE).status_code == 401                      # no token, no caseload
    r = c.post(P, json={**NURSE, "consent_date": "2026-11-30", "intake_date": "2026-01-15"}, headers=amina)
    assert r.status_code == 201
    cid = r.json()["id"]
    assert r.json()["assessment"]["onet_code"] == "29-1141.00" and r.json()["plan"]["route"]["kind"] == "relicensure"
    got = c.get(f"{P}/{cid}", headers=ben).json()
    assert got["navigator"] == "amina" and got["intake"]["notes"].startswith("Maria") and got["consent_date"] == "2026-11-30"
    assert got["status"]["overdue"] is True                              # intake in January, no job yet
    r = c.post(f"{P}/{cid}/events", json={"event": "hired", "date": "2026-03-01", "occupation": "31-1131.00",
                                          "hourly_wage": 17.5}, headers=ben)
    assert r.status_code == 201
    assert c.post(f"{P}/{cid}/events", json={"event": "promoted", "date": "2026-03-01"}, headers=ben).status_code == 400
    assert c.post(f"{P}/{cid}/events", json={"event": "hired", "date": "March"}, headers=ben).status_code == 400
    ev = c.get(f"{P}/{cid}", headers=amina).json()["events"]
    assert [(e["event"], e["recorded_by"]) for e in ev] == [("hired", "ben")]   # who wrote it
    r = c.post(f"{P}/{cid}/replan", headers=amina)
    assert r.status_code == 200 and len(c.get(f"{P}/{cid}", headers=amina).json()["plans"]) == 2
    lst = c.get(P, params={"navigator": "amina"}, headers=amina).json()
    assert lst["total"] == 1 and lst["items"][0]["id"] == cid
    assert c.get(P, params={"navigator": "ben"}, headers=amina).json()["total"] == 0
    assert c.get(P, params={"limit": 0}, headers=amina).status_code == 400
    ex = c.get(f"{P}/{cid}/export", headers=amina)
    assert ex.status_code == 200 and {"intake", "plans", "events", "audit"} <= set(ex.json())
    assert c.delete(f"{P}/{cid}", headers=amina).status_code == 204
    assert c.get(f"{P}/{cid}", headers=amina).status_code == 404
    assert c.delete(f"{P}/{cid}", headers=amina).status_code == 404
    logs = "\n".join(r.getMessage() for r in caplog.records)
    assert "Zyxwvut" not in logs and "Maria" not in logs                # names and notes never logged
    actions = [a["action"] for a in store.audit_trail(cid)]
    assert actions[0] == "create_client" and actions[-1] == "delete_client"


# --- the command line ---------------------------------------------------------------------------------
def test_users_caseload_and_report_commands(tmp_path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    assert main(["users", "add", "amina", "--password-file", str(pw), "--database", url]) == 0
    out = capsys.readouterr().out
    assert "API token" in out
    assert main(["users", "list", "--database", url]) == 0 and "amina" in capsys.readouterr().out
    assert main(["users", "add", "amina", "--password-file", str(pw), "--database", url]) == 2
    store = Store.open(url)
    store.create_client(dict(NURSE), dict(_row(), client_id="X"), None, {}, by="amina",
                        consent_date=date.today() - timedelta(days=5000), retention_days=10)
    assert main(["caseload", "retention", "--database", url]) == 0
    assert "1 client" in capsys.readouterr().out
    assert main(["caseload", "retention", "--purge", "--database", url]) == 0
    assert store.list()[0] == 0
    store.create_client(dict(NURSE), dict(_row(), client_id="Y", plan_loan_usd="0"), None, {}, by="amina")
    out_html = tmp_path / "r.html"
    assert main(["report", "--database", url, "-o", str(out_html), "--as-of", "2026-12-31"]) == 0
    assert json.loads(out_html.with_suffix(".json").read_text())["summary"]["clients"] == 1


# --- the web app's caseload pages -----------------------------------------------------------------
def test_web_caseload_pages(engine, tmp_path):
    import re

    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}")
    store.add_navigator("amina", "correct horse battery")
    app = create_app(engine, caseload=store, job_dir=tmp_path)
    with TestClient(app) as c:
        r = c.get("/client", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")     # accounts: sign in first
        page = c.get("/login").text
        assert 'name="password"' in page and 'name="name"' in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        assert c.post("/login", data={"csrf": csrf, "name": "amina", "password": "wrong password"}).status_code == 401
        assert c.post("/login", data={"csrf": csrf, "name": "amina", "password": "correct horse battery"},
                      follow_redirects=False).status_code == 303
        page = c.get("/client").text
        assert "Sign out (amina)" in page
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        r = c.post("/caseload/save", data={"csrf": csrf, "previous_title": "enfermera", "zip": "40214",
                                           "consent_date": "2026-11-01"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/caseload/")
        cid = r.headers["location"].rsplit("/", 1)[1]
        page = c.get(f"/caseload/{cid}").text
        assert "Registered Nurses" in page and "create client" in page
        r = c.post(f"/caseload/{cid}/events", data={"csrf": csrf, "event": "hired", "date": "2026-12-01",
                                                    "occupation": "31-1131.00", "hourly_wage": "17"},
                   follow_redirects=False)
        assert r.status_code == 303
        assert "amina" in c.get(f"/caseload/{cid}").text and store.get(cid)["events"][0]["recorded_by"] == "amina"
        listing = c.get("/caseload").text
        assert cid in listing and "on time" in listing
        # moving the clock past the planned licence: the client is overdue
        later = (date.today() + timedelta(days=500)).isoformat()
        assert "overdue" in c.get("/caseload", params={"as_of": later, "overdue": "yes"}).text
        assert "<h1>Impact report</h1>" in c.get("/caseload-report").text
        assert c.post(f"/caseload/{cid}/replan", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert len(store.get(cid)["plans"]) == 2
        assert c.post(f"/caseload/{cid}/delete", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert c.get(f"/caseload/{cid}").status_code == 404
        # a stale page: replanning or deleting a client already deleted is a 404 with a message, not a 500
        for action in ("replan", "delete"):
            r = c.post(f"/caseload/{cid}/{action}", data={"csrf": csrf}, follow_redirects=False)
            assert r.status_code == 404 and "No client with this id" in r.text
    store.close()
