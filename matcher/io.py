"""Read and write tables by file extension (CSV, XLSX, JSONL, Parquet).

Issue 10, "nothing lost, nothing leaked":

Reading -- :func:`open_table` returns a :class:`TableReader`, an iterator of DataFrame chunks in
which every cell is TEXT (ids and ZIPs keep their leading zeros and never gain ``.0``; missing
values are ``""``).  Two reserved columns are appended to every chunk:

* ``__line__`` (:data:`ROW_LINE`, int) -- where the row is in the file: the 1-based line of the
  row's first line for CSV/TSV (the header is line 1) and JSONL, the 1-based row of the sheet
  for XLSX (the header is row 1), the 1-based row index for Parquet and JSON;
* ``__error__`` (:data:`ROW_ERROR`, str) -- ``""``, or why the row could not be read (malformed
  JSON line, over-long CSV cell, undecodable bytes ...).  Such a row keeps its place; the cells
  that could not be read are ``""``.

Problems with the file as a whole (empty, binary, corrupt, ambiguous sheet) raise
:class:`~matcher.errors.InputError` with a one-line message.  No message ever holds a cell value:
they name the file, the line and the column instead.

Writing -- :func:`write_table`, :class:`TableWriter` and :func:`atomic_write_text` write to a
temporary file beside the target and rename it at the end; the temporary file is removed on an
exception, on SIGTERM and on SIGINT (:func:`cleanup_on_signals`), and the final file gets the
permissions the process umask allows (0644 under umask 022).  Text cells lose their control
characters, and in CSV/TSV/XLSX cells a spreadsheet would run as a formula get a leading
apostrophe (:func:`safe_cell`).  :func:`refuse_same_file` stops an output from overwriting an
input.
"""
from __future__ import annotations

import codecs
import csv
import datetime as _dt
import decimal
import json
import math
import os
import re
import signal
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Self

import pandas as pd

from .errors import InputError, MatcherError, MissingColumnsError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1")   # what TableReader.encoding can name
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

ROW_LINE = "__line__"            # reserved column: where the row is in the file (int)
ROW_ERROR = "__error__"          # reserved column: "" or why the row could not be read
RESERVED_COLUMNS = (ROW_LINE, ROW_ERROR)
SOURCE_SHEET = "source_sheet"    # added by open_table(..., sheet="all")
MAX_CELL_CHARS = 131_072         # a longer CSV cell is blanked and its row gets an __error__
                                 # (131,072 is the csv module's default field limit)
_READER_FIELD_LIMIT = 16 << 20   # the csv module's limit while reading: beyond it (an unclosed
                                 # quote swallowing the file) the record is an error row
_HEAD_BYTES = 4 << 20            # bytes sampled to detect the encoding


class RowErrorsWarning(UserWarning):
    """``read_table`` found rows that could not be read (see ``DataFrame.attrs['row_errors']``)."""


def format_of(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"{path}: unsupported file type {ext or '(none)'}; use one of "
                         f"{', '.join(sorted(set(FORMATS)))}")
    return FORMATS[ext]


# --- encodings ----------------------------------------------------------------------------------
class _Flag(threading.local):
    hit = False


_DECODE_FLAG = _Flag()


def _flag_and_replace(e: UnicodeError):
    _DECODE_FLAG.hit = True
    return "\ufffd", e.end


codecs.register_error("matcher-flag-replace", _flag_and_replace)


