"""The navigator's web app in a real browser: Debian's headless Chromium driven by Selenium,
against ``matcher serve`` started with a token (so the login page is part of the run).

One navigator's session: sign in; a Spanish-speaking nurse from Cuba who needs income now -> the
NCLEX route and a bridge job; switch to another candidate occupation -> the plan changes; the
printable plan in Spanish and in Arabic (right to left), then English, French and Ukrainian, each
one printed page; the sample intake on
the batch page -> the downloaded file has every row in order; the sample intake's clients ranked
for one opening; the impact report of the downloaded file with the sample outcomes.  Every page is checked with axe-core (vendored) for serious or critical
violations, at 1366x768 and at phone width.  Screenshots go to ``out/screenshots/``.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "out" / "screenshots"
SAMPLE = ROOT / "examples" / "intake_sample.csv"
OPENINGS = ROOT / "examples" / "openings_louisville.csv"
TOKEN = "browser-test-token-0123456789"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

selenium = pytest.importorskip("selenium")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)")

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``matcher serve`` on 127.0.0.1 with the sample openings and a token; stopped at the end."""
    port = _free_port()
    env = {**os.environ, "MATCHER_API_TOKEN": TOKEN, "TMPDIR": str(tmp_path_factory.mktemp("srv")),
           "XDG_DATA_HOME": str(tmp_path_factory.mktemp("data"))}
    exe = Path(sys.executable).with_name("matcher")
    cmd = ([str(exe)] if exe.exists() else [sys.executable, "-c", "from matcher.cli import main; main()"]) + \
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--openings", str(OPENINGS)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            line = proc.stderr.readline()
            if "ready at" in line:
                break
            if proc.poll() is not None:
                pytest.fail("matcher serve exited: " + proc.stderr.read()[-2000:])
        else:
            pytest.fail("matcher serve did not start in 120 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=1366,768", "--lang=en-US"):
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    d.set_window_size(1366, 768)
    d.downloads = downloads
    d.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield d
    finally:
        d.quit()


# --- helpers -------------------------------------------------------------------------------------
def _axe(d, name: str) -> list:
    """Serious or critical axe-core violations of the current page (WCAG 2 A/AA and best practice)."""
    d.execute_script(AXE.read_text(encoding="utf-8"))
    res = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'best-practice']}})"
        ".then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))))"
        ".catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));")
    bad = [v for v in json.loads(res) if v["impact"] in ("serious", "critical")]
    return [f"{name}: {v['id']} ({v['impact']}): {v['help']} at {v.get('nodes')}" for v in bad]


def _shot(d, name: str, full: bool = False) -> Path:
    path = SHOTS / f"{name}.png"
    if full:
        w = d.execute_script("return window.innerWidth")
        h = d.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": w, "height": min(int(h), 6000), "deviceScaleFactor": 1, "mobile": False})
        d.save_screenshot(str(path))
        d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        d.save_screenshot(str(path))
    return path


def _no_horizontal_scroll(d) -> bool:
    return d.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


def _wait(d, cond, timeout=60):
    return WebDriverWait(d, timeout).until(cond)


def _pdf_pages(d) -> int:
    """Pages of the current page printed to PDF (the print dialog's @page size and margins)."""
    from selenium.common.exceptions import WebDriverException

    for attempt in range(3):    # Chromium now and then answers "Printing failed" while a page settles
        try:
            data = d.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})["data"]
            break
        except WebDriverException:
            if attempt == 2:
                raise
            time.sleep(1)
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", base64.b64decode(data)))


def _section_text(d, heading_id: str) -> str:
    return d.find_element(By.XPATH, f"//*[@id='{heading_id}']/ancestor::section[1]").text


