"""Command line: thin commands over the library.

    matcher normalize INPUT -c COLUMN -o OUTPUT [--top K] [--language-column L] [--country-column C]
    matcher normalize --text "RN - Hospice"
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from .errors import MatcherError, MissingColumnsError

NORMALIZE_COLUMNS = ["onet_code", "onet_title", "soc_code", "confidence", "status", "top_codes", "language",
                     "explanation"]


def _progress(total: int | None, enabled: bool, unit: str = "rows"):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=not enabled, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5, smoothing=0.1)


def _check_columns(df: pd.DataFrame, wanted: Sequence[str | None]) -> None:
    missing = [c for c in wanted if c and c not in df.columns]
    if missing:
        raise MissingColumnsError(missing, list(df.columns))


def _merge_output(chunk: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """Input columns first (renamed '<name>_input' where they clash with an output column), then ours."""
    base = chunk.reset_index(drop=True)
    clash = {c: f"{c}_input" for c in base.columns if c in extra.columns}
    if clash:
        base = base.rename(columns=clash)
    return pd.concat([base, extra.reset_index(drop=True)], axis=1)


# --- normalize --------------------------------------------------------------------------------
def cmd_normalize(args) -> int:
    from .titles import TitleMatcher, to_frame
    from .io import TableWriter, iter_table

    if args.text is not None:
        matcher = TitleMatcher.load()
        res = matcher.match(args.text, top=args.top, language=args.language)
        if args.format == "json":
            print(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(f"{res.query!r} -> status {res.status}, confidence {res.confidence:.2f}, language {res.language}")
            for i, c in enumerate(res.candidates, 1):
                print(f"  {i}. {c.onet_code}  {c.onet_title}  (SOC {c.soc_code})  score {c.score:.3f}  "
                      f"via '{c.matched_alias}' [{c.alias_source}, {c.alias_lang}]")
            print(f"  {res.explanation}")
        return 0
    if not args.input or not args.column or not args.output:
        raise MatcherError("normalize needs INPUT, -c COLUMN and -o OUTPUT (or --text TITLE)")
    cache: dict = {}
    t0 = time.time()
    n = 0
    chunks = iter_table(args.input, chunksize=args.chunk_size)
    first = next(chunks, None)
    if first is None:
        raise MatcherError(f"{args.input}: no rows")
    _check_columns(first, [args.column, args.language_column, args.country_column])
    matcher = TitleMatcher.load()
    import itertools
    with TableWriter(args.output) as out, _progress(None, not args.no_progress) as bar:
        for chunk in itertools.chain([first], chunks):
            titles = chunk[args.column].tolist()
            langs = chunk[args.language_column].tolist() if args.language_column else [None] * len(chunk)
            keys = list(zip(titles, langs))
            todo = list(dict.fromkeys(k for k in keys if k not in cache))
            if todo:
                for k, r in zip(todo, matcher.match_many([k[0] for k in todo], top=args.top,
                                                         languages=[k[1] for k in todo])):
                    cache[k] = r
            if len(cache) > 500_000:
                cache.clear()
            res = [cache[k] for k in keys]
            out.write(_merge_output(chunk, to_frame(res)))
            n += len(chunk)
            bar.update(len(chunk))
    dt = time.time() - t0
    print(f"normalized {n} rows into {args.output} in {dt:.1f}s ({n / max(dt, 1e-9):.0f} rows/s); "
          f"taxonomy {matcher.taxonomy_version_}, model {matcher.model_version_}", file=sys.stderr)
    return 0


# --- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matcher", description="Credential pathway matching engine")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("normalize", help="map job titles onto O*NET-SOC 2019")
    p.add_argument("input", nargs="?", help="CSV, XLSX, JSONL or Parquet file")
    p.add_argument("-c", "--column", help="the column holding job titles")
    p.add_argument("-o", "--output", help="output file (format by extension)")
    p.add_argument("--top", type=int, default=5, help="how many codes in top_codes (default 5)")
    p.add_argument("--language-column", help="column with an ISO 639-1 language hint per row")
    p.add_argument("--country-column", help="column with the ISO country code per row (kept for context)")
    p.add_argument("--text", help="normalize one title and print its top matches")
    p.add_argument("--language", help="language hint for --text")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output of --text")
    p.add_argument("--chunk-size", type=int, default=50_000)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_normalize)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "top", 1) is not None and getattr(args, "top", 1) < 1:
        print("error: --top must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except MatcherError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