def _read_head(path: Path, n: int = _HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _sniff_encoding(head: bytes, truncated: bool) -> str:
    """The encoding of a text file from its first bytes: a BOM first (utf-8-sig, utf-16), then
    BOM-less UTF-16 (NUL in every other byte), then utf-8 when the lines with non-ASCII bytes
    are mostly valid UTF-8 (a few bad lines become row errors), then cp1252, then latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    half = len(sample) // 2
    if half >= 2:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.3 * half and even < 0.05 * half:
            return "utf-16-le"
        if even > 0.3 * half and odd < 0.05 * half:
            return "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if truncated and e.start >= len(head) - 4 and e.reason == "unexpected end of data":
            return "utf-8"      # a multi-byte character cut at the sample's end
    good = bad = 0
    lines = head.split(b"\n")
    if truncated:
        lines = lines[:-1]
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    if good > bad:
        return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_encoding(path: Path) -> str:
    """Kept for callers of the old helper: the encoding open_table would use."""
    p = Path(path)
    head = _read_head(p)
    return _sniff_encoding(head, len(head) < p.stat().st_size)


class _LineState:
    """Shared with the consumer of ``_decoded_lines``: ``bad`` is set when a line held bytes the
    encoding cannot decode, ``cr`` when a lone CR in a line was replaced by ``_CR_MARK`` (the
    consumer resets both); ``chars`` counts the characters yielded."""
    __slots__ = ("bad", "chars", "cr")

    def __init__(self):
        self.bad = False
        self.cr = False
        self.chars = 0


_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "cp1252", "latin-1"}
_CR_MARK = "\ufdd0"     # a Unicode noncharacter (reserved for internal use) standing for a lone CR
_LINE_PIECE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


def _physical_lines(f, encoding: str, state: _LineState) -> Iterator[str]:
    """The decoded lines of binary file ``f``, split after each LF; undecodable bytes become
    U+FFFD and set ``state.bad``."""
    if encoding in _ASCII_COMPATIBLE:
        # LF is one byte in these encodings and never part of a multi-byte character: each raw
        # line decodes on its own (fast path)
        enc = "utf-8" if encoding == "utf-8-sig" else encoding
        first = True
        for raw in f:
            if first:
                first = False
                if encoding == "utf-8-sig" and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[3:]
            try:
                yield raw.decode(enc)
            except UnicodeDecodeError:
                state.bad = True
                yield raw.decode(enc, errors="replace")
        return
    dec = codecs.getincrementaldecoder(encoding)(errors="matcher-flag-replace")
    buf = ""
    bad = False
    for raw in f:
        _DECODE_FLAG.hit = False
        buf += dec.decode(raw)
        bad = bad or _DECODE_FLAG.hit
        pos = 0
        while True:
            end = buf.find("\n", pos) + 1
            if not end:
                break
            state.bad = state.bad or bad
            bad = False
            yield buf[pos:end]
            pos = end
        buf = buf[pos:]
    _DECODE_FLAG.hit = False
    buf += dec.decode(b"", final=True)
    if buf:
        state.bad = state.bad or bad or _DECODE_FLAG.hit
        yield buf


def _decoded_lines(f, encoding: str, state: _LineState, cr_only: bool = False,
                   protect_cr: bool = True) -> Iterator[str]:
    """Lines of binary file ``f`` with their end.  Lines end at LF (or CRLF); a file whose start
    has no LF but has CRs (``cr_only``, old Mac files) has its lines end at CR.  Otherwise a lone
    CR inside a line is data (pandas writes such cells unquoted): with ``protect_cr`` it is
    handed on as ``_CR_MARK`` (the csv module would take it for a line end) and ``state.cr`` is
    set, so the consumer puts the CR back into the cells."""
    for text in _physical_lines(f, encoding, state):
        if "\r" in text:
            if cr_only:
                for m in _LINE_PIECE.finditer(text):
                    state.chars += len(m.group())
                    yield m.group()
                continue
            if protect_cr:
                n = 2 if text.endswith("\r\n") else 1 if text.endswith(("\n", "\r")) else 0
                body = text[: len(text) - n]
                if "\r" in body:
                    text = body.replace("\r", _CR_MARK) + text[len(body):]
                    state.cr = True
        state.chars += len(text)
        yield text


def _restore_cr(cells: list[str]) -> list[str]:
    return [c.replace(_CR_MARK, "\r") for c in cells]


_BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


_MAGIC = ((b"%PDF", "PDF document"), (b"\xd0\xcf\x11\xe0", "legacy Office file (.xls/.doc)"),
          (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"7z\xbc\xaf", "7-Zip archive"),
          (b"SQLite format 3\x00", "SQLite database"))


def _check_text_head(p: Path, head: bytes, encoding: str, fmt: str) -> str:
    """The decoded start of the file; InputError when it is empty or not text at all."""
    what = "JSON lines" if fmt == "jsonl" else "CSV"
    if head.startswith(b"PK\x03\x04"):
        raise InputError(f"{p}: this is an Excel workbook or a ZIP archive, not {what}; "
                         f"rename it to .xlsx or export it as {what}")
    if head.startswith(b"PAR1"):
        raise InputError(f"{p}: this is a Parquet file, not {what}; rename it to .parquet")
    if head.startswith(b"\x1f\x8b"):
        raise InputError(f"{p}: this file is compressed (gzip); decompress it first")
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head[:65536])
    first = text.lstrip("\r\n\ufeff").split("\n", 1)[0]
    if not text.strip("\r\n\t \ufeff"):
        raise InputError(f"{p}: the file is empty (no header line)")
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise InputError(f"{p}: this is a {kind}, not {what}; export the data as {what} (UTF-8) and try again")
    sample = text[:65536]
    if _BINARY_CHARS.search(first) or len(_BINARY_CHARS.findall(sample)) > max(8, 0.05 * len(sample)):
        raise InputError(f"{p}: does not look like a {what} text file (binary or undecodable data at its "
                         f"start); export the data as {what} (UTF-8) and try again")
    return text


# --- cell text ----------------------------------------------------------------------------------
def cell_text(v) -> str:
    """One value from a typed source (XLSX, Parquet, JSON) as text: None/NaN/NaT -> "",
    integral floats without ``.0`` ("40214"), dates as ISO ("2024-03-01", with the time only when
    it is not midnight), nested values as JSON."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(v, decimal.Decimal):
        if v.is_nan():
            return ""
        if v == v.to_integral_value():
            return str(int(v))
        return str(v)
    if v is pd.NaT:
        return ""
    if isinstance(v, _dt.datetime):
        if v.time() == _dt.time(0) and v.tzinfo is None:
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, ensure_ascii=False, default=str)
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(v, "tolist"):
        return cell_text(v.tolist())
    return str(v)


def _column_names(raw: list, reserved_clash: bool = True) -> list[str]:
    """Header cells as unique column names: empty -> 'Unnamed: i', duplicates -> 'name.1' (as
    pandas does); a column named like a reserved one (or source_sheet) gets '_input'."""
    names: list[str] = []
    seen: set[str] = set()
    for i, c in enumerate(raw):
        name = cell_text(c) if not isinstance(c, str) else c
        if name == "":
            name = f"Unnamed: {i}"
        if reserved_clash and name in (*RESERVED_COLUMNS, SOURCE_SHEET):
            name = f"{name}_input"
        base, k = name, 0
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen.add(name)
        names.append(name)
    return names


def _frame(columns: list[str], rows: list[list], start: int) -> pd.DataFrame:
    """A chunk from rows of cells followed by the line and the error."""
    names = [*columns, ROW_LINE, ROW_ERROR]
    if rows:
        df = pd.DataFrame(rows, columns=names)
        df[ROW_LINE] = df[ROW_LINE].astype("int64")
    else:
        df = pd.DataFrame({c: pd.Series([], dtype=object) for c in names})
        df[ROW_LINE] = df[ROW_LINE].astype("int64")
    df.index = pd.RangeIndex(start, start + len(df))
    return df