# --- the navigator's session ---------------------------------------------------------------------
def test_navigator_session(server, browser):
    d = browser
    problems: list[str] = []

    # sign in: the pages ask for the token once
    d.get(server + "/client")
    _wait(d, EC.presence_of_element_located((By.ID, "token")))
    assert "/login" in d.current_url
    problems += _axe(d, "login")
    d.find_element(By.ID, "token").send_keys("wrong-token-wrong-token")
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert "not the token" in _wait(d, EC.presence_of_element_located((By.ID, "login-error"))).text
    d.find_element(By.ID, "token").send_keys(TOKEN)
    d.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(d, EC.presence_of_element_located((By.ID, "f-previous_title")))
    assert d.current_url.endswith("/client")
    problems += _axe(d, "client (empty)")

    # keyboard: the first Tab reaches the skip link, which moves the focus to the content
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("class") == "skip"
    d.switch_to.active_element.send_keys(Keys.ENTER)
    assert d.switch_to.active_element.get_attribute("id") == "main"

    # a Spanish-speaking nurse from Cuba who needs income now, typed and sent with the keyboard
    d.find_element(By.ID, "f-credential").send_keys("Licenciatura en Enfermería")
    d.find_element(By.ID, "f-country").send_keys("CU")
    Select(d.find_element(By.ID, "f-language")).select_by_value("es")
    d.find_element(By.ID, "f-english_level").send_keys("B1")
    d.find_element(By.ID, "f-years_experience").send_keys("8")
    d.find_element(By.ID, "f-zip").send_keys("40214")
    d.find_element(By.ID, "f-needs_income_now").send_keys(Keys.SPACE)
    d.find_element(By.ID, "f-budget_usd").send_keys("500")
    d.find_element(By.ID, "f-previous_title").send_keys("enfermera", Keys.ENTER)
    chosen = _wait(d, EC.presence_of_element_located((By.ID, "chosen-occupation")))
    assert chosen.text == "Registered Nurses"
    route = _section_text(d, "h-route")
    assert "NCLEX" in route and "Registered Nurses" in route
    bridge = _section_text(d, "h-bridge")
    bridge_title = d.find_element(By.XPATH, "//*[@id='h-bridge']/ancestor::section[1]//strong").text
    assert bridge_title and bridge_title != "Registered Nurses", bridge
    assert d.find_elements(By.CSS_SELECTOR, "#plan svg.chart")          # the month-by-month chart
    money = _section_text(d, "h-money")
    assert "Loan from the fund" in money and "out of pocket" in money
    openings = _section_text(d, "h-openings")
    assert "Apply now" in openings and "After the licence" in openings and "OPN-" in openings
    assert _no_horizontal_scroll(d)
    problems += _axe(d, "client (nurse)")
    _shot(d, "client_nurse_1366")
    _shot(d, "client_nurse_full", full=True)

    # another candidate: Licensed Practical Nurses -> the plan follows
    radio = d.find_element(By.CSS_SELECTOR, "input[name=onet_code][value='29-2061.00']")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", radio)
    radio.click()
    d.find_element(By.ID, "use-occupation").click()
    _wait(d, EC.text_to_be_present_in_element((By.ID, "chosen-occupation"), "Licensed Practical"))
    route2 = _section_text(d, "h-route")
    assert route2 != route and "Licensed Practical" in route2 and "NCLEX-PN" in route2

    # back to the nurse (automatic) and the printable plan in Spanish, then in Arabic
    auto = d.find_element(By.ID, "cand-auto")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", auto)
    auto.click()
    d.find_element(By.ID, "use-occupation").click()
    _wait(d, EC.text_to_be_present_in_element((By.ID, "chosen-occupation"), "Registered Nurses"))
    from matcher.i18n import load_locale

    main_window = d.current_window_handle
    from matcher.i18n import OccupationNames

    names = OccupationNames().fit()
    for lang, direction in (("es", "ltr"), ("ar", "rtl"), ("en", "ltr"), ("fr", "ltr"), ("uk", "ltr")):
        button = d.find_element(By.CSS_SELECTOR, f"button[name=print_lang][value='{lang}']")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        _wait(d, lambda drv: len(drv.window_handles) == 2)
        d.switch_to.window(next(h for h in d.window_handles if h != main_window))
        _wait(d, EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice")))
        html = d.find_element(By.TAG_NAME, "html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (lang, direction)
        phrases = load_locale(lang).phrases
        assert d.find_element(By.CSS_SELECTOR, "p.notice").text == phrases["orientation_notice"]
        assert d.find_element(By.CSS_SELECTOR, "h1").text == phrases["title"]
        assert "NCLEX" in d.page_source
        # the occupation in the client's language (ESCO, or the glossary for uk) beside the English title
        meta = d.find_element(By.CSS_SELECTOR, "header .meta").text
        if lang != "en":
            assert f"{names.name('29-1141.00', lang)} (Registered Nurses)" in meta
        # the stylesheet is served (CSP: no inline style) and printing gives one page
        assert d.execute_script("return getComputedStyle(document.querySelector('p.notice')).borderTopStyle") == "solid"
        assert _pdf_pages(d) == 1
        problems += _axe(d, f"printable plan ({lang})")
        if lang in ("es", "ar"):
            _shot(d, f"plan_{lang}", full=True)
        d.close()
        d.switch_to.window(main_window)

    # the batch page: the sample intake, progress, the scored file with every row in order
    d.get(server + "/batch")
    problems += _axe(d, "batch")
    d.find_element(By.ID, "f-file").send_keys(str(SAMPLE))
    d.find_element(By.ID, "upload").click()
    _wait(d, EC.presence_of_element_located((By.ID, "download-csv")), timeout=180)
    assert "Done: 66 rows" in d.find_element(By.ID, "job-status").text
    assert d.find_elements(By.CSS_SELECTOR, "#problems tbody tr")          # rows with messages are listed
    problems += _axe(d, "batch (done)")
    _shot(d, "batch_done", full=True)
    d.find_element(By.ID, "download-csv").click()
    _wait(d, lambda drv: [p for p in drv.downloads.glob("*.csv")], timeout=30)
    got = pd.read_csv(next(d.downloads.glob("*.csv")), dtype=str, keep_default_na=False)
    sent = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert list(got["client_id"]) == list(sent["client_id"])             # every row, in order
    assert set(got["status"]) <= {"ok", "partial", "error"} and (got["status"] == "ok").any()

    # the opening page: the sample intake's clients ranked for one loaded opening
    d.get(server + "/openings")
    problems += _axe(d, "openings")
    d.find_element(By.ID, "f-intake").send_keys(str(SAMPLE))
    Select(d.find_element(By.ID, "f-opening")).select_by_value("OPN-0097")      # a Registered Nurse opening
    d.find_element(By.ID, "rank").click()
    table = _wait(d, EC.presence_of_element_located((By.ID, "ranked")))
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    unranked = d.find_elements(By.XPATH, "//h3[.='Clients not ranked']/following-sibling::ul[1]/li")
    assert len(rows) + len(unranked) == len(sent)
    top_client = rows[0].find_element(By.TAG_NAME, "th").text
    top_row = got[got["client_id"] == top_client].iloc[0]
    assert top_row["onet_code"].startswith("29-1141"), top_row["onet_code"]   # a nurse tops a nurse opening
    problems += _axe(d, "openings (ranked)")
    _shot(d, "openings_ranked", full=True)

    # the impact report: the scored sample just downloaded and the sample outcomes
    d.get(server + "/report")
    problems += _axe(d, "report form")
    d.find_element(By.ID, "f-scored").send_keys(str(next(d.downloads.glob("*.csv"))))
    d.find_element(By.ID, "f-outcomes").send_keys(str(ROOT / "examples" / "outcomes_sample.csv"))
    d.find_element(By.ID, "f-asof").send_keys("2026-12-31")
    d.find_element(By.ID, "make-report").click()
    _wait(d, EC.presence_of_element_located((By.ID, "h-outcomes")))
    assert d.find_element(By.TAG_NAME, "h1").text == "Impact report"
    assert d.find_elements(By.CSS_SELECTOR, "#chart-loan_demand svg path")
    assert d.find_elements(By.CSS_SELECTOR, "#table-overdue tbody tr")
    assert "unknown event 'promoted'" in d.page_source
    problems += _axe(d, "report")
    _shot(d, "report", full=True)
    d.back()

    # phone width: the client page still fits, without sideways scrolling
    d.set_window_size(390, 844)
    d.get(server + "/client")
    d.find_element(By.ID, "f-previous_title").send_keys("soldador", Keys.ENTER)
    _wait(d, EC.presence_of_element_located((By.ID, "chosen-occupation")))
    assert _no_horizontal_scroll(d)
    problems += _axe(d, "client (phone)")
    _shot(d, "client_phone")
    d.set_window_size(1366, 768)

    assert not problems, "\n".join(problems)


def test_longest_sample_plans_print_on_one_page(browser, tmp_path):
    """The sample intake's four plans with the most steps, in every language, print on one page."""
    from matcher.engine import Engine
    from matcher.i18n import available_languages

    engine = Engine()
    records = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False).to_dict("records")
    plans = [a.plan for a in engine.assess_many(records) if a.plan is not None]
    size = lambda p: sum(len(x.steps) for x in (p.route, p.bridge) if x is not None) + len(p.caveats)
    longest = sorted(plans, key=size, reverse=True)[:4]
    pages = {}
    for i, plan in enumerate(longest):
        for lang in available_languages():
            f = tmp_path / f"plan_{i}_{lang}.html"
            f.write_text(engine.plan_html(plan, lang), encoding="utf-8")     # the CLI's file: inline CSS
            browser.get(f.as_uri())
            pages[(i, plan.client["onet_code"], lang)] = _pdf_pages(browser)
    assert len(pages) == 4 * len(available_languages())
    assert {k: v for k, v in pages.items() if v != 1} == {}


def test_caseload_in_the_browser(server, browser):
    """Save a client and the plan, record an outcome, see the client overdue once the clock moves
    past the planned licence, and open the caseload's impact report (issue 15)."""
    d = browser
    d.set_window_size(1366, 768)
    problems: list[str] = []
    d.get(server + "/client")
    if "/login" in d.current_url:
        d.find_element(By.ID, "token").send_keys(TOKEN, Keys.ENTER)
        _wait(d, EC.presence_of_element_located((By.ID, "f-previous_title")))
    d.find_element(By.ID, "f-zip").send_keys("40214")
    d.find_element(By.ID, "f-previous_title").send_keys("enfermera", Keys.ENTER)
    _wait(d, EC.presence_of_element_located((By.ID, "save-client")))
    d.find_element(By.ID, "f-consent").send_keys(date.today().isoformat())
    button = d.find_element(By.ID, "save-client")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    _wait(d, EC.presence_of_element_located((By.ID, "add-event")))
    assert "Registered Nurses" in d.page_source and d.find_element(By.ID, "client-state").text == "on time"
    problems += _axe(d, "client history")
    d.find_element(By.ID, "f-date").send_keys(date.today().isoformat())
    Select(d.find_element(By.ID, "f-event")).select_by_value("hired")
    d.find_element(By.ID, "f-occ").send_keys("31-1131.00")
    d.find_element(By.ID, "f-wage").send_keys("17.25")
    d.find_element(By.ID, "add-event").click()
    _wait(d, EC.text_to_be_present_in_element((By.ID, "events"), "hired"))
    _shot(d, "caseload_client", full=True)
    # the clock moves two years on: the licence planned at about ten months is overdue
    later = (date.today() + timedelta(days=730)).isoformat()
    d.get(server + f"/caseload?as_of={later}&overdue=yes")
    rows = d.find_elements(By.CSS_SELECTOR, "#caseload tbody tr")
    assert rows and "overdue" in rows[0].text and "licence" in rows[0].text
    problems += _axe(d, "caseload")
    _shot(d, "caseload_overdue")
    d.find_element(By.LINK_TEXT, "Impact report of the caseload").click()
    _wait(d, EC.presence_of_element_located((By.ID, "h-outcomes")))
    assert d.find_element(By.TAG_NAME, "h1").text == "Impact report"
    assert not problems, "\n".join(problems)
