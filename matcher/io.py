"""Read and write tables by file extension (CSV, XLSX, JSONL, Parquet): encoding fallback,
chunked CSV/JSONL reading for large files, atomic writes, spreadsheet-formula neutralization."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pandas as pd

from .errors import InputError, MissingColumnsError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def format_of(path: str | Path) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"{path}: unsupported file type {ext or '(none)'}; use one of "
                         f"{', '.join(sorted(set(FORMATS)))}")
    return FORMATS[ext]


def _detect_encoding(path: Path) -> str:
    """The first of utf-8 / cp1252 / latin-1 that decodes the file's first 4 MB."""
    head = path.read_bytes()[: 4 << 20] if path.stat().st_size < (64 << 20) else open(path, "rb").read(4 << 20)
    for enc in ENCODINGS:
        try:
            head.decode(enc)
            return enc
        except UnicodeDecodeError as e:
            # a multi-byte character cut at the 4 MB boundary is not a decoding failure
            if enc.startswith("utf-8") and e.start >= len(head) - 4:
                return enc
    return "latin-1"


def read_table(path: str | Path, dtype=str) -> pd.DataFrame:
    """The whole file as a DataFrame of strings (empty cells are '')."""
    chunks = list(iter_table(path, chunksize=None))
    return chunks[0] if chunks else pd.DataFrame()


def iter_table(path: str | Path, chunksize: int | None = 50_000) -> Iterator[pd.DataFrame]:
    """Yield the file in chunks of ``chunksize`` rows (CSV and JSONL stream; XLSX and Parquet
    are read whole, then sliced).  Every cell is a string; missing cells are ''."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty")
    fmt = format_of(p)
    try:
        if fmt in ("csv", "tsv"):
            enc = _detect_encoding(p)
            sep = "\t" if fmt == "tsv" else None
            import csv as _csv

            kw = dict(dtype=str, keep_default_na=False, encoding=enc, sep=sep, engine="python")
            sample = p.read_bytes()[:65536].decode(enc, errors="replace")
            if sep is None:
                try:
                    kw["sep"] = _csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
                except _csv.Error:
                    kw["sep"] = ","
            header = next(_csv.reader(sample.splitlines()[:1], delimiter=kw["sep"]), [])
            width = len(header)

            def keep_bad_line(fields: list[str]) -> list[str]:
                # a row with more cells than the header (an unquoted delimiter in a field) is kept:
                # its extra cells are joined back into the last column, so nothing is lost
                return fields[: width - 1] + [kw["sep"].join(fields[width - 1:])] if width else fields

            kw["on_bad_lines"] = keep_bad_line
            # short rows are padded: their missing cells are '' like every other empty cell
            if chunksize:
                for chunk in pd.read_csv(p, chunksize=chunksize, **kw):
                    yield chunk.fillna("")
            else:
                yield pd.read_csv(p, **kw).fillna("")
            return
        if fmt == "jsonl":
            reader = pd.read_json(p, lines=True, dtype=False, chunksize=chunksize or 10**9)
            for chunk in reader:
                yield _as_str(chunk)
            return
        if fmt == "json":
            df = _as_str(pd.read_json(p, dtype=False))
        elif fmt == "xlsx":
            df = _as_str(pd.read_excel(p, dtype=str, engine="openpyxl"))
        else:
            df = _as_str(pd.read_parquet(p))
    except InputError:
        raise
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, OSError) as e:
        raise InputError(f"{p}: cannot be read as {fmt}: {e}") from e
    step = chunksize or max(len(df), 1)
    for s in range(0, max(len(df), 1), step):
        yield df.iloc[s:s + step]


def _as_str(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        out[c] = out[c].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    out.columns = [str(c) for c in out.columns]
    return out


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells that a spreadsheet would run as a formula (starting with
    = + - @, tab or CR) get a leading apostrophe (OWASP CSV-injection advice).  Numbers are
    left alone, so '-5' stays a number."""
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or str(col.dtype).startswith("str"):
            out[c] = col.map(_safe_cell)
    return out


def _safe_cell(v):
    if isinstance(v, str) and v.startswith(FORMULA_PREFIXES):
        try:
            float(v)
            return v
        except ValueError:
            return "'" + v
    return v


def write_table(df: pd.DataFrame, path: str | Path, safe: bool = True) -> Path:
    """Write atomically (a temporary file in the same folder, renamed at the end)."""
    p = Path(path)
    fmt = format_of(p)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = neutralize_formulas(df) if safe and fmt in ("csv", "tsv", "xlsx") else df
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".part{p.suffix}", dir=p.parent)
    os.close(fd)
    try:
        if fmt in ("csv", "tsv"):
            data.to_csv(tmp, index=False, sep="\t" if fmt == "tsv" else ",", encoding="utf-8")
        elif fmt == "xlsx":
            data.to_excel(tmp, index=False, engine="openpyxl")
        elif fmt in ("jsonl", "json"):
            data.to_json(tmp, orient="records", lines=(fmt == "jsonl"), force_ascii=False)
        else:
            data.to_parquet(tmp, index=False)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a text file atomically (a temporary file in the same folder, renamed at the end)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=f".part{p.suffix}", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return p


class TableWriter:
    """Append chunks to one output file and publish it atomically on ``close``.
    CSV/TSV/JSONL are streamed; XLSX and Parquet are assembled in memory at the end."""

    def __init__(self, path: str | Path, safe: bool = True):
        self.path = Path(path)
        self.fmt = format_of(self.path)
        self.safe = safe
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=f".part{self.path.suffix}", dir=self.path.parent)
        os.close(fd)
        self._frames: list[pd.DataFrame] = []
        self._first = True
        self.rows = 0

    def write(self, df: pd.DataFrame) -> None:
        data = neutralize_formulas(df) if self.safe and self.fmt in ("csv", "tsv", "xlsx") else df
        self.rows += len(df)
        if self.fmt in ("csv", "tsv"):
            data.to_csv(self._tmp, index=False, mode="w" if self._first else "a", header=self._first,
                        sep="\t" if self.fmt == "tsv" else ",", encoding="utf-8")
        elif self.fmt == "jsonl":
            with open(self._tmp, "w" if self._first else "a", encoding="utf-8") as f:
                if len(data):
                    text = data.to_json(orient="records", lines=True, force_ascii=False)
                    f.write(text if text.endswith("\n") else text + "\n")
        else:
            self._frames.append(data)
        self._first = False

    def close(self) -> Path:
        if self.fmt in ("xlsx", "parquet", "json"):
            df = pd.concat(self._frames, ignore_index=True) if self._frames else pd.DataFrame()
            if self.fmt == "xlsx":
                df.to_excel(self._tmp, index=False, engine="openpyxl")
            elif self.fmt == "json":
                df.to_json(self._tmp, orient="records", force_ascii=False)
            else:
                df.to_parquet(self._tmp, index=False)
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)

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