# --- the reader ---------------------------------------------------------------------------------
class TableReader:
    """An iterator of DataFrame chunks (see :func:`open_table`).  Single pass.

    Attributes: ``path``, ``format`` ('csv', 'tsv', 'jsonl', 'json', 'xlsx', 'parquet'),
    ``encoding`` (CSV/TSV/JSONL: 'utf-8', 'utf-8-sig', 'utf-16', 'utf-16-le'/'utf-16-be' when
    there is no BOM, 'cp1252' or 'latin-1'; None otherwise), ``sheets`` (XLSX sheet names, else
    []), ``sheet`` (the sheet read, 'all', or None), ``delimiter`` (CSV/TSV), ``columns`` (the
    data columns, without the reserved ones; known before the first chunk), ``rows`` and
    ``error_rows`` (counts so far)."""

    def __init__(self, path: str | Path, chunksize: int | None = 50_000, sheet: str | None = None,
                 row_groups: tuple[int, int] | None = None):
        p = Path(path)
        self.path = p
        self.row_groups = row_groups
        self.chunksize = int(chunksize) if chunksize else None
        if self.chunksize is not None and self.chunksize < 1:
            raise InputError(f"chunk size must be at least 1 (got {chunksize})")
        if not p.exists():
            raise InputError(f"{p}: no such file")
        if p.is_dir():
            raise InputError(f"{p}: is a folder, not a file")
        self.format = format_of(p)
        if p.stat().st_size == 0:
            raise InputError(f"{p}: the file is empty")
        self.encoding: str | None = None
        self.sheets: list[str] = []
        self.sheet: str | None = None
        self.delimiter: str | None = None
        self.columns: list[str] = []
        self.rows = 0
        self.error_rows = 0
        if sheet is not None and self.format != "xlsx":
            raise InputError(f"{p}: --sheet applies to Excel files only")
        if row_groups is not None and self.format != "parquet":
            raise InputError(f"{p}: row groups apply to Parquet files only")
        opener = {"csv": self._open_csv, "tsv": self._open_csv, "jsonl": self._open_jsonl,
                  "json": self._open_json, "xlsx": self._open_xlsx, "parquet": self._open_parquet}[self.format]
        self._gen = opener(sheet)

    # iterator protocol
    def __iter__(self) -> TableReader:
        return self

    def __next__(self) -> pd.DataFrame:
        chunk = next(self._gen)
        self.rows += len(chunk)
        if len(chunk):
            self.error_rows += int((chunk[ROW_ERROR] != "").sum())
        return chunk

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc) -> bool:
        self.close()
        return False

    def _chunks(self, rows: Iterable[list]) -> Iterator[pd.DataFrame]:
        """Group rows (the cells, then the line and the error) into DataFrames of ``chunksize``
        rows; one empty frame (with the columns) when there is no row at all."""
        size = self.chunksize or (1 << 62)
        buf: list[list] = []
        start = 0
        any_rows = False
        for row in rows:
            buf.append(row)
            if len(buf) >= size:
                yield _frame(self.columns, buf, start)
                any_rows = True
                start += len(buf)
                buf = []
        if buf or not any_rows:
            yield _frame(self.columns, buf, start)

    # CSV / TSV ----------------------------------------------------------------------------------
    def _open_csv(self, _sheet):
        p = self.path
        head = _read_head(p)
        self.encoding = _sniff_encoding(head, len(head) < p.stat().st_size)
        text = _check_text_head(p, head, self.encoding, "csv")
        if self.format == "tsv":
            sep = "\t"
        else:
            sample = text if len(head) == p.stat().st_size else text[: text.rfind("\n") + 1] or text
            try:
                sep = csv.Sniffer().sniff(sample[:65536], delimiters=",;\t|").delimiter
            except csv.Error:
                sep = ","
        self.delimiter = sep
        if csv.field_size_limit() < _READER_FIELD_LIMIT:
            csv.field_size_limit(_READER_FIELD_LIMIT)
        f = open(p, "rb")  # noqa: SIM115 - handed to the row generator, which closes it
        try:
            state = _LineState()
            cr_only = "\n" not in text and "\r" in text
            reader = csv.reader(_decoded_lines(f, self.encoding, state, cr_only), delimiter=sep, quotechar='"',
                                doublequote=True, skipinitialspace=False, strict=False)
            header = None
            while header is None:
                try:
                    rec = next(reader)
                except StopIteration:
                    raise InputError(f"{p}: the file is empty (no header line)") from None
                except csv.Error:
                    raise InputError(f"{p}: line {reader.line_num}: the header line cannot be read as CSV; "
                                     f"check its quotes") from None
                if rec:
                    header = rec
            if state.bad:
                raise InputError(f"{p}: the header line holds bytes that are not {self.encoding}; "
                                 f"save the file as UTF-8 and try again")
            if any(len(c) > MAX_CELL_CHARS for c in header):
                raise InputError(f"{p}: the header line has a cell longer than {MAX_CELL_CHARS} characters; "
                                 f"is the first line really the column names?")
            if state.cr:
                header, state.cr = _restore_cr(header), False
            header[0] = header[0].lstrip("\ufeff")
            self.columns = _column_names(header)
        except BaseException:
            f.close()
            raise
        return self._chunks(self._csv_rows(f, reader, state))

    def _csv_rows(self, f, reader, state: _LineState):
        """Rows as cell lists ending with their line and error (see ``_chunks``)."""
        cols, width, sep, enc = self.columns, len(self.columns), self.delimiter, self.encoding
        done = reader.line_num
        state.bad = False
        chars = state.chars
        with f:
            while True:
                try:
                    for rec in reader:
                        line = done + 1
                        done = reader.line_num
                        if not rec:
                            state.bad = state.cr = False
                            chars = state.chars
                            continue          # a blank line
                        n = len(rec)
                        if state.cr:
                            rec, state.cr = _restore_cr(rec), False
                        if n == width and not state.bad and state.chars - chars <= MAX_CELL_CHARS:
                            chars = state.chars
                            rec.append(line)
                            rec.append("")
                            yield rec
                            continue
                        errs = []
                        if state.bad:
                            errs.append(f"line {line}: undecodable bytes for {enc} (replaced by \ufffd)")
                            state.bad = False
                        if n > width:
                            # an unquoted delimiter in a field: the extra cells are joined back into the
                            # last column, so nothing is lost
                            rec = rec[: width - 1] + [sep.join(rec[width - 1:])] if width else rec[:0]
                        elif n < width:
                            if done > line:
                                errs.append(f"line {line}: a quoted cell runs to line {done} and the row has "
                                            f"fewer cells than the header (is a closing quote missing?)")
                            rec = rec + [""] * (width - n)      # short rows are padded with ''
                        if state.chars - chars > MAX_CELL_CHARS:
                            for i, c in enumerate(rec):
                                if len(c) > MAX_CELL_CHARS:
                                    rec[i] = ""
                                    errs.append(f"line {line}: cell in column {cols[i]!r} longer than "
                                                f"{MAX_CELL_CHARS} characters (left empty)")
                        chars = state.chars
                        rec.append(line)
                        rec.append("; ".join(errs))
                        yield rec
                    return
                except csv.Error:
                    line = done + 1
                    done = reader.line_num
                    state.bad = state.cr = False
                    chars = state.chars
                    yield [""] * width + [line, (f"line {line}: cannot be read as CSV (a cell longer than "
                                                 f"{_READER_FIELD_LIMIT} characters, or a quote never closed)")]

    # JSON lines ---------------------------------------------------------------------------------
    def _open_jsonl(self, _sheet):
        p = self.path
        head = _read_head(p)
        self.encoding = _sniff_encoding(head, len(head) < p.stat().st_size)
        text = _check_text_head(p, head, self.encoding, "jsonl")
        self._cr_only = "\n" not in text and "\r" in text
        keys: dict[str, None] = {}
        for obj, _line, _err in self._jsonl_objects():
            if obj:
                for k in obj:
                    keys.setdefault(k, None)
        self.columns = _column_names(list(keys))
        self._json_keys = list(keys)
        return self._chunks(self._jsonl_rows())

    def _jsonl_objects(self):
        state = _LineState()
        with open(self.path, "rb") as f:
            for n, text in enumerate(_decoded_lines(f, self.encoding, state, self._cr_only, protect_cr=False), 1):
                bad, state.bad = state.bad, False
                s = text.strip().lstrip("\ufeff")
                if not s:
                    continue
                try:
                    obj = json.loads(s, parse_int=str, parse_float=str,
                                     parse_constant=lambda c: "" if c == "NaN" else c)
                except ValueError:
                    yield None, n, f"line {n}: not valid JSON"
                    continue
                if not isinstance(obj, dict):
                    yield None, n, f"line {n}: not a JSON object ({type(obj).__name__.replace('str', 'string')})"
                    continue
                yield obj, n, (f"line {n}: undecodable bytes for {self.encoding} (replaced by \ufffd)" if bad else "")

    def _jsonl_rows(self):
        keys = self._json_keys
        for obj, n, err in self._jsonl_objects():
            if obj is None:
                yield [""] * len(keys) + [n, err]
            else:
                yield [cell_text(obj.get(k)) for k in keys] + [n, err]

    # JSON (one array of objects) ----------------------------------------------------------------
    def _open_json(self, _sheet):
        p = self.path
        bad = (f"{p}: cannot be read as JSON; it must hold one array of objects -- use .jsonl for one "
               f"object per line")
        try:
            with open(p, "rb") as f:
                raw = f.read()
            enc = _sniff_encoding(raw[:_HEAD_BYTES], False)
            data = json.loads(raw.decode(enc, errors="replace"), parse_int=str, parse_float=str,
                              parse_constant=lambda c: "" if c == "NaN" else c)
        except (ValueError, OSError):
            raise InputError(bad) from None
        if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
            data = pd.DataFrame(data).to_dict("records")      # {column: {index: value}} (pandas' default)
        if not isinstance(data, list):
            raise InputError(bad)
        keys: dict[str, None] = {}
        for obj in data:
            if isinstance(obj, dict):
                for k in obj:
                    keys.setdefault(k, None)
        names = list(keys)
        self.columns = _column_names(names)
        rows = ([cell_text(o.get(k)) for k in names] + [i, ""] if isinstance(o, dict) else
                [""] * len(names) + [i, f"record {i}: not a JSON object"] for i, o in enumerate(data, 1))
        return self._chunks(rows)

    # Excel --------------------------------------------------------------------------------------
    def _workbook(self):
        import zipfile

        from openpyxl import load_workbook
        try:
            return load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, EOFError, IndexError) as e:
            raise InputError(f"{self.path}: cannot be read as an Excel workbook ({type(e).__name__}: it may be "
                             f"damaged or not really .xlsx); open it in Excel and save it again") from None
        except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
            raise InputError(f"{self.path}: cannot be read as an Excel workbook ({type(e).__name__}); "
                             f"open it in Excel and save it again") from None

    def _open_xlsx(self, sheet):
        p = self.path
        wb = self._workbook()
        try:
            self.sheets = [ws.title for ws in wb.worksheets]
            if not self.sheets:
                raise InputError(f"{p}: the workbook has no worksheet")
            names = ", ".join(repr(s) for s in self.sheets)
            if sheet is None:
                if len(self.sheets) > 1:
                    raise InputError(f"{p}: the workbook has {len(self.sheets)} sheets ({names}); pass --sheet NAME "
                                     f"to read one or --sheet all to read them all")
                chosen = self.sheets[:1]
            elif sheet == "all":
                chosen = list(self.sheets)
            elif sheet in self.sheets:
                chosen = [sheet]
            else:
                folded = [s for s in self.sheets if s.casefold() == str(sheet).casefold()]
                if len(folded) != 1:
                    raise InputError(f"{p}: no sheet named {sheet!r}; the sheets are {names} "
                                     f"(or pass --sheet all)")
                chosen = folded
            self.sheet = "all" if sheet == "all" else chosen[0]
            parts = [(name, *self._sheet_rows(wb[name], name)) for name in chosen]
        finally:
            wb.close()
        if all(not c for _, c, _r in parts):
            raise InputError(f"{p}: the sheet{'s are' if len(parts) > 1 else ' is'} empty (no header row)")
        if sheet != "all":
            _, self.columns, rows = parts[0]
            return self._chunks(rows)
        cols: list[str] = []
        for _, c, _r in parts:
            cols += [x for x in c if x not in cols]
        self.columns = cols + [SOURCE_SHEET]

        def all_rows():
            for name, c, rows in parts:
                where = [c.index(x) if x in c else -1 for x in cols]
                for cells in rows:
                    yield [cells[i] if i >= 0 else "" for i in where] + [name] + cells[-2:]
        return self._chunks(all_rows())

    def _sheet_rows(self, ws, name: str) -> tuple[list[str], list]:
        try:
            raw = [(n, r) for n, r in enumerate(ws.iter_rows(min_row=1, min_col=1, values_only=True), 1)
                   if any(v is not None and v != "" for v in r)]
        except Exception as e:  # noqa: BLE001 - a damaged sheet
            raise InputError(f"{self.path}: sheet {name!r} cannot be read ({type(e).__name__}); open the workbook "
                             f"in Excel and save it again") from None
        if not raw:
            return [], []

        def used(r):
            n = len(r)
            while n and (r[n - 1] is None or r[n - 1] == ""):
                n -= 1
            return n
        width = max(used(r) for _, r in raw)
        header = list(raw[0][1][:width]) + [None] * (width - len(raw[0][1][:width]))
        columns = _column_names(header)
        rows = []
        for n, r in raw[1:]:
            cells = [cell_text(v) for v in r[:width]]
            rows.append(cells + [""] * (width - len(cells)) + [n, ""])
        return columns, rows

    # Parquet ------------------------------------------------------------------------------------
    def _open_parquet(self, _sheet):
        import pyarrow.parquet as pq
        try:
            pf = pq.ParquetFile(self.path)
            names = [n for n in pf.schema_arrow.names if not re.fullmatch(r"__index_level_\d+__", n)]
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError ...
            raise InputError(f"{self.path}: cannot be read as Parquet ({type(e).__name__}: it may be damaged "
                             f"or not really Parquet); write it again") from None
        self.columns = _column_names(names)
        return self._parquet_chunks(pf, names)

    def _parquet_chunks(self, pf, names):
        import pyarrow as pa
        import pyarrow.compute as pc

        def texts(arr) -> list[str]:
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            t = arr.type
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                return arr.fill_null("").to_pylist()
            if pa.types.is_integer(t):
                return pc.cast(arr, pa.string()).fill_null("").to_pylist()
            return [cell_text(v) for v in arr.to_pylist()]

        start = 0
        groups = None
        if self.row_groups is not None:
            # rows [start, ...) of the file: line numbers and the index are the file's, as if read whole
            a, b = self.row_groups
            n_groups = pf.metadata.num_row_groups
            if not (isinstance(a, int) and isinstance(b, int) and 0 <= a < b <= n_groups):
                raise InputError(f"{self.path}: row groups {a}..{b} do not exist (the file has {n_groups})")
            groups = list(range(a, b))
            start = sum(pf.metadata.row_group(i).num_rows for i in range(a))
        try:
            batches = (pf.iter_batches(batch_size=self.chunksize or (1 << 30), columns=names, row_groups=groups)
                       if names else iter(()))
            any_rows = False
            for b in batches:
                n = b.num_rows
                data = {c: texts(b.column(i)) for i, c in enumerate(self.columns)}
                df = pd.DataFrame(data, columns=self.columns, index=pd.RangeIndex(start, start + n))
                df[ROW_LINE] = pd.Series(range(start + 1, start + n + 1), index=df.index, dtype="int64")
                df[ROW_ERROR] = ""
                if n == 0 and any_rows:
                    continue
                any_rows = True
                start += n
                yield df
            if not any_rows:
                yield _frame(self.columns, [], start)
        except InputError:
            raise
        except Exception as e:  # noqa: BLE001
            raise InputError(f"{self.path}: cannot be read as Parquet past row {start} ({type(e).__name__}: "
                             f"it may be damaged); write it again") from None


