"""The web app's pages through the ASGI app (no browser): sessions, login, CSRF, headers, the
client page, the printable plan, batch files and the opening page, on the real engine and data."""
from __future__ import annotations

import io
import logging
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from matcher import web
from matcher.api import CSP, create_app
from matcher.engine import Engine
from matcher.i18n import available_languages, load_locale

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "intake_sample.csv"
OPENINGS = ROOT / "examples" / "openings_louisville.csv"
TOKEN = "web-test-token-0123456789abcdef"
NURSE = {"previous_title": "enfermera", "credential": "Licenciatura en Enfermería", "country": "CU", "language": "es",
         "english_level": "B1", "years_experience": "8", "zip": "40214", "needs_income_now": "yes"}


@pytest.fixture(scope="module")
def engine():
    return Engine(openings=OPENINGS)


@pytest.fixture(scope="module")
def app(engine, tmp_path_factory):
    return create_app(engine, job_dir=tmp_path_factory.mktemp("jobs"))


@pytest.fixture(scope="module")
def client(app):
    # one client for the module: leaving the context shuts the app down (its job store with it)
    with TestClient(app) as c:
        yield c


def _other(app) -> TestClient:
    """Another browser: its own cookies, the same running app (no second start-up or shut-down)."""
    return TestClient(app)


def _csrf(c, path="/client") -> str:
    r = c.get(path)
    assert r.status_code == 200, r.text[:300]
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def _chosen(html: str) -> str:
    m = re.search(r'id="chosen-occupation">([^<]+)<', html)
    return m.group(1) if m else ""


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return html[start:end]


# --- sessions, login, CSRF, headers ------------------------------------------------------------
def test_pages_ask_for_the_token_once_and_renew_the_session(engine, tmp_path):
    app = create_app(engine, token=TOKEN, job_dir=tmp_path)
    with TestClient(app) as c:
        for path in ("/client", "/batch", "/openings"):
            r = c.get(path, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
        r = c.get("/login?next=/batch")
        assert r.status_code == 200 and 'type="password"' in r.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        before = c.cookies.get(web.COOKIE)
        r = c.post("/login", data={"csrf": csrf, "token": "not-the-token-at-all", "next": "/batch"})
        assert r.status_code == 401 and "not the token" in r.text
        r = c.post("/login", data={"csrf": csrf, "token": TOKEN, "next": "/batch"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/batch"
        assert c.cookies.get(web.COOKIE) and c.cookies.get(web.COOKIE) != before       # a new session id
        assert c.get("/client").status_code == 200
        # the API still wants its bearer token: a page session is not an API credential
        assert c.get("/api/v1/health").status_code == 401
        # after signing out the pages ask again
        csrf = _csrf(c)
        assert c.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert c.get("/client", follow_redirects=False).status_code == 303


def test_login_never_redirects_to_another_site(engine, tmp_path):
    app = create_app(engine, token=TOKEN, job_dir=tmp_path)
    with TestClient(app) as c:
        r = c.get("/login?next=//evil.example/x")
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        assert 'value="/client"' in r.text
        r = c.post("/login", data={"csrf": csrf, "token": TOKEN, "next": "https://evil.example/"},
                   follow_redirects=False)
        assert r.headers["location"] == "/client"


def test_wrong_tokens_are_rate_limited(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "LOGIN_MAX_FAILURES", 2)
    app = create_app(engine, token=TOKEN, job_dir=tmp_path)
    with TestClient(app) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        codes = [c.post("/login", data={"csrf": csrf, "token": f"wrong-{i}"}).status_code for i in range(3)]
        assert codes == [401, 401, 429]
        # even the right token waits out the window
        assert c.post("/login", data={"csrf": csrf, "token": TOKEN}).status_code == 429


def test_sessions_expire(engine, tmp_path, monkeypatch):
    app = create_app(engine, token=TOKEN, job_dir=tmp_path)
    with TestClient(app) as c:
        csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"csrf": csrf, "token": TOKEN})
        assert c.get("/client", follow_redirects=False).status_code == 200
        monkeypatch.setattr(web, "SESSION_IDLE_SECONDS", 0)
        time.sleep(0.01)
        assert c.get("/client", follow_redirects=False).status_code == 303


def test_cookie_flags(client):
    r = client.get("/client")
    cookie = r.headers["set-cookie"].lower()
    assert f"{web.COOKIE}=" in cookie and "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie


def test_forms_need_the_session_csrf_token(client, app):
    assert client.post("/client", data=NURSE).status_code == 403
    assert client.post("/client", data={**NURSE, "csrf": "x" * 43}).status_code == 403
    foreign = _csrf(_other(app))
    _csrf(client)
    r = client.post("/client", data={**NURSE, "csrf": foreign})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "expired" in r.text
    csrf = _csrf(client)
    assert client.post("/client", data={**NURSE, "csrf": csrf}, headers={"Origin": "https://evil.example"}
                       ).status_code == 403
    assert client.post("/client", data={**NURSE, "csrf": csrf}).status_code == 200


@pytest.mark.parametrize("path", ["/client", "/batch", "/openings", "/report", "/login", "/no-such-page"])
def test_pages_have_the_api_headers_and_no_inline_code(client, path):
    r = client.get(path)
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    html = r.text
    assert "<style" not in html and not re.search(r"\sstyle=", html) and not re.search(r"\son[a-z]+=", html)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)                       # no inline script
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(?:https?:)?//", ref), ref                         # nothing from elsewhere
    if path == "/no-such-page":
        assert r.status_code == 404 and "There is no such page" in html


