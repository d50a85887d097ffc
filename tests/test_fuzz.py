"""Fuzzing `matcher score` with random intake files (issue 10).

Each example writes a random CSV / XLSX / JSONL / Parquet intake (random encodings, delimiters,
quotes, sizes, missing and extra columns, formula and control-character cells) and asserts: no
traceback, exit code 0 or 2, every input row in the output in order, no cell a spreadsheet would
execute, no leftover temporary file.  The default suite tries ``FUZZ_EXAMPLES`` (80) files; the
slow run (``pytest -m slow``) tries ``FUZZ_EXAMPLES_SLOW`` (1000).
"""
from __future__ import annotations

import io
import os
import re
from contextlib import redirect_stderr

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from matcher.cli import main

FIELDS = ["client_id", "previous_title", "credential", "country", "language", "english_level", "years_experience",
          "zip", "needs_income_now", "budget_usd", "notes"]
PAYLOADS = ["=1+1", "+1+1", "-1+1", "@SUM(1+1)", " =HYPERLINK(\"http://x\",\"y\")", "\n=1+1", "  +1+1", "\t=1",
            "\r=1", "-inf", "+nan", "=cmd|' /C calc'!A0", "nurse\x00", "nu\u200brse", "\u202eesrun"]
WORDS = ["nurse", "enfermera", "médico", "ممرضة", "медсестра", "welder", "cook", "RN - ICU", "MBBS", "B.Pharm",
         "40214", "47130", "B2", "A1", "12", "yes", "no", "3000", "", "x" * 300]
FORMULA = re.compile(r"^[\s\x00-\x1f]*[=+\-@]")
NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")    # plain numbers ('-12', '+0') are data, not formulas

cell = st.one_of(st.sampled_from(WORDS), st.sampled_from(PAYLOADS), st.text(max_size=40),
                 st.integers(-10**6, 10**6).map(str))


@st.composite
def intake(draw):
    n = draw(st.integers(0, 25))
    cols = draw(st.lists(st.sampled_from(FIELDS), unique=True, min_size=0, max_size=len(FIELDS)))
    if draw(st.integers(0, 9)) < 8:      # most files have the required columns, so rows get scored
        cols = list(dict.fromkeys(["client_id", "previous_title", "credential"] + cols))
    extra = draw(st.lists(st.sampled_from(["phone", "Notes 2", "=evil", "ñame", "id"]), unique=True, max_size=3))
    cols = [c for c in cols + extra if c != "rowkey"]
    rows = [{"rowkey": f"k{i}", **{c: draw(cell) for c in cols}} for i in range(n)]
    fmt = draw(st.sampled_from(["csv", "csv", "xlsx", "jsonl", "parquet"]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    return pd.DataFrame(rows, columns=["rowkey"] + cols), fmt, enc, sep


def _write(df: pd.DataFrame, path, fmt, enc, sep) -> bool:
    if fmt == "csv":
        try:
            text = df.to_csv(index=False, sep=sep)
            path.write_bytes(text.encode(enc))
        except UnicodeEncodeError:
            return False
    elif fmt == "xlsx":
        clean = df.map(lambda v: re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", v) if isinstance(v, str) else v)
        clean.to_excel(path, index=False)
    elif fmt == "jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        df.to_parquet(path, index=False)
    return True


@pytest.fixture(scope="module")
def engine():
    from matcher.engine import Engine

    return Engine(top_openings=0)


def _score(engine, src, out) -> int:
    """``matcher score`` on the module's engine (loaded once; the command builds its own per run):
    the same checks and the same exit codes as ``cmd_score``/``main``."""
    import sys

    from matcher.errors import MatcherError
    from matcher.io import refuse_same_file

    try:
        refuse_same_file(out, src)
        engine.score_file(src, out, n_jobs=1)
        return 0
    except MatcherError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _check(tmp_path, df, fmt, enc, sep, engine=None):
    d = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
    d.mkdir()
    src = d / f"intake.{fmt}"
    if not _write(df, src, fmt, enc, sep):
        return
    out = d / "out" / "scored.csv"
    err = io.StringIO()
    with redirect_stderr(err):
        if engine is None:
            code = main(["score", str(src), "-o", str(out), "--no-progress", "--n-jobs", "1", "--top-openings", "0"])
        else:
            code = _score(engine, src, out)
    msg = err.getvalue()
    assert code in (0, 2), msg
    assert "Traceback" not in msg
    assert not [p for p in (d / "out").glob(".*")] if (d / "out").exists() else True   # no temp file left
    if code == 2:
        assert msg.startswith("error:") and not out.exists()
        return
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    key = "rowkey" if "rowkey" in got.columns else "rowkey_input"
    assert got[key].tolist() == df["rowkey"].tolist()          # every row, in order
    for col in got.columns:
        for v in got[col]:
            assert not (FORMULA.match(v) and not NUMBER.match(v.strip())), (col, v)
            assert "\x00" not in v


@pytest.mark.filterwarnings("ignore")
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "80")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=intake())
def test_fuzz_score(tmp_path, engine, case):
    _check(tmp_path, *case, engine=engine)


def test_fuzz_cases_through_the_command_line(tmp_path):
    """A few fixed cases through ``main`` itself (a fresh engine per run, as the command does)."""
    df = pd.DataFrame({"rowkey": ["k0", "k1"], "client_id": ["=1+1", "c2"], "previous_title": ["nurse\x00", " @x"],
                       "credential": ["", "-inf"]})
    for fmt, enc in (("csv", "utf-16"), ("jsonl", "utf-8")):
        _check(tmp_path, df, fmt, enc, ";")


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES_SLOW", "1000")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=intake())
def test_fuzz_score_long(tmp_path, engine, case):
    _check(tmp_path, *case, engine=engine)