def open_table(path: str | Path, chunksize: int | None = 50_000, sheet: str | None = None,
               row_groups: tuple[int, int] | None = None) -> TableReader:
    """Open a table for reading in chunks of ``chunksize`` rows (None: one chunk).  Every cell is
    text; the reserved columns ``__line__`` and ``__error__`` end every chunk (see the module
    docstring).  ``sheet``: the XLSX sheet to read -- required when the workbook has several;
    ``"all"`` reads every sheet in order and adds a ``source_sheet`` column.  File-level problems
    raise :class:`InputError` here, before any chunk is read; row-level ones become ``__error__``.
    There is always at least one chunk (empty, with the columns, when the file has no row).
    ``row_groups=(a, b)``: Parquet only, read row groups a..b-1, numbered as in the whole file
    (the Dask engine's partitions when the workers share the storage)."""
    return TableReader(path, chunksize=chunksize, sheet=sheet, row_groups=row_groups)


def iter_table(path: str | Path, chunksize: int | None = 50_000, sheet: str | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file in chunks of ``chunksize`` rows: the chunks of :func:`open_table`, WITH its
    reserved columns ``__line__`` and ``__error__`` (a caller writing the chunks out should turn
    ``__error__`` into its own status/message and drop both).  File errors raise at the call."""
    return open_table(path, chunksize=chunksize, sheet=sheet)


def read_table(path: str | Path, dtype=str, sheet: str | None = None, reserved: bool = False) -> pd.DataFrame:
    """The whole file as a DataFrame of strings (empty cells are '').  Without ``reserved`` the
    columns ``__line__``/``__error__`` are dropped; rows that could not be read (their cells
    empty) are then listed in ``df.attrs['row_errors']`` as (line, reason) pairs and announced
    with a :class:`RowErrorsWarning` -- nothing is dropped silently."""
    reader = open_table(path, chunksize=None, sheet=sheet)
    chunks = list(reader)
    df = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0].reset_index(drop=True)
    if reserved:
        return df
    bad = df[df[ROW_ERROR] != ""] if len(df) else df.iloc[:0]
    errors = list(zip(bad[ROW_LINE].astype(int).tolist(), bad[ROW_ERROR].tolist())) if len(bad) else []
    df = df.drop(columns=list(RESERVED_COLUMNS))
    df.attrs["row_errors"] = errors
    if errors:
        shown = ", ".join(str(n) for n, _ in errors[:10]) + (" ..." if len(errors) > 10 else "")
        warnings.warn(f"{reader.path}: {len(errors)} row(s) could not be read and are left empty (line {shown}); "
                      f"see DataFrame.attrs['row_errors']", RowErrorsWarning, stacklevel=2)
    return df


# --- the cell guard -----------------------------------------------------------------------------
_CONTROL = dict.fromkeys([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_FORMULA_START = frozenset("=+-@")


def strip_control(v):
    """``v`` without control characters (C0 except tab, LF and CR; DEL; NUL) when it is text."""
    return v.translate(_CONTROL) if isinstance(v, str) else v


def safe_cell(v):
    """A text cell a spreadsheet will not execute (OWASP CSV-injection advice): control
    characters removed, then a leading apostrophe when the cell starts with a tab or CR, or when
    its first character after leading whitespace is = + - or @ -- unless the cell is a plain
    number: an optional sign, digits and at most one dot ('-12', '-3.5', '+7' stay as they are;
    '-inf', '+nan', '-1+2', '-A1', '+1 502 555 0100' get the apostrophe).  Non-text is untouched."""
    if not isinstance(v, str) or not v:
        return v
    v = v.translate(_CONTROL)
    if not v:
        return v
    if v[0] in "\t\r":
        return "'" + v
    s = v.lstrip()
    if s[:1] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(s):
        return "'" + v
    return v


_safe_cell = safe_cell   # the old private name


def _is_text_column(col: pd.Series) -> bool:
    return col.dtype == object or str(col.dtype).startswith(("str", "string"))


# a cell that may need safe_cell / strip_control (a superset: most cells can skip the Python call)
_MAYBE_UNSAFE = r"[=+\-@\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _map_text(col: pd.Series, fn) -> pd.Series:
    if col.dtype != object:
        try:
            hit = col.str.contains(_MAYBE_UNSAFE, regex=True, na=False)
        except (TypeError, ValueError, AttributeError):
            return col.map(fn)
        if not hit.any():
            return col
        out = col.copy()
        out[hit] = col[hit].map(fn)
        return out
    return col.map(fn)


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell went through :func:`safe_cell` (control characters
    removed; a leading apostrophe on cells a spreadsheet would run as a formula).  Plain numbers
    such as '-5' and '-2.5' are left alone.  The input frame is not modified."""
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_column(col):
            out.isetitem(i, _map_text(col, safe_cell))
    return out


def _strip_control_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if _is_text_column(col):
            out.isetitem(i, _map_text(col, strip_control))
    return out


def _prepare(df: pd.DataFrame, fmt: str, safe: bool) -> pd.DataFrame:
    """What is written: with ``safe`` (the default) every text cell loses its control characters
    in every format, and CSV/TSV/XLSX cells and column names get the formula guard.  XLSX cannot
    hold control characters at all, so they are removed even without ``safe``."""
    if safe and fmt in ("csv", "tsv", "xlsx"):
        out = neutralize_formulas(df)
        out.columns = [safe_cell(c) for c in out.columns]
        return out
    if safe or fmt == "xlsx":
        out = _strip_control_frame(df)
        if fmt == "xlsx":
            out.columns = [strip_control(c) for c in out.columns]
        return out
    return df


# --- temporary files removed on SIGTERM / SIGINT ------------------------------------------------
_GUARD_LOCK = threading.RLock()
_GUARDED: dict[str, int] = {}          # temporary path -> how many guards hold it
_CANCELLED: set[str] = set()           # removed by a signal: writing to them must stop
_PREVIOUS: dict[int, object] = {}      # signal -> the handler before ours
_GUARD_SIGNALS = (signal.SIGTERM, signal.SIGINT)


_OWNER_PID = [0]                       # the process that installed the handlers
_ACTIVE = [0]                          # guards entered and not yet released


def _on_signal(signum, frame):
    with _GUARD_LOCK:
        # a forked child (multiprocessing) inherits the handler: it must not remove the parent's files
        paths = list(_GUARDED) if os.getpid() == _OWNER_PID[0] else []
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
        _CANCELLED.add(p)
    prev = _PREVIOUS.get(signum, signal.SIG_DFL)
    if callable(prev):
        prev(signum, frame)           # e.g. Python's SIGINT handler: KeyboardInterrupt (exit 130)
        return
    # the default action: die by the signal, so the exit status is the conventional 128+N
    # (143 for SIGTERM, 130 for SIGINT)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _install_handlers() -> None:
    if not _in_main_thread():
        return                        # only the main thread may set handlers (and receives signals)
    for s in _GUARD_SIGNALS:
        if s in _PREVIOUS:
            continue
        current = signal.getsignal(s)
        if current == signal.SIG_IGN or current is None:
            continue                  # an ignored signal stays ignored
        try:
            signal.signal(s, _on_signal)
        except (ValueError, OSError):
            continue
        _PREVIOUS[s] = current
        _OWNER_PID[0] = os.getpid()


def _restore_handlers() -> None:
    if not _in_main_thread():
        return
    for s, prev in list(_PREVIOUS.items()):
        try:
            if signal.getsignal(s) is _on_signal:
                signal.signal(s, prev)
        except (ValueError, OSError):
            pass
        del _PREVIOUS[s]


class cleanup_on_signals:  # lower case: used like a function, ``with cleanup_on_signals([tmp]):``
    """Context manager: while active, SIGTERM and SIGINT first remove ``paths`` (temporary files),
    then act as before (the previous handler, or death by the signal: exit status 143 / 130).
    The handlers are installed on entry when no guard is active, and the previous ones restored
    when the last guard exits.  ``add(path)`` guards one more path.  Handlers can only be set in
    the main thread; elsewhere the paths are still removed if a main-thread guard is active."""

    def __init__(self, paths: Iterable[str | os.PathLike] = ()):
        self.paths: list[str] = []
        self._active = False
        self._initial = [os.fspath(p) for p in paths]

    def add(self, path: str | os.PathLike) -> None:
        p = os.fspath(path)
        with _GUARD_LOCK:
            self.paths.append(p)
            if self._active:
                _GUARDED[p] = _GUARDED.get(p, 0) + 1

    def __enter__(self) -> Self:
        with _GUARD_LOCK:
            self._active = True
            _ACTIVE[0] += 1
            _install_handlers()
            for p in self._initial:
                self.add(p)
            self._initial = []
        return self

    def release(self) -> None:
        with _GUARD_LOCK:
            if not self._active:
                return
            self._active = False
            _ACTIVE[0] -= 1
            for p in self.paths:
                n = _GUARDED.get(p, 0) - 1
                if n > 0:
                    _GUARDED[p] = n
                else:
                    _GUARDED.pop(p, None)
                    _CANCELLED.discard(p)
            if _ACTIVE[0] <= 0:
                _restore_handlers()

    def __exit__(self, *_exc) -> bool:
        self.release()
        return False


# --- atomic files -------------------------------------------------------------------------------
_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _temp_beside(p: Path) -> str:
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".part{p.suffix}", dir=p.parent)
    os.close(fd)
    return tmp


