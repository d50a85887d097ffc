import subprocess
import sys

import pandas as pd
import pytest

from matcher.cli import main
from matcher.io import read_table, write_table


def run(*args):
    return main(list(args))


@pytest.mark.parametrize("ext", ["csv", "xlsx", "jsonl", "parquet"])
def test_normalize_file_keeps_every_row_in_order(tmp_path, ext):
    titles = ["Registered Nurse", "", "Welder - 2nd Shift", "????", "Registered Nurse", "cocinero de línea", "=1+1"]
    src = write_table(pd.DataFrame({"id": [str(i) for i in range(len(titles))], "job": titles,
                                    "status": ["keep"] * len(titles)}), tmp_path / f"in.{ext}", safe=False)
    out = tmp_path / f"out.{ext}"
    assert run("normalize", str(src), "-c", "job", "-o", str(out), "--top", "3", "--no-progress") == 0
    df = read_table(out)
    assert list(df["id"]) == [str(i) for i in range(len(titles))]
    for col in ["onet_code", "onet_title", "soc_code", "confidence", "status", "top_codes", "explanation", "language"]:
        assert col in df.columns
    assert list(df["status_input"]) == ["keep"] * len(titles)       # a clashing input column is kept, renamed
    assert df.loc[0, "onet_code"] == "29-1141.00" and df.loc[4, "onet_code"] == "29-1141.00"
    assert df.loc[1, "status"] == "no_match" and df.loc[3, "status"] == "no_match"
    assert len(df.loc[0, "top_codes"].split("|")) == 3
    assert df.loc[5, "language"] == "es"


def test_missing_columns_are_all_listed_without_echoing_the_header(tmp_path, capsys):
    src = write_table(pd.DataFrame({"title": ["RN"]}), tmp_path / "in.csv")
    assert run("normalize", str(src), "-c", "job", "-o", str(tmp_path / "o.csv"), "--language-column", "lang") == 2
    err = capsys.readouterr().err
    assert "job" in err and "lang" in err and "1 column" in err and "title" not in err
    assert not (tmp_path / "o.csv").exists()


def test_headerless_intake_never_prints_client_data(tmp_path, capsys):
    """A CSV without a header row: the error names what is missing, never the first client's cells."""
    f = tmp_path / "intake.csv"
    f.write_text("CL-1,Maria Lopez,+1 502 555 0100,Enfermera,Licenciatura\n"
                 "CL-2,Ahmed Said,+1 502 555 0199,Pharmacist,B.Pharm\n", encoding="utf-8")
    assert run("score", str(f), "-o", str(tmp_path / "o.csv"), "--no-progress") == 2
    err = capsys.readouterr().err
    assert "missing required column" in err
    for value in ("Maria", "555", "Enfermera", "CL-1"):
        assert value not in err


def test_internal_errors_are_one_line_without_traceback(tmp_path, capsys, monkeypatch):
    import matcher.cli as cli

    def boom(args):
        raise RuntimeError("secret cell value Maria Lopez")

    monkeypatch.setattr(cli, "cmd_pathways", boom)
    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_func(parser(), "pathways", boom))
    assert run("pathways", "--onet", "29-1141.00") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (RuntimeError)" in err and "Maria" not in err
    with pytest.raises(RuntimeError):
        run("pathways", "--onet", "29-1141.00", "--debug")


def _with_func(parser, command, func):
    for action in parser._subparsers._group_actions:
        action.choices[command].set_defaults(func=func)
    return parser


@pytest.mark.parametrize("argv", [["score", "x.csv", "-o", "y.csv", "--top-openings", "1000000000"],
                                  ["score", "x.csv", "-o", "y.csv", "--top-pathways", "100000000"],
                                  ["pathways", "--onet", "29-1141.00", "--top", "100000000"],
                                  ["pathways", "--onet", "29-1141.00", "--budget", "nan"],
                                  ["pathways", "--onet", "29-1141.00", "--budget", "1e308"],
                                  ["pathways", "--onet", "29-1141.00", "--zip", "402140"]])
def test_out_of_range_options_are_refused_at_once(argv, capsys):
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1 and "$nan" not in err


def test_text_mode_prints_matches(capsys):
    assert run("normalize", "--text", "RN - Hospice") == 0
    out = capsys.readouterr().out
    assert "29-1141.00" in out and "Registered Nurses" in out


def test_console_script_entry_point():
    r = subprocess.run([sys.executable, "-m", "matcher.cli", "normalize", "--text", "Welder", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '"onet_code": "51-4121.00"' in r.stdout
