"""Issue 10 at the command line and in the library: outputs, row errors, bounds, values checked
against the world.  (Reading and writing details: tests/test_io_safety.py; model loading:
tests/test_artifact_safety.py; random files: tests/test_fuzz.py.)"""
from __future__ import annotations

import json
import time

import pandas as pd
import pytest

from matcher.cli import main
from matcher.errors import InputError
from matcher.intake import parse_row, resolve_columns
from matcher.geo import Geography

INTAKE = ("client_id,previous_title,credential,zip,notes\n"
          "C1,Registered nurse,BSN,40214,IELTS 7\n"
          "C2,Welder,,47130,\n")


@pytest.fixture(scope="module")
def matcher_model():
    from matcher import TitleMatcher

    return TitleMatcher.load()


def test_output_equal_to_input_is_refused(tmp_path, capsys):
    f = tmp_path / "intake.csv"
    f.write_text(INTAKE, encoding="utf-8")
    before = f.read_bytes()
    link = tmp_path / "same.csv"
    link.symlink_to(f)
    for out in (f, link):
        assert main(["score", str(f), "-o", str(out), "--no-progress"]) == 2
        assert "overwrite" in capsys.readouterr().err
    assert f.read_bytes() == before
    assert main(["normalize", str(f), "-c", "previous_title", "-o", str(f)]) == 2


def test_unwritable_output_is_one_line(tmp_path, capsys, monkeypatch):
    f = tmp_path / "intake.csv"
    f.write_text(INTAKE, encoding="utf-8")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["score", str(f), "-o", str(blocker / "out.csv"), "--no-progress"]) == 2   # parent is a file
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "Traceback" not in err

    import matcher.io as mio

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", str(tmp_path / "locked"))
    monkeypatch.setattr(mio.tempfile, "mkstemp", denied)
    assert main(["score", str(f), "-o", str(tmp_path / "locked" / "out.csv"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "Permission denied" in err and err.count("\n") == 1


def test_malformed_jsonl_line_is_a_row_error_in_place(tmp_path):
    f = tmp_path / "intake.jsonl"
    rows = [json.dumps({"client_id": "C1", "previous_title": "nurse", "credential": ""}),
            '{"client_id": "C2", "previous_title": "cook", "credential": ',      # broken
            json.dumps({"client_id": "C3", "previous_title": "welder", "credential": ""})]
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["score", str(f), "-o", str(out), "--no-progress", "--top-openings", "0"]) == 0
    d = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert d["status"].tolist()[1] == "error" and "line 2" in d["messages"][1]
    assert d["client_id"].tolist()[0] == "C1" and d["client_id"].tolist()[2] == "C3"
    assert d["status"][0] != "error" and d["status"][2] != "error"


def test_xlsx_with_two_sheets_needs_a_choice(tmp_path, capsys):
    f = tmp_path / "intake.xlsx"
    with pd.ExcelWriter(f) as w:
        pd.DataFrame({"client_id": ["A1"], "previous_title": ["nurse"], "credential": [""]}).to_excel(w, sheet_name="June", index=False)
        pd.DataFrame({"client_id": ["B1"], "previous_title": ["cook"], "credential": [""]}).to_excel(w, sheet_name="July", index=False)
    out = tmp_path / "o.csv"
    assert main(["score", str(f), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "June" in err and "July" in err and "--sheet" in err
    assert main(["score", str(f), "-o", str(out), "--no-progress", "--sheet", "all", "--top-openings", "0"]) == 0
    d = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert d["client_id"].tolist() == ["A1", "B1"] and d["source_sheet"].tolist() == ["June", "July"]


def test_huge_titles_are_cut_and_fast(matcher_model):
    for size in (1_000_000, 10_000_000):
        t = time.time()
        r = matcher_model.match("Registered Nurse " + "x" * size)
        assert time.time() - t < 2.0 and len(r.query) <= 200


def test_invisible_characters_are_cleaned(matcher_model, tmp_path):
    assert matcher_model.match("Nur\x00se").onet_code == matcher_model.match("nurse").onet_code
    assert matcher_model.match("nu\u200brse").onet_code == matcher_model.match("nurse").onet_code
    f = tmp_path / "t.csv"
    f.write_text("title\nNur\x00se\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert main(["normalize", str(f), "-c", "title", "-o", str(out), "--no-progress"]) == 0
    assert b"\x00" not in out.read_bytes()


def test_match_many_refuses_a_bare_string(matcher_model):
    with pytest.raises(InputError, match="not one string"):
        matcher_model.match_many("nurse")


@pytest.mark.parametrize("zip_in,ok", [("40214", True), ("40214-1234", True), ("402140", False),
                                       ("12345678901234567890", False), ("00000", False), ("90210", True)])
def test_zips_are_checked_against_real_zip_codes(zip_in, ok):
    cols = resolve_columns(["client_id", "previous_title", "credential", "zip"])
    rec = parse_row({"client_id": "C", "previous_title": "nurse", "credential": "", "zip": zip_in}, cols,
                    geography=Geography())
    assert bool(rec.zip) == ok
    if not ok:
        assert any("ZIP" in m for m in rec.messages)


def test_california_zip_for_a_louisville_client_is_said(tmp_path):
    f = tmp_path / "intake.csv"
    f.write_text("client_id,previous_title,credential,zip\nC1,Registered nurse,,90210\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    assert main(["score", str(f), "-o", str(out), "--no-progress", "--top-openings", "0"]) == 0
    d = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert "no licensing data for state 'CA'" in d["messages"][0] and d["licence_state"][0] == "KY"


@pytest.mark.parametrize("budget", ["nan", "inf", "-inf", "1e308"])
def test_budgets_must_be_finite_and_bounded(budget):
    cols = resolve_columns(["client_id", "previous_title", "credential", "budget_usd"])
    rec = parse_row({"client_id": "C", "previous_title": "nurse", "credential": "", "budget_usd": budget}, cols)
    assert rec.budget_usd is None and any("budget_usd" in m for m in rec.messages)


def test_sigterm_during_score_leaves_no_temporary_file(tmp_path):
    """`matcher score` killed with SIGTERM mid-run: exit 143, no hidden .part file with client notes."""
    import signal
    import subprocess
    import sys

    rows = ["client_id,previous_title,credential,notes"]
    rows += [f"C{i},Registered nurse {i % 997},BSN,private note {i}" for i in range(60_000)]
    src = tmp_path / "intake.csv"
    src.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    p = subprocess.Popen([sys.executable, "-m", "matcher.cli", "score", str(src), "-o", str(out_dir / "s.csv"),
                          "--no-progress", "--n-jobs", "1", "--chunk-size", "2000", "--top-openings", "0"],
                         stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not list(out_dir.glob(".*")):   # wait until the temporary file exists
        time.sleep(0.2)
    assert list(out_dir.glob(".*")), "the run never started writing"
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)
    assert p.returncode in (143, -signal.SIGTERM)
    assert list(out_dir.iterdir()) == []