# --- the client page -----------------------------------------------------------------------------
def test_client_page_nurse_from_cuba(client):
    r = client.post("/client", data={**NURSE, "csrf": _csrf(client)})
    assert r.status_code == 200
    html = r.text
    assert _chosen(html) == "Registered Nurses"
    assert "NCLEX" in _section(html, "h-route")
    assert "Nursing Assistants" in _section(html, "h-bridge")
    occ = _section(html, "h-occupation")
    assert 'value="29-2061.00"' in occ and 'value="29-1141.00"' in occ     # other candidates to pick
    assert re.search(r"confidence <strong>([89]\d|100)%", occ)              # an exact glossary match
    cred = _section(html, "h-credential")
    assert "bachelor" in cred and "CGFNS" in cred
    openings = _section(html, "h-openings")
    assert "Apply now" in openings and "After the licence" in openings and "OPN-0097" in openings
    assert "<svg" in html and "Loan from the fund" in html
    for code in available_languages():
        assert f'name="print_lang" value="{code}"' in html
    assert 'value="es"\n              lang="es" class="secondary preferred"' in html      # the client's language


def test_another_candidate_changes_the_plan(client):
    csrf = _csrf(client)
    first = client.post("/client", data={**NURSE, "csrf": csrf}).text
    second = client.post("/client", data={**NURSE, "csrf": csrf, "onet_code": "29-2061.00",
                                          "last_title": "enfermera"}).text
    assert _chosen(second) == "Licensed Practical and Licensed Vocational Nurses"
    assert _section(second, "h-route") != _section(first, "h-route") and "NCLEX-PN" in second
    # a choice made for an earlier title is dropped when the title changes
    third = client.post("/client", data={**NURSE, "csrf": csrf, "previous_title": "soldador",
                                         "onet_code": "29-2061.00", "last_title": "enfermera"}).text
    assert _chosen(third) == "Welders, Cutters, Solderers, and Brazers"


def test_client_form_problems_are_listed_not_raised(client):
    csrf = _csrf(client)
    r = client.post("/client", data={"csrf": csrf})
    assert r.status_code == 400 and "Enter a previous job title or a credential" in r.text
    r = client.post("/client", data={"csrf": csrf, "previous_title": "x" * 600, "work_authorized": "maybe",
                                     "state": "TX"})
    assert r.status_code == 400
    for msg in ("at most 500 characters", "Work authorization: choose", "Licence state: Kentucky or Indiana"):
        assert msg in r.text


def test_client_page_indiana_state(client):
    r = client.post("/client", data={**NURSE, "zip": "", "state": "IN", "csrf": _csrf(client)})
    assert r.status_code == 200 and "Indiana" in _section(r.text, "h-route")


def test_client_data_is_not_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    secret_title, secret_note = "enfermera Qzxv", "Maria Qwxyz passport 123"
    client.post("/client", data={**NURSE, "previous_title": secret_title, "notes": secret_note,
                                 "csrf": _csrf(client)})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Qzxv" not in text and "Qwxyz" not in text and "/client" in text


