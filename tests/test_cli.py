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


def test_missing_column_lists_what_exists(tmp_path, capsys):
    src = write_table(pd.DataFrame({"title": ["RN"]}), tmp_path / "in.csv")
    assert run("normalize", str(src), "-c", "job", "-o", str(tmp_path / "o.csv"), "--language-column", "lang") == 2
    err = capsys.readouterr().err
    assert "job" in err and "lang" in err and "title" in err
    assert not (tmp_path / "o.csv").exists()


def test_text_mode_prints_matches(capsys):
    assert run("normalize", "--text", "RN - Hospice") == 0
    out = capsys.readouterr().out
    assert "29-1141.00" in out and "Registered Nurses" in out


def test_console_script_entry_point():
    r = subprocess.run([sys.executable, "-m", "matcher.cli", "normalize", "--text", "Welder", "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '"onet_code": "51-4121.00"' in r.stdout
