"""Issue 10, "nothing lost, nothing leaked": reading every input as text with row errors in place,
file errors as one-line InputErrors, the spreadsheet cell guard, atomic and signal-safe writes."""
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from matcher.errors import InputError
from matcher.io import (
    MAX_CELL_CHARS,
    ROW_ERROR,
    ROW_LINE,
    TableWriter,
    atomic_write_text,
    open_table,
    read_table,
    refuse_same_file,
    write_table,
)

SECRET = "SSN-123-45-6789"
ROOT = str(Path(__file__).resolve().parents[1])


def _all(path, **kw):
    return pd.concat(list(open_table(path, **kw)), ignore_index=True)


# --- reading ------------------------------------------------------------------------------------
def test_binary_garbage_csv_is_one_line_error_without_cell_values(tmp_path):
    p = tmp_path / "garbage.csv"
    p.write_bytes(bytes(range(256)) * 4 + SECRET.encode() + os.urandom(2000))
    with pytest.raises(InputError) as e:
        open_table(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and SECRET not in msg and "binary" in msg


def test_zip_named_csv_is_explained(tmp_path):
    p = tmp_path / "book.csv"
    write_table(pd.DataFrame({"a": ["1"]}), tmp_path / "book.xlsx")
    p.write_bytes((tmp_path / "book.xlsx").read_bytes())
    with pytest.raises(InputError, match="xlsx"):
        open_table(p)


def test_huge_cell_is_a_row_error_in_place(tmp_path):
    p = tmp_path / "big.csv"
    p.write_text("id,notes,city\n1,short,A\n2," + "x" * 200_000 + ",B\n3,fine,C\n", encoding="utf-8")
    df = _all(p)
    assert list(df["id"]) == ["1", "2", "3"] and list(df["city"]) == ["A", "B", "C"]
    assert df.loc[1, "notes"] == "" and df.loc[0, "notes"] == "short" and df.loc[2, "notes"] == "fine"
    err = df.loc[1, ROW_ERROR]
    assert "line 3" in err and "notes" in err and str(MAX_CELL_CHARS) in err and "xxx" not in err
    assert list(df[ROW_ERROR])[::2] == ["", ""]
    assert list(df[ROW_LINE]) == [2, 3, 4]


@pytest.mark.parametrize("encoding,name", [("utf-16", "utf-16"), ("utf-8-sig", "utf-8-sig"),
                                           ("utf-8", "utf-8"), ("cp1252", "cp1252")])
def test_encodings_are_detected_and_named(tmp_path, encoding, name):
    p = tmp_path / "enc.csv"
    p.write_bytes("zip,title\n02071,Técnico en enfermería\n40214,Soldador\n".encode(encoding))
    r = open_table(p)
    assert r.encoding == name
    df = pd.concat(list(r))
    assert list(df.columns[:2]) == ["zip", "title"]          # no BOM left in the first name
    assert list(df["zip"]) == ["02071", "40214"] and df["title"].iloc[0] == "Técnico en enfermería"


def test_undecodable_line_is_marked_but_kept(tmp_path):
    p = tmp_path / "mixed.csv"
    body = "id,title\n" + "".join(f"{i},Enfermería {i}\n" for i in range(20))
    p.write_bytes(body.encode("utf-8") + "99,Técnico\n".encode("cp1252") + b"100,ok\n")
    r = open_table(p)
    df = pd.concat(list(r), ignore_index=True)
    assert r.encoding == "utf-8"
    bad = df[df["id"] == "99"].iloc[0]
    assert "undecodable" in bad[ROW_ERROR] and "line 22" in bad[ROW_ERROR]
    assert bad["title"].startswith("T") and bad["title"].endswith("cnico")
    assert df[df["id"] != "99"][ROW_ERROR].eq("").all() and df["id"].iloc[-1] == "100"


def _two_sheet_book(path):
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        pd.DataFrame({"id": ["1", "2"], "title": ["RN", "Cook"]}).to_excel(xw, sheet_name="Clients", index=False)
        pd.DataFrame({"id": ["3"], "zip": ["02071"]}).to_excel(xw, sheet_name="More", index=False)
    return path


def test_xlsx_with_two_sheets_needs_sheet(tmp_path):
    p = _two_sheet_book(tmp_path / "two.xlsx")
    with pytest.raises(InputError) as e:
        open_table(p)
    msg = str(e.value)
    assert "Clients" in msg and "More" in msg and "--sheet" in msg and "\n" not in msg
    with pytest.raises(InputError, match="Clients"):
        open_table(p, sheet="Nope")
    r = open_table(p, sheet="More")
    assert r.sheets == ["Clients", "More"] and r.encoding is None and r.format == "xlsx"
    df = pd.concat(list(r))
    assert list(df["zip"]) == ["02071"] and list(df[ROW_LINE]) == [2]


def test_xlsx_all_sheets_in_order_with_source_sheet(tmp_path):
    p = _two_sheet_book(tmp_path / "two.xlsx")
    df = _all(p, sheet="all")
    assert list(df["id"]) == ["1", "2", "3"]
    assert list(df["source_sheet"]) == ["Clients", "Clients", "More"]
    assert list(df["zip"]) == ["", "", "02071"] and list(df[ROW_LINE]) == [2, 3, 2]
    assert list(df.columns)[-3:] == ["source_sheet", ROW_LINE, ROW_ERROR]


def test_single_sheet_xlsx_numbers_and_dates_as_text(tmp_path):
    import datetime as dt

    import openpyxl
    p = tmp_path / "typed.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "zip", "start", "wage"])
    ws.append([1, 40214, dt.datetime(2024, 3, 1), 17.5])
    ws.append([2.0, None, None, 20.0])
    wb.save(p)
    df = _all(p)
    assert list(df["id"]) == ["1", "2"] and list(df["zip"]) == ["40214", ""]
    assert list(df["start"]) == ["2024-03-01", ""] and list(df["wage"]) == ["17.5", "20"]


def test_parquet_ints_floats_and_nulls_are_text_without_dot_zero(tmp_path):
    p = tmp_path / "typed.parquet"
    pd.DataFrame({"id": [1, 2, 3], "zip": [40214.0, 2071.0, None],
                  "n": pd.array([1, None, 7], dtype="Int64")}).to_parquet(p, index=False)
    df = _all(p)
    assert list(df["id"]) == ["1", "2", "3"]
    assert list(df["zip"]) == ["40214", "2071", ""] and list(df["n"]) == ["1", "", "7"]
    assert list(df[ROW_LINE]) == [1, 2, 3]


def test_corrupt_parquet_and_xlsx_are_one_line_errors(tmp_path):
    for name in ("bad.parquet", "bad.xlsx"):
        p = tmp_path / name
        p.write_bytes(b"PK\x03\x04" + SECRET.encode() * 50)
        with pytest.raises(InputError) as e:
            list(open_table(p))
        assert "\n" not in str(e.value) and SECRET not in str(e.value) and name in str(e.value)


def test_jsonl_malformed_line_is_a_row_error(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"id": "007", "zip": 2071}\n\n{"id": "8", "title": "RN"\n[1, 2]\n{"id": 9.0}\n', encoding="utf-8")
    df = _all(p)
    assert list(df["id"]) == ["007", "", "", "9.0"] and list(df["zip"]) == ["2071", "", "", ""]
    assert list(df[ROW_LINE]) == [1, 3, 4, 5]
    assert "line 3" in df.loc[1, ROW_ERROR] and "JSON" in df.loc[1, ROW_ERROR]
    assert "line 4" in df.loc[2, ROW_ERROR] and df.loc[0, ROW_ERROR] == df.loc[3, ROW_ERROR] == ""
    with pytest.warns(UserWarning, match="2 row"):
        whole = read_table(p)
    assert ROW_LINE not in whole.columns and [n for n, _ in whole.attrs["row_errors"]] == [3, 4]


def test_line_numbers_with_embedded_newline(tmp_path):
    p = tmp_path / "nl.csv"
    p.write_text('id,notes\n1,"two\nlines"\n\n2,plain\n3,"a\r\nb\r\nc"\n4,x\n', encoding="utf-8")
    df = _all(p)
    assert list(df["id"]) == ["1", "2", "3", "4"]
    assert list(df[ROW_LINE]) == [2, 5, 6, 9]
    assert df.loc[0, "notes"] == "two\nlines"


def test_empty_and_header_only(tmp_path):
    p = tmp_path / "blank.csv"
    p.write_bytes(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(InputError, match="empty"):
        open_table(p)
    h = tmp_path / "header.csv"
    h.write_text("id,title\n", encoding="utf-8")
    chunks = list(open_table(h))
    assert len(chunks) == 1 and list(chunks[0].columns) == ["id", "title", ROW_LINE, ROW_ERROR] and chunks[0].empty


def test_chunks_and_reserved_names(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("id,__line__\n" + "".join(f"{i},x\n" for i in range(5)), encoding="utf-8")
    r = open_table(p, chunksize=2)
    chunks = list(r)
    assert [len(c) for c in chunks] == [2, 2, 1] and r.columns == ["id", "__line___input"]
    assert list(pd.concat(chunks)[ROW_LINE]) == [2, 3, 4, 5, 6] and r.rows == 5 and r.error_rows == 0


# --- writing ------------------------------------------------------------------------------------
PAYLOADS = ["=1+1", "+1+1", "-1+1", "@SUM(1+1)", ' =HYPERLINK("http://x")', "\n=1+1", "  +1+1", "\t=1",
            "\r=1", "-inf", "+nan", "=cmd|' /C calc'!A0"]
KEEP = ["-12", "-3.5", "nurse", ""]


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_neutralized(tmp_path, ext, payload):
    df = pd.DataFrame({"id": ["1", "2", "3", "4", "5"], "cell": [payload] + KEEP})
    back = read_table(write_table(df, tmp_path / f"o.{ext}"))
    assert back.loc[0, "cell"].startswith("'"), repr(back.loc[0, "cell"])
    assert list(back["cell"])[1:] == KEEP


def test_control_characters_are_removed(tmp_path):
    df = pd.DataFrame({"a": ["x\x00y", "b\x07e\x1bl\x7fl", "tab\tkept"], "b": ["1", "2", "3"]})
    p = write_table(df, tmp_path / "o.csv")
    raw = p.read_bytes()
    assert b"\x00" not in raw and b"\x07" not in raw and b"\x1b" not in raw and b"\x7f" not in raw
    assert list(read_table(p)["a"]) == ["xy", "bell", "tab\tkept"]
    for ext in ("jsonl", "parquet", "xlsx"):
        assert list(read_table(write_table(df, tmp_path / f"o.{ext}"))["a"]) == ["xy", "bell", "tab\tkept"]


def test_written_file_mode_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        a = write_table(pd.DataFrame({"a": ["1"]}), tmp_path / "o.csv")
        b = atomic_write_text(tmp_path / "o.txt", "hi")
        with TableWriter(tmp_path / "o.parquet") as w:
            w.write(pd.DataFrame({"a": ["1"]}))
    finally:
        os.umask(old)
    for p in (a, b, tmp_path / "o.parquet"):
        assert (p.stat().st_mode & 0o777) == 0o644, p


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_removes_the_temporary_file(tmp_path, sig):
    # the child starts as an interactive Python would: a test run started in the background (nohup,
    # '&') hands its children SIGINT ignored, and an ignored signal rightly stays ignored
    script = textwrap.dedent(f"""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import pandas as pd
        sys.path.insert(0, {ROOT!r})
        from matcher.io import TableWriter
        w = TableWriter({str(tmp_path / 'out.csv')!r})
        w.write(pd.DataFrame({{"a": ["1", "2"]}}))
        print("ready", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        assert list(tmp_path.glob(".out.csv.*"))                   # the temporary file exists
        proc.send_signal(sig)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert rc in (-sig, 128 + sig)                                  # 143 / 130 in a shell
    assert list(tmp_path.iterdir()) == []


def test_handlers_are_restored_after_writing(tmp_path):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with TableWriter(tmp_path / "o.csv") as w:
        assert signal.getsignal(signal.SIGTERM) is not before[0]
        w.write(pd.DataFrame({"a": ["1"]}))
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_refuse_same_file_through_symlink(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a\n1\n")
    link = tmp_path / "link.csv"
    link.symlink_to(src)
    with pytest.raises(InputError, match="overwrite the input file"):
        refuse_same_file(link, src)
    with pytest.raises(InputError):
        refuse_same_file(tmp_path / "sub" / ".." / "in.csv", None, link)
    refuse_same_file(tmp_path / "out.csv", src, link, None)      # different: no error


def test_lone_cr_in_a_cell_is_data_and_cr_only_files_work(tmp_path):
    p = tmp_path / "cr.csv"
    pd.DataFrame({"id": ["k0", "k1"], "c": ["\r=1", "a\rb"]}).to_csv(p, index=False)   # pandas: CR unquoted
    df = _all(p)
    assert list(df["id"]) == ["k0", "k1"] and list(df["c"]) == ["\r=1", "a\rb"] and list(df[ROW_LINE]) == [2, 3]
    mac = tmp_path / "mac.csv"
    mac.write_bytes(b'id,t\r1,a\r2,"x\ry"\r3,c')
    df = _all(mac)
    assert list(df["id"]) == ["1", "2", "3"] and df.loc[1, "t"] == "x\ry" and list(df[ROW_LINE]) == [2, 3, 5]


def test_nul_in_a_data_cell_is_read_not_rejected(tmp_path):
    p = tmp_path / "nul.csv"
    p.write_bytes(b"id,title\n1,nurse\x00\n2,cook\n")
    df = _all(p)
    assert list(df["title"]) == ["nurse\x00", "cook"]
    assert list(read_table(write_table(df, tmp_path / "o.csv"))["title"]) == ["nurse", "cook"]


def test_nested_guards_keep_handlers_until_the_last_exit(tmp_path):
    from matcher.io import cleanup_on_signals
    before = signal.getsignal(signal.SIGTERM)
    with cleanup_on_signals() as outer:
        with cleanup_on_signals([tmp_path / "a"]):
            pass
        assert signal.getsignal(signal.SIGTERM) is not before       # the outer guard is still active
        outer.add(tmp_path / "b")
    assert signal.getsignal(signal.SIGTERM) is before