# --- the printable plan ------------------------------------------------------------------------
@pytest.mark.parametrize("lang", sorted(available_languages()))
def test_printable_plan_in_each_language(client, lang):
    r = client.post("/plan/print", data={**NURSE, "csrf": _csrf(client), "print_lang": lang})
    assert r.status_code == 200
    loc = load_locale(lang)
    assert f'<html lang="{lang}" dir="{loc.direction}">' in r.text
    assert '<link rel="stylesheet" href="/static/plan.css">' in r.text and "<style" not in r.text
    notice = re.search(r'<p class="notice" role="note">([^<]+)</p>', r.text).group(1)
    from markupsafe import escape

    assert notice == str(escape(loc.phrases["orientation_notice"]))
    if lang != "en":
        assert notice != str(escape(load_locale("en").phrases["orientation_notice"]))
        assert "(Registered Nurses)" in r.text         # the client's language beside the English title


def test_printable_plan_refuses_an_unknown_language(client):
    r = client.post("/plan/print", data={**NURSE, "csrf": _csrf(client), "print_lang": "xx"})
    assert r.status_code == 400 and "no printable plan in that language" in r.text


# --- batch ---------------------------------------------------------------------------------------
def _wait_done(c, url: str) -> dict:
    for _ in range(240):
        s = c.get(url + "/status").json()
        if s["status"] in ("done", "failed"):
            return s
        time.sleep(0.25)
    raise AssertionError("the batch job did not finish")