def _publish(tmp: str, target: Path) -> None:
    """fsync the finished temporary file, give it the umask's permissions (mkstemp made it 0600)
    and rename it over the target."""
    if tmp in _CANCELLED:
        raise MatcherError(f"{target}: writing was interrupted by a signal; nothing was written")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, target)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def refuse_same_file(output: str | os.PathLike, *inputs) -> None:
    """InputError when ``output`` is (through symlinks, '..' or hard links) one of ``inputs``
    (paths; None and DataFrames are skipped): the output would overwrite its own input."""
    out = os.path.realpath(os.fspath(output))
    for i in inputs:
        if i is None or not isinstance(i, (str, os.PathLike)):
            continue
        src = os.fspath(i)
        same = os.path.realpath(src) == out
        if not same and os.path.exists(out) and os.path.exists(src):
            try:
                same = os.path.samefile(out, src)
            except OSError:
                same = False
        if same:
            raise InputError(f"the output would overwrite the input file {src}: choose another -o")


def write_table(df: pd.DataFrame, path: str | Path, safe: bool = True) -> Path:
    """Write atomically (a temporary file in the same folder, renamed at the end; removed on an
    error, SIGTERM or SIGINT).  ``safe`` (default): see :func:`_prepare` -- control characters
    removed from text cells, and the formula guard on CSV/TSV/XLSX."""
    with TableWriter(path, safe=safe) as w:
        w.write(df)
    return w.path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically (a temporary file in the same folder, renamed at the end;
    removed on an error, SIGTERM or SIGINT; final permissions from the umask)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with cleanup_on_signals() as guard:
        tmp = _temp_beside(p)
        guard.add(tmp)
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            _publish(tmp, p)
        finally:
            _remove(tmp)
    return p


