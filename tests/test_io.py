import pandas as pd
import pytest

from matcher.errors import InputError
from matcher.io import TableWriter, neutralize_formulas, read_table, write_table


def test_cp1252_file_is_read(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("title,city\nTécnico en enfermería,Louisville\n".encode("cp1252"))
    df = read_table(p)
    assert df.loc[0, "title"] == "Técnico en enfermería"


def test_semicolon_csv_is_sniffed(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("title;city\nWelder;Louisville\n", encoding="utf-8")
    assert list(read_table(p).columns) == ["title", "city"]


@pytest.mark.parametrize("ext", ["csv", "xlsx", "jsonl", "parquet"])
def test_round_trip_every_format(tmp_path, ext):
    df = pd.DataFrame({"id": ["1", "2"], "title": ["RN", "=cmd|' /C calc'!A0"]})
    p = write_table(df, tmp_path / f"x.{ext}")
    back = read_table(p)
    assert list(back["id"]) == ["1", "2"]
    if ext in ("csv", "xlsx"):
        assert back.loc[1, "title"] == "'=cmd|' /C calc'!A0"
    else:
        assert back.loc[1, "title"] == "=cmd|' /C calc'!A0"


def test_neutralize_keeps_numbers_and_does_not_mutate():
    df = pd.DataFrame({"a": ["-5", "+1 555 0199", "@SUM(A1)", "ok", "-2.5"]})
    out = neutralize_formulas(df)
    assert list(out["a"]) == ["-5", "'+1 555 0199", "'@SUM(A1)", "ok", "-2.5"]
    assert df.loc[1, "a"] == "+1 555 0199"


def test_errors_are_clear(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "x.doc").write_text("hello")
    with pytest.raises(InputError, match="unsupported"):
        read_table(tmp_path / "x.doc")


def test_writer_is_atomic(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError):
        with TableWriter(target) as w:
            w.write(pd.DataFrame({"a": ["1"]}))
            raise RuntimeError("boom")
    assert not target.exists() and not list(tmp_path.glob(".*part*"))


def test_malformed_rows_are_kept(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("id,title,notes\n1,Welder,ok\n2,Cook, line,extra note\n3\n4,RN,fine\n", encoding="utf-8")
    df = read_table(p)
    assert list(df["id"]) == ["1", "2", "3", "4"]
    assert df.loc[1, "notes"] == " line,extra note" and df.loc[2, "title"] == ""


def test_parquet_is_streamed_one_row_group_per_chunk(tmp_path):
    """A Parquet output is written as it comes (one row group per chunk), not assembled in memory;
    a column empty in the first chunk is text; a chunk whose types cannot match is refused whole."""
    import pyarrow.parquet as pq

    from matcher.errors import MatcherError

    target = tmp_path / "out.parquet"
    with TableWriter(target) as w:
        w.write(pd.DataFrame({"a": ["x", "y"], "b": [None, None], "n": [1.5, 2.0]}))
        assert not target.exists()                        # published on close only
        w.write(pd.DataFrame({"b": ["later", None], "a": ["z", "w"], "n": [3.0, None]}))   # other column order
        w.write(pd.DataFrame({"a": ["\x07bell"], "b": ["b"], "n": [4.0]}))
    f = pq.ParquetFile(target)
    assert f.metadata.num_row_groups == 3 and f.metadata.num_rows == 5
    back = pd.read_parquet(target)
    assert list(back["a"]) == ["x", "y", "z", "w", "bell"]          # control characters removed
    assert list(back["b"].fillna("-")) == ["-", "-", "later", "-", "b"]
    assert back["n"].tolist()[:3] == [1.5, 2.0, 3.0]
    bad = tmp_path / "bad.parquet"
    with pytest.raises(MatcherError, match="other types"):
        with TableWriter(bad) as w:
            w.write(pd.DataFrame({"n": [1.5]}))
            w.write(pd.DataFrame({"n": ["not a number"]}))
    assert not bad.exists() and not list(tmp_path.glob(".*bad*"))


def test_parquet_row_groups_keep_the_files_line_numbers(tmp_path):
    from matcher.io import ROW_LINE, open_table

    p = tmp_path / "t.parquet"
    pd.DataFrame({"id": [str(i) for i in range(25)]}).to_parquet(p, index=False, row_group_size=10)
    part = next(iter(open_table(p, chunksize=None, row_groups=(1, 3))))
    assert list(part["id"]) == [str(i) for i in range(10, 25)]
    assert list(part[ROW_LINE]) == list(range(11, 26)) and list(part.index) == list(range(10, 25))
    with pytest.raises(InputError, match="do not exist"):
        next(iter(open_table(p, row_groups=(2, 4))))
    (tmp_path / "t.csv").write_text("id\n1\n")
    with pytest.raises(InputError, match="Parquet files only"):
        open_table(tmp_path / "t.csv", row_groups=(0, 1))