def test_batch_upload_progress_download_and_ownership(client, app):
    csrf = _csrf(client, "/batch")
    with open(SAMPLE, "rb") as f:
        r = client.post("/batch", data={"csrf": csrf}, files={"file": ("intake_sample.csv", f, "text/csv")},
                        follow_redirects=False)
    assert r.status_code == 303
    url = r.headers["location"]
    status = _wait_done(client, url)
    sent = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert status == {"status": "done", "rows_done": len(sent), "rows_total": len(sent), "error": None}
    page = client.get(url).text
    assert f"Done: {len(sent)} rows scored" in page and 'id="problems"' in page
    got = pd.read_csv(io.StringIO(client.get(url + "/download?format=csv").text), dtype=str, keep_default_na=False)
    assert list(got["client_id"]) == list(sent["client_id"])
    # every row that is not ok is listed with its messages
    listed = re.findall(r'<tr><td class="num">(\d+)</td><th scope="row">([^<]*)</th><td>([a-z]+)</td>', page)
    not_ok = got[got["status"] != "ok"]
    assert [(int(n), cid, st) for n, cid, st in listed] == [
        (i + 1, r.client_id, r.status) for i, r in zip(not_ok.index, not_ok.itertuples())]
    xlsx = client.get(url + "/download?format=xlsx")
    assert xlsx.status_code == 200 and len(pd.read_excel(io.BytesIO(xlsx.content))) == len(sent)
    # another session cannot see the file
    other = _other(app)
    assert other.get(url).status_code == 404
    assert other.get(url + "/download").status_code == 404
    assert client.get("/batch").text.count(url) >= 1
    assert client.post(url + "/delete", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get(url).status_code == 404


def test_batch_refuses_bad_files(client, engine, tmp_path):
    csrf = _csrf(client, "/batch")
    r = client.post("/batch", data={"csrf": csrf}, files={"file": ("intake.exe", b"MZ", "application/octet-stream")})
    assert r.status_code == 400 and "The file must be one of" in r.text
    r = client.post("/batch", data={"csrf": csrf})
    assert r.status_code == 400 and "Choose an intake file" in r.text
    small = create_app(engine, max_upload_mb=0.01, job_dir=tmp_path)
    with TestClient(small) as c:
        csrf = _csrf(c, "/batch")
        r = c.post("/batch", data={"csrf": csrf}, files={"file": ("big.csv", b"a,b\n" * 10_000, "text/csv")})
        assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")


# --- openings ------------------------------------------------------------------------------------
def test_opening_page_ranks_every_client_of_the_sample(client):
    csrf = _csrf(client, "/openings")
    with open(SAMPLE, "rb") as f:
        r = client.post("/openings", data={"csrf": csrf, "source": "loaded", "opening_id": "OPN-0097",
                                           "action": "rank"}, files={"intake": ("intake_sample.csv", f, "text/csv")})
    assert r.status_code == 200
    html = r.text
    ranked = re.findall(r'<tr><td class="num">(\d+)</td><th scope="row">([^<]+)</th>', _section(html, "h-ranked"))
    unranked = re.findall(r"<li>([^<:]+): ", html.split("Clients not ranked")[1]) if "Clients not ranked" in html else []
    sent = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert len(ranked) + len(unranked) == len(sent)
    assert sorted([cid for _, cid in ranked] + unranked) == sorted(sent["client_id"])
    # the intake stays for the session: another opening without uploading again
    r = client.post("/openings", data={"csrf": csrf, "source": "loaded", "opening_id": "OPN-0043", "action": "rank"})
    assert r.status_code == 200 and "OPN-0043" in _section(r.text, "h-ranked")


def test_opening_page_with_an_uploaded_openings_file(client):
    csrf = _csrf(client, "/openings")
    src = pd.read_csv(OPENINGS, dtype=str, keep_default_na=False).head(3)
    src["opening_id"] = ["NEW-1", "NEW-2", "NEW-3"]
    buf = src.to_csv(index=False).encode()
    r = client.post("/openings", data={"csrf": csrf, "source": "upload", "action": "load"},
                    files={"openings_file": ("mine.csv", buf, "text/csv")})
    assert r.status_code == 200
    options = re.findall(r'<option value="([^"]+)"', r.text)
    assert options == ["NEW-1", "NEW-2", "NEW-3"]
    with open(SAMPLE, "rb") as f:
        r = client.post("/openings", data={"csrf": csrf, "source": "upload", "opening_id": "NEW-2", "action": "rank"},
                        files={"intake": ("intake_sample.csv", f, "text/csv")})
    assert r.status_code == 200 and "NEW-2" in _section(r.text, "h-ranked")
    r = client.post("/openings", data={"csrf": csrf, "source": "upload", "opening_id": "OPN-0001", "action": "rank"})
    assert r.status_code == 400 and "Choose one of the openings" in r.text
    # back to the loaded openings
    r = client.post("/openings", data={"csrf": csrf, "source": "loaded", "action": "load"})
    assert "OPN-0001" in re.findall(r'<option value="([^"]+)"', r.text)


def test_opening_page_messages(app):
    client = _other(app)                        # a session without an intake file yet
    csrf = _csrf(client, "/openings")
    r = client.post("/openings", data={"csrf": csrf, "source": "loaded", "opening_id": "OPN-0097", "action": "rank"})
    assert r.status_code == 400 and "Upload the intake file" in r.text
    r = client.post("/openings", data={"csrf": csrf, "source": "loaded", "action": "rank"},
                    files={"intake": ("x.csv", b"client_id,previous_title,credential\n", "text/csv")})
    assert r.status_code == 400 and "no client rows" in r.text


# --- report ----------------------------------------------------------------------------------------
def test_report_page(client):
    from test_report import _outcomes, _scored

    csrf = _csrf(client, "/report")
    r = client.post("/report", data={"csrf": csrf, "fund_capital": "50,000", "repayment_rate": "80",
                                     "as_of": "2026-12-31"},
                    files={"scored": ("scored.csv", _scored().to_csv(index=False).encode(), "text/csv"),
                           "outcomes": ("outcomes.csv", _outcomes().to_csv(index=False).encode(), "text/csv")})
    assert r.status_code == 200
    html = r.text
    assert "<h1>Impact report</h1>" in html and 'href="/static/report.css"' in html and "<style" not in html
    assert "fund capital $50,000, repayment rate 80%" in html and 'id="table-overdue"' in html
    assert "Secretname" not in html and r.headers["content-security-policy"] == CSP
    r = client.post("/report", data={"csrf": csrf, "repayment_rate": "lots"},
                    files={"scored": ("scored.csv", _scored().to_csv(index=False).encode(), "text/csv")})
    assert r.status_code == 400 and "repayment rate: not a number" in r.text
    r = client.post("/report", data={"csrf": csrf},
                    files={"scored": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert r.status_code == 400 and "not a scored intake file" in r.text