class TableWriter:
    """Append chunks to one output file and publish it atomically on ``close``.
    CSV/TSV/JSONL are streamed, Parquet is streamed one row group per chunk (its column types are
    the first chunk's; a column with no value there is text); XLSX and JSON are assembled in
    memory at the end (their formats cannot be appended to).
    While open, the temporary file is removed on SIGTERM/SIGINT (:func:`cleanup_on_signals`).
    Every chunk must have the columns of the first (in any order)."""

    def __init__(self, path: str | Path, safe: bool = True):
        self.path = Path(path)
        self.fmt = format_of(self.path)
        self.safe = safe
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._guard = cleanup_on_signals().__enter__()
        try:
            self._tmp = _temp_beside(self.path)
            self._guard.add(self._tmp)
        except BaseException:
            self._guard.release()
            raise
        self._frames: list[pd.DataFrame] = []
        self._parquet = None              # pyarrow ParquetWriter, opened on the first chunk
        self._first = True
        self._columns: list | None = None
        self._done = False
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        if self._done:
            raise MatcherError(f"{self.path}: the writer is closed")
        if self._tmp in _CANCELLED:
            raise MatcherError(f"{self.path}: writing was interrupted by a signal; nothing was written")
        if self._columns is None:
            self._columns = list(df.columns)
        elif list(df.columns) != self._columns:
            if sorted(map(str, df.columns)) != sorted(map(str, self._columns)):
                raise ValueError(f"{self.path}: a chunk has other columns than the first one "
                                 f"({', '.join(map(str, df.columns))} vs {', '.join(map(str, self._columns))})")
            df = df[self._columns]
        data = _prepare(df, self.fmt, self.safe)
        self.rows += len(df)
        if self.fmt in ("csv", "tsv"):
            # CRLF ends records (RFC 4180, as Excel writes): the csv module then quotes every cell
            # holding a CR or LF -- with "\n" alone, a bare CR in a cell would be written unquoted
            data.to_csv(self._tmp, index=False, mode="w" if self._first else "a", header=self._first,
                        sep="\t" if self.fmt == "tsv" else ",", encoding="utf-8", lineterminator="\r\n")
        elif self.fmt == "jsonl":
            with open(self._tmp, "w" if self._first else "a", encoding="utf-8") as f:
                if len(data):
                    text = data.to_json(orient="records", lines=True, force_ascii=False)
                    f.write(text if text.endswith("\n") else text + "\n")
        elif self.fmt == "parquet":
            self._write_parquet(data)
        else:
            self._frames.append(data)
        self._first = False

    def _write_parquet(self, data: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(data, preserve_index=False)
        if self._parquet is None:
            # a column with no value in the first chunk has no type yet: text, which later values fit
            schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema])
            table = table.cast(schema)
            self._parquet = pq.ParquetWriter(self._tmp, schema)
        elif not table.schema.equals(self._parquet.schema, check_metadata=False):
            try:
                table = table.select(self._parquet.schema.names).cast(self._parquet.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as e:
                raise MatcherError(f"{self.path}: a chunk's columns have other types than the first chunk's "
                                   f"({e})") from None
        self._parquet.write_table(table)

    def close(self) -> Path:
        if self._done:
            return self.path
        try:
            if self.fmt == "parquet":
                if self._parquet is None:
                    pd.DataFrame().to_parquet(self._tmp, index=False)
                else:
                    self._parquet.close()
            elif self.fmt in ("xlsx", "json"):
                df = pd.concat(self._frames, ignore_index=True) if self._frames else pd.DataFrame()
                if self.fmt == "xlsx":
                    df.to_excel(self._tmp, index=False, engine="openpyxl")
                else:
                    df.to_json(self._tmp, orient="records", force_ascii=False)
            _publish(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._done = True
        self._guard.release()
        return self.path

    def abort(self) -> None:
        self._done = True
        if self._parquet is not None:
            try:
                self._parquet.close()
            except Exception:  # noqa: BLE001, S110 - the file is removed next
                pass
        _remove(self._tmp)
        self._guard.release()

    def __del__(self):
        try:
            if not self._done:
                self.abort()
        except Exception:  # noqa: BLE001, S110 - never raise from a finalizer
            pass

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def column_key(name: object) -> str:
    """Case- and punctuation-insensitive form of a column name ('Job Title' -> 'job_title')."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def map_columns(columns, fields, synonyms: dict, required, mapping: dict | None = None, what: str = "field",
                option: str = "--map") -> dict[str, str]:
    """Field -> column for a file's ``columns``: the caller's ``mapping`` (COLUMN -> FIELD) first,
    then each field's known ``synonyms``.  Unknown fields in the mapping, mapped columns the file
    lacks, and required fields not found are each reported all at once."""
    cols = list(columns)
    mapping = dict(mapping or {})
    bad = [f for f in mapping.values() if f not in fields]
    if bad:
        raise InputError(f"unknown {what}(s) in {option}: {', '.join(bad)}; {what}s are {', '.join(fields)}")
    absent = [c for c in mapping if c not in cols]
    if absent:
        raise MissingColumnsError(absent, cols, f"the {option} option names these columns")
    out = {f: c for c, f in mapping.items()}
    by_key = {column_key(c): c for c in cols}
    for f in fields:
        if f in out:
            continue
        for syn in synonyms.get(f, [f]):
            if syn in by_key and by_key[syn] not in out.values():
                out[f] = by_key[syn]
                break
    missing = [f for f in required if f not in out]
    if missing:
        raise MissingColumnsError(missing, cols, f"map them with {option} COLUMN={what.upper()}")
    return out
