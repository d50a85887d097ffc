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

from ._util import merge_output
from .errors import InputError, MatcherError, MissingColumnsError

def _default_jobs() -> int:
    """Worker processes by default: every core this process may use."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _profiler_hint(stats: dict) -> None:
    """One line where the cluster's workers keep Dask's profiler history (50-70 MB each on a long run)."""
    n = stats.get("workers_profiling", 0)
    if n:
        print(f"note: {n} Dask worker(s) run the statistical profiler, whose history grows a worker by up to "
              "70 MB on a long run; start them with DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False",
              file=sys.stderr)


def _progress(total: int | None, enabled: bool, unit: str = "rows"):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=not enabled, file=sys.stderr, dynamic_ncols=True,
                mininterval=0.5, smoothing=0.1)


def _check_columns(df: pd.DataFrame, wanted: Sequence[str | None]) -> None:
    from .io import RESERVED_COLUMNS

    columns = [c for c in df.columns if c not in RESERVED_COLUMNS]
    missing = [c for c in wanted if c and c not in columns]
    if missing:
        raise MissingColumnsError(missing, columns)


def _mark_unreadable(chunk: pd.DataFrame, extra: pd.DataFrame) -> None:
    """Rows the reader could not read keep their place with status ``error`` and the reason."""
    from .io import ROW_ERROR, ROW_LINE

    if ROW_ERROR not in chunk.columns:
        return
    bad = (chunk[ROW_ERROR].astype(str) != "").to_numpy()
    if bad.any():
        reasons = [f"line {ln}: {e}" for ln, e in zip(chunk[ROW_LINE][bad], chunk[ROW_ERROR][bad])]
        extra.loc[bad, "status"] = "error"
        extra.loc[bad, "explanation"] = reasons


def _encoding_note(reader) -> str:
    return f"encoding {reader.encoding}; " if getattr(reader, "encoding", None) else ""


# --- normalize --------------------------------------------------------------------------------
def cmd_normalize(args) -> int:
    from .io import TableWriter, open_table, refuse_same_file
    from .titles import FRAME_COLUMNS, to_rows

    if args.text is not None:
        matcher = _engine(args).title_matcher
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
    if args.engine == "dask":
        from .distributed import normalize_file_dask

        with _progress(None, not args.no_progress) as bar:
            st = normalize_file_dask(args.input, args.output, args.column, args.language_column, args.country_column,
                                     top=args.top, scheduler=args.scheduler, n_workers=args.n_jobs,
                                     partition_rows=args.partition_rows, progress=bar.update)
        print(f"normalized {st['rows']} rows into {args.output} in {st['seconds']}s on Dask "
              f"({st['partitions']} partitions)", file=sys.stderr)
        _profiler_hint(st)
        return 0
    cache: dict = {}   # (title, language, country) -> output row values; small tuples, not result objects
    t0 = time.time()
    n = 0
    refuse_same_file(args.output, args.input)
    reader = open_table(args.input, chunksize=args.chunk_size, sheet=args.sheet)
    chunks = iter(reader)
    first = next(chunks, None)
    if first is None:
        raise MatcherError(f"{args.input}: no rows")
    _check_columns(first, [args.column, args.language_column, args.country_column])
    engine = _engine(args)        # its title matcher is loaded only if this process matches titles itself
    import itertools

    from joblib import Parallel

    from .titles import DEFAULT_MODEL_DIR, match_parallel
    n_jobs = args.n_jobs or _default_jobs()
    par = Parallel(n_jobs=n_jobs, backend="loky") if n_jobs > 1 else None
    versions = None
    with TableWriter(args.output) as out, _progress(None, not args.no_progress) as bar:
        for chunk in itertools.chain([first], chunks):
            titles = chunk[args.column].tolist()
            langs = chunk[args.language_column].tolist() if args.language_column else [None] * len(chunk)
            ctry = chunk[args.country_column].tolist() if args.country_column else [None] * len(chunk)
            keys = list(zip(titles, langs, ctry))
            todo = list(dict.fromkeys(k for k in keys if k not in cache))
            if todo:
                kw = dict(top=args.top, languages=[k[1] for k in todo], countries=[k[2] for k in todo])
                if n_jobs > 1 and len(todo) >= 2000:
                    rows = match_parallel([k[0] for k in todo], n_jobs, parallel=par, folder=DEFAULT_MODEL_DIR,
                                          rows=True, **kw)
                else:
                    rows = to_rows(engine.title_matcher.match_many([k[0] for k in todo], **kw))
                for k, r in zip(todo, rows):
                    cache[k] = r
                if rows:
                    versions = rows[0][-2:]
                del rows
            extra = pd.DataFrame([cache[k] for k in keys], columns=list(FRAME_COLUMNS))
            _mark_unreadable(chunk, extra)
            if len(cache) > 50_000:
                cache.clear()
            out.write(merge_output(chunk, extra))
            n += len(chunk)
            bar.update(len(chunk))
    dt = time.time() - t0
    if versions is None:
        versions = (engine.title_matcher.taxonomy_version_, engine.title_matcher.model_version_)
    print(f"normalized {n} rows into {args.output} in {dt:.1f}s ({n / max(dt, 1e-9):.0f} rows/s); "
          f"{_encoding_note(reader)}taxonomy {versions[0]}, model {versions[1]}", file=sys.stderr)
    return 0


# --- credentials ------------------------------------------------------------------------------
def cmd_credentials(args) -> int:
    from .credentials import credentials_to_frame
    from .io import TableWriter, open_table, refuse_same_file

    if args.text is not None:
        cn = _engine(args).credentials
        r = cn.normalize(args.text, args.country)
        if args.format == "json":
            print(json.dumps(r.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(f"{r.query!r} ({r.country or 'country unknown'}) -> status {r.status}")
            print(f"  type: {r.credential_type or '-'}; ISCED {r.isced_level or '-'} {r.isced_label}; "
                  f"US equivalent: {r.us_equivalent or '-'}")
            print(f"  field: {r.field_name or '-'}")
            for c, t in zip(r.target_onet_codes, r.target_onet_titles):
                print(f"  -> {c}  {t}")
            print(f"  evaluation: {', '.join(r.evaluation_service_names) or '-'}")
            print(f"  {r.explanation}")
        return 0
    if not args.input or not args.column or not args.output:
        raise MatcherError("credentials needs INPUT, -c COLUMN and -o OUTPUT (or --text CREDENTIAL)")
    refuse_same_file(args.output, args.input)
    reader = open_table(args.input, chunksize=args.chunk_size, sheet=args.sheet)
    chunks = iter(reader)
    first = next(chunks, None)
    if first is None:
        raise MatcherError(f"{args.input}: no rows")
    _check_columns(first, [args.column, args.country_column])
    import itertools

    cn = _engine(args).credentials
    n = 0
    with TableWriter(args.output) as out, _progress(None, not args.no_progress) as bar:
        for chunk in itertools.chain([first], chunks):
            countries = chunk[args.country_column].tolist() if args.country_column else None
            res = cn.normalize_many(chunk[args.column].tolist(), countries)
            extra = credentials_to_frame(res)
            _mark_unreadable(chunk, extra)
            out.write(merge_output(chunk, extra))
            n += len(chunk)
            bar.update(len(chunk))
    print(f"normalized {n} credentials into {args.output}; {_encoding_note(reader)}data {cn.data_version}",
          file=sys.stderr)
    return 0


# --- pathways ---------------------------------------------------------------------------------
def _settings(args):
    from .config import Settings

    return Settings.from_toml(args.config) if getattr(args, "config", None) else Settings()


def _engine(args, **kw):
    """The one engine of a command, with the command's settings, state and area."""
    from .engine import Engine

    state = getattr(args, "state", None) or "KY"
    return Engine(settings=_settings(args), state=state, area=getattr(args, "area", None), **kw)


def _client(args):
    from .pathways import ClientContext

    return ClientContext(onet_code=args.onet, state=args.state, area=args.area, english=args.english,
                         years_experience=args.years, budget_usd=args.budget, need_income_now=args.need_income_now,
                         passed=tuple(args.passed or ()), zip_code=args.zip)


def cmd_pathways(args) -> int:
    from .pathways import format_range

    ranker = _engine(args).pathways
    client = _client(args)
    paths = ranker.rank(client, top=args.top)
    if args.format == "json":
        print(json.dumps([p.to_dict() for p in paths], indent=2, ensure_ascii=False))
        return 0
    tax = ranker.taxonomy
    state, area, _ = ranker.resolve_place(client)
    print(f"Pathways for {args.onet} {tax.title(args.onet)} - state {state}, area {area} "
          f"({ranker.wages.area_name(area)}); English {client.english or '?'}, "
          f"{client.years_experience if client.years_experience is not None else '?'} years, budget "
          f"${client.budget_usd or 0:,.0f}{', needs income now' if client.need_income_now else ''}")
    for p in paths:
        wage = f"${p.median_annual_wage:,.0f}" if p.median_annual_wage else "n/a"
        lic = f" [{p.license['id']}]" if p.license and p.license.get("id") else ""
        print(f"{p.rank:>2}. {p.kind:<11} {p.target_onet} {p.target_title}{lic}  (licence: {p.licence_required})")
        if p.route_known:
            print(f"    score {p.score:.3f}  no income {format_range(p.months_to_first_paycheck_min, p.months_to_first_paycheck_max)} "
                  f"months, working in {format_range(p.months_to_first_job, p.months_to_first_job_max)} months  "
                  f"fees {format_range(p.total_cost_usd, p.total_cost_usd_max, money=True)} "
                  f"(loan {format_range(p.loan_coverable_usd, p.loan_coverable_usd, money=True)})  median {wage}")
        else:
            print(f"    score {p.score:.3f}  route not in the data: months and fees unknown  median {wage}")
        print("    " + " ".join(f"{k}={v:.2f}" for k, v in p.components.items()))
        for r in p.reasons:
            print(f"      - {r}")
        for c in p.caveats:
            print(f"      ! {c}")
    return 0


# --- plan ----------------------------------------------------------------------------------------
def cmd_plan(args) -> int:
    from .pathways import format_range

    engine = _engine(args)
    plan = engine.plan(_client(args), work_authorized=args.work_authorized, graduation_year=args.graduation_year)
    if args.format == "json":
        print(json.dumps(plan.to_dict(), indent=2, ensure_ascii=False, default=str))
        return 0
    if args.format == "html":
        html = engine.plan_html(plan, args.lang or "en")
        if args.output:
            from .io import atomic_write_text

            atomic_write_text(args.output, html)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(html)
        return 0
    r, b = plan.route, plan.bridge
    c = plan.client
    print(f"Plan for {c['onet_code']} {c['title']} - {c['state']}; English {c['english'] or '?'}, budget "
          f"${c['budget_usd'] or 0:,.0f}{', needs income now' if c['need_income_now'] else ''}")
    print(f"ROUTE   {r.kind}: {r.target_title} ({r.target_onet})"
          + (f" [{r.license['id']}]" if r.license and r.license.get("id") else ""))
    print(f"        {plan.route_note}")
    if r.route_known:
        print(f"        months to the route {format_range(r.months_to_first_job, r.months_to_first_job_max)}; fees "
              f"{format_range(r.total_cost_usd, r.total_cost_usd_max, money=True)}; median "
              f"${r.median_annual_wage or 0:,.0f}/year")
        for s in r.steps:
            if s.required == "no":
                continue
            cost = format_range(s.cost_usd_min, s.cost_usd_max, money=True) if s.cost_basis != "unknown" else "fee unknown"
            cond = f" (if {s.condition})" if s.required == "conditional" else ""
            print(f"          - {s.name}{cond}: {s.months:g} months, {cost}")
    print(f"BRIDGE  {(b.target_title + ' (' + b.target_onet + ')') if b else 'none'}: {plan.bridge_note}")
    for a in plan.alternatives:
        print(f"ALTERN. {a.kind}: {a.target_title} ({a.target_onet}); months "
              f"{format_range(a.months_to_first_job, a.months_to_first_job_max)}; median ${a.median_annual_wage or 0:,.0f}")
    print("TIMELINE (months: activity; income/month; fees; loan)")
    for t in plan.timeline:
        print(f"  {t['start_month']:>5g}-{t['end_month']:<5g} {t['activity'][:120]}; ${t['monthly_income_usd']:,.0f}; "
              f"fees ${t['fees_usd']:,.0f}; loan ${t['loan_drawn_usd']:,.0f}")
    ln, e = plan.loan, plan.earnings
    print(f"LOAN    ${ln['amount_usd']:,.0f} of ${ln['cap_usd']:,.0f} (fees ${ln['pays_for']['fees_usd']:,.0f}, living "
          f"${ln['pays_for']['living_support_usd']:,.0f}); repay ${ln['monthly_payment_usd']:,.0f}/month over "
          f"{ln['term_months']} months; budget used ${ln['budget_used_usd']:,.0f}; out of pocket "
          f"${ln['out_of_pocket_usd']:,.0f}")
    print(f"EARNINGS plan 12/36/60 months ${e['plan_12m_usd']:,.0f} / ${e['plan_36m_usd']:,.0f} / "
          f"${e['plan_60m_usd']:,.0f}; entry job ${e['entry_12m_usd']:,.0f} / ${e['entry_36m_usd']:,.0f} / "
          f"${e['entry_60m_usd']:,.0f}; payback month {e['payback_month']}")
    for cv in plan.caveats:
        print(f"  ! {cv}")
    return 0


# --- data audit -------------------------------------------------------------------------------
def cmd_data(args) -> int:
    from .licensing import LicensingData

    data = LicensingData()
    states = [data.check_state(args.state)] if args.state else data.states
    report = [data.audit(st) for st in states]
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    for r in report:
        print(f"{r['state']}: {r['licences']} licence routes, {r['steps']} steps; registry {r['registry_rows']} "
              f"occupations ({r['registry_by_requirement']}); data {r['version']}")
        print(f"  facts confirmed/partial/unconfirmed: steps {r['steps_confirmed']}, licences "
              f"{r['licences_confirmed']}, registry {r['registry_confirmed']}")
        print(f"  step costs by basis: {r['cost_basis']}")
        top = list(r["secondary_source_domains"].items())
        shown = ", ".join(f"{d} {n}" for d, n in top[:8]) + (f", +{len(top) - 8} more domains" if len(top) > 8 else "")
        print(f"  steps without a primary source: {r['steps_without_primary_source']} ({shown or 'none'})")
        print(f"  oldest as_of: {r['oldest_as_of']}; as_of kinds: {r['as_of_kinds']}")
    return 0


# --- score ------------------------------------------------------------------------------------
def _pairs(items, what: str) -> dict[str, str]:
    out = {}
    for it in items or []:
        if "=" not in it:
            raise MatcherError(f"{what} takes COLUMN=FIELD (got {it!r})")
        col, fld = it.split("=", 1)
        out[col.strip()] = fld.strip()
    return out


def cmd_score(args) -> int:
    from .batch import ScoreConfig

    ScoreConfig(area=args.area, state=args.state, top_pathways=args.top_pathways, top_openings=args.top_openings,
                chunk_size=args.chunk_size, n_jobs=args.n_jobs)          # every option problem before any work
    from .io import refuse_same_file

    if not (args.engine == "dask" and Path(args.intake).is_dir()):
        refuse_same_file(args.output, args.intake, args.openings)
    if args.shared_storage and args.engine != "dask":
        raise InputError("--shared-storage applies to --engine dask only")
    if args.engine == "dask":
        from .distributed import score_file_dask

        # the client reads the files and checks the options; the models load on the workers only
        cfg = ScoreConfig(area=args.area or ScoreConfig().area, state=args.state or "KY", top_pathways=args.top_pathways,
                          top_openings=args.top_openings, chunk_size=args.chunk_size)
        with _progress(None, not args.no_progress) as bar:
            stats = score_file_dask(args.intake, args.output, config=cfg, settings=_settings(args),
                                    openings=args.openings,
                                    openings_mapping=_pairs(args.openings_map, "--openings-map"),
                                    openings_sheet=args.openings_sheet, mapping=_pairs(args.map, "--map"),
                                    scheduler=args.scheduler, n_workers=args.n_jobs,
                                    partition_rows=args.partition_rows, progress=bar.update,
                                    shared_storage=args.shared_storage)
        print(f"scored {stats['rows']} rows into {args.output} in {stats['seconds']}s ({stats['rows_per_second']} "
              f"rows/s) on {stats['workers']} Dask workers, {stats['partitions']} partitions: {stats['ok']} ok, "
              f"{stats['partial']} partial, {stats['error']} error", file=sys.stderr)
        print("time split (s): " + json.dumps(stats.get("time_split_s", {})), file=sys.stderr)
        print("worker peak RSS (MB): " + json.dumps(stats.get("worker_peak_rss_mb", [])), file=sys.stderr)
        _profiler_hint(stats)
        return 0
    engine = _engine(args, openings=args.openings, openings_mapping=_pairs(args.openings_map, "--openings-map"),
                     openings_sheet=args.openings_sheet, top_pathways=args.top_pathways,
                     top_openings=args.top_openings)
    with _progress(None, not args.no_progress) as bar:
        stats = engine.score_file(args.intake, args.output, mapping=_pairs(args.map, "--map"),
                                  chunk_size=args.chunk_size, n_jobs=args.n_jobs, sheet=args.sheet,
                                  progress=bar.update)
    print(f"scored {stats['rows']} rows into {args.output} in {stats['seconds']}s ({stats['rows_per_second']} rows/s): "
          f"{stats['ok']} ok, {stats['partial']} partial, {stats['error']} error; {stats['openings']} openings"
          + (f"; encoding {stats['encoding']}" if stats.get("encoding") else ""),
          file=sys.stderr)
    return 0


# --- clients for an opening ------------------------------------------------------------------
def cmd_clients(args) -> int:
    from .io import RESERVED_COLUMNS, ROW_ERROR, open_table

    engine = _engine(args, openings=args.openings, openings_mapping=_pairs(args.openings_map, "--openings-map"),
                     openings_sheet=args.openings_sheet)
    parts = list(open_table(args.intake, chunksize=None, sheet=args.sheet))
    intake = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if ROW_ERROR in intake.columns:
        intake = intake[intake[ROW_ERROR] == ""]
    intake = intake.drop(columns=[c for c in RESERVED_COLUMNS if c in intake.columns])
    mapping = _pairs(args.map, "--map")
    records = intake.rename(columns={k: v for k, v in mapping.items()}).to_dict("records")
    ranked = engine.rank_clients(args.opening_id, records, top=args.top)
    openings = engine.openings
    row = openings[openings["opening_id"].astype(str) == str(args.opening_id)].iloc[0]
    if args.format == "json":
        print(json.dumps([m.to_dict() for m in ranked], indent=2, ensure_ascii=False))
        return 0
    print(f"Clients for {row['opening_id']}: {row['employer']} - {row['title']} ({row['onet_code']} {row['onet_title']})")
    for i, m in enumerate(ranked, 1):
        print(f"{i:>2}. {m.client_id}  score {m.score:.2f}  " + " ".join(f"{k}={v:.2f}" for k, v in m.components.items()))
        for r in m.reasons:
            print(f"      - {r}")
    return 0


# --- report -----------------------------------------------------------------------------------
def cmd_report(args) -> int:
    """The impact report of a scored intake (and outcomes): HTML, and JSON with every chart's numbers."""
    import datetime

    from .io import atomic_write_text, read_table, refuse_same_file
    from .report import ReportConfig, build_report, report_html

    as_of = None
    if args.as_of:
        try:
            as_of = datetime.date.fromisoformat(args.as_of)
        except ValueError:
            raise MatcherError(f"--as-of: {args.as_of[:20]!r} is not a date (YYYY-MM-DD)") from None
    cfg = ReportConfig(fund_capital=args.fund_capital, repayment_rate=args.repayment_rate,
                       intake_per_month=args.intake_per_month, as_of=as_of)
    out = Path(args.output)
    if out.suffix.lower() not in (".html", ".htm"):
        raise MatcherError("-o: the report is an .html file (its numbers go beside it as .json)")
    t0 = time.time()
    if args.database:
        from .store import Store

        if args.scored or args.outcomes:
            raise MatcherError("give a scored file or --database, not both")
        scored, outcomes = Store.open(args.database).scored_frame()
    else:
        if not args.scored:
            raise MatcherError("give the scored file (or --database URL)")
        refuse_same_file(out, args.scored)
        scored = read_table(args.scored)
        outcomes = read_table(args.outcomes, reserved=True) if args.outcomes else None
    report = build_report(scored, outcomes, cfg)
    atomic_write_text(out, report_html(report))
    atomic_write_text(out.with_suffix(".json"), json.dumps(report.to_dict(), indent=1, ensure_ascii=False,
                                                           default=str) + "\n")
    print(f"wrote {out} and {out.with_suffix('.json')} ({len(scored)} clients, {time.time() - t0:.1f}s)"
          + (f"; {len(report.messages)} notes on the files (in the report)" if report.messages else ""),
          file=sys.stderr)
    return 0


# --- users and the caseload store ---------------------------------------------------------------
def _store(args):
    from .store import Store

    return Store.open(getattr(args, "database", None) or None)


def cmd_users(args) -> int:
    store = _store(args)
    if args.users_command == "list":
        for n in store.navigators_list():
            print(f"{n.name}{'' if n.active else ' (inactive)'}")
        return 0
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise MatcherError(f"--password-file: cannot read {args.password_file} ({e.strerror})") from None
    else:
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise MatcherError("the two passwords differ")
    nav, token = store.add_navigator(args.name, password)
    print(f"added navigator {nav.name}.\nAPI token (shown once; send it as 'Authorization: Bearer <token>'):\n{token}")
    return 0


def cmd_caseload(args) -> int:
    import datetime

    store = _store(args)
    as_of = datetime.date.fromisoformat(args.as_of) if args.as_of else None
    ids = store.purge(as_of, by="retention") if args.purge else store.past_retention(as_of)
    verb = "deleted" if args.purge else "past their retention date (run with --purge to delete them)"
    print(f"{len(ids)} client{'s' if len(ids) != 1 else ''} {verb}")
    for cid in ids:
        print(f"  {cid}")
    return 0


# --- serve ------------------------------------------------------------------------------------
SERVE_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def cmd_serve(args) -> int:
    """The web app (matcher.web) and the HTTP API (matcher.api) on one loaded engine; a token is
    required off this machine."""
    import logging
    import os
    import threading
    from pathlib import Path

    t0 = time.time()
    token = None
    if args.token_file:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or type(e).__name__
            raise MatcherError(f"--token-file: cannot read {args.token_file} ({why})")
        if not token:
            raise MatcherError(f"--token-file: {args.token_file} is empty")
    else:
        token = os.environ.get("MATCHER_API_TOKEN", "").strip() or None
    if args.host not in SERVE_LOCAL_HOSTS and not token:
        print(f"error: refusing to listen on {args.host} without a token: set MATCHER_API_TOKEN or give "
              f"--token-file (or use --host 127.0.0.1)", file=sys.stderr)
        return 2
    if token is not None and len(token) < 16:
        raise MatcherError("the API token must have at least 16 characters")
    import uvicorn

    from .api import create_app
    from .engine import Engine

    engine = Engine(settings=_settings(args), openings=args.openings, openings_sheet=args.openings_sheet,
                    state=args.state, area=args.area)
    caseload = None
    if not args.no_caseload:
        from .store import Store

        caseload = Store.open(args.database or None)
    app = create_app(engine, token=token, caseload=caseload)

    def warm_up():      # loads the lazy parts (notes reader) before the first request needs them
        with app.state.engine_lock:
            try:
                engine.assess({"previous_title": "nurse", "credential": "BSN", "notes": "IELTS 7, 3 years"})
            except Exception as e:  # noqa: BLE001 - a request will report any real problem
                logging.getLogger("matcher.api").warning("warm-up failed (%s)", type(e).__name__)

    threading.Thread(target=warm_up, name="matcher-warm-up", daemon=True).start()
    access = logging.getLogger("matcher.api")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    host = f"[{args.host}]" if ":" in args.host else args.host

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets=sockets)
            if self.started:
                print(f"matcher serve: ready at http://{host}:{args.port}/ (web app /client, API docs /docs) in "
                      f"{time.time() - t0:.1f}s"
                      + ("; bearer token required" if token else ""), file=sys.stderr, flush=True)

    config = uvicorn.Config(app, host=args.host, port=args.port, access_log=False, log_level="warning",
                            server_header=False)
    _Server(config).run()
    return 0


# --- parser -----------------------------------------------------------------------------------
def _dask_options(p) -> None:
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local: this machine's processes (default); dask: a Dask cluster (matcher.distributed)")
    p.add_argument("--scheduler", help="with --engine dask: the scheduler's address (tcp://host:8786); without "
                                       "it a local cluster is started and stopped for the run")
    p.add_argument("--partition-rows", type=int, default=5_000, help="with --engine dask: rows per partition, "
                   "cut at record boundaries (5000: a few seconds of work, and a worker stays under 600 MB)")

def _client_options(p) -> None:
    """The client options shared by ``pathways`` and ``plan``."""
    p.add_argument("--onet", required=True, help="the client's O*NET-SOC code, e.g. 29-1141.00")
    p.add_argument("--state", help="state whose licences apply (KY, IN); default: the ZIP's state, else KY")
    p.add_argument("--zip", help="the client's 5-digit ZIP code: state, county and OEWS area")
    p.add_argument("--area", help="OEWS area code for wages (default: the ZIP's county area, else 0031140 "
                                  "Louisville/Jefferson County, KY-IN)")
    p.add_argument("--english", help="CEFR level A1..C2")
    p.add_argument("--years", type=float, help="years of experience in the occupation")
    p.add_argument("--budget", type=float, help="savings the client can spend, USD")
    p.add_argument("--need-income-now", action="store_true")
    p.add_argument("--passed", action="append", help="an exam or credential passed or held (repeatable): an "
                   "identifier such as USMLE-1, ECFMG-CERT, IELTS, NCLEX-RN, FE, PE or an alias ('Step 1'); "
                   "an unknown one is an error listing the identifiers")
    p.add_argument("--config", help="settings file (TOML): weights, loan cap, term, rate, living support...")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="matcher", description="Credential pathway matching engine",
                                 epilog="--debug (anywhere) shows the traceback of an internal error")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("normalize", help="map job titles onto O*NET-SOC 2019")
    p.add_argument("--sheet", help="XLSX input: the sheet to read, or 'all' (sheets in order, with source_sheet)")
    p.add_argument("input", nargs="?", help="CSV, XLSX, JSONL or Parquet file")
    p.add_argument("-c", "--column", help="the column holding job titles")
    p.add_argument("-o", "--output", help="output file (format by extension)")
    p.add_argument("--top", type=int, default=5, help="how many codes in top_codes (default 5)")
    p.add_argument("--language-column", help="column with an ISO 639-1 language hint per row")
    p.add_argument("--country-column", help="column with the ISO country code per row (breaks ties in language "
                                            "detection)")
    p.add_argument("--text", help="normalize one title and print its top matches")
    p.add_argument("--language", help="language hint for --text")
    p.add_argument("--format", choices=["table", "json"], default="table", help="output of --text")
    p.add_argument("--chunk-size", type=int, default=25_000, help="rows read, matched and written at a time")
    p.add_argument("--n-jobs", type=int, default=None, help="worker processes for large files (default: every "
                   "core)")
    _dask_options(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_normalize)

    p = sub.add_parser("credentials", help="normalize foreign credentials (preliminary orientation)")
    p.add_argument("--sheet", help="XLSX input: the sheet to read, or 'all' (sheets in order, with source_sheet)")
    p.add_argument("input", nargs="?", help="CSV, XLSX, JSONL or Parquet file")
    p.add_argument("-c", "--column", help="the column holding credential names")
    p.add_argument("-o", "--output", help="output file (format by extension)")
    p.add_argument("--country-column", help="column with the country (ISO code or name)")
    p.add_argument("--text", help="normalize one credential and print the result")
    p.add_argument("--country", help="country for --text")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--chunk-size", type=int, default=50_000)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_credentials)

    p = sub.add_parser("pathways", help="rank relicensing pathways, bridge jobs and alternatives for an occupation")
    _client_options(p)
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.set_defaults(func=cmd_pathways)

    p = sub.add_parser("plan", help="a client's plan: licence route, bridge job, alternatives, money month by month")
    _client_options(p)
    p.add_argument("--work-authorized", choices=["yes", "no", "pending"], help="work authorisation (no bridge job "
                   "while it is pending)")
    p.add_argument("--graduation-year", type=int, help="year of graduation (residency eligibility)")
    p.add_argument("--format", choices=["table", "json", "html"], default="table")
    p.add_argument("-o", "--output", help="with --format html: write the printable page to this file")
    p.add_argument("--lang", help="with --format html: the page's language: en (default), es, fr, ar, uk")
    p.set_defaults(func=cmd_plan)

    p = sub.add_parser("data", help="facts about the curated data")
    dsub = p.add_subparsers(dest="data_command", required=True)
    q = dsub.add_parser("audit", help="per state: confirmed, partial and estimated facts, sources, oldest as_of")
    q.add_argument("--state", help="one state (default: all)")
    q.add_argument("--format", choices=["table", "json"], default="table")
    q.set_defaults(func=cmd_data)

    p = sub.add_parser("users", help="navigator accounts of the caseload store (web app and API)")
    usub = p.add_subparsers(dest="users_command", required=True)
    q = usub.add_parser("add", help="add a navigator: password (prompted, or --password-file) and an API token")
    q.add_argument("name")
    q.add_argument("--password-file", help="read the password from this file instead of prompting")
    q.add_argument("--database", help="database URL (default: MATCHER_DATABASE_URL, else SQLite in the user's "
                                      "data folder)")
    q.set_defaults(func=cmd_users)
    q = usub.add_parser("list", help="list the navigators")
    q.add_argument("--database", help="database URL")
    q.set_defaults(func=cmd_users)

    p = sub.add_parser("caseload", help="the caseload store: clients past their retention date")
    csub = p.add_subparsers(dest="caseload_command", required=True)
    q = csub.add_parser("retention", help="list (or --purge) the clients past their retention date")
    q.add_argument("--purge", action="store_true", help="delete them (every row about them)")
    q.add_argument("--as-of", help="the date to compare with (YYYY-MM-DD, default today)")
    q.add_argument("--database", help="database URL")
    q.set_defaults(func=cmd_caseload)

    p = sub.add_parser("report", help="the impact report of a scored intake file (HTML + JSON)")
    p.add_argument("scored", nargs="?", help="a file written by matcher score (CSV, XLSX, JSONL, Parquet)")
    p.add_argument("--database", help="build the report from the caseload store at this URL instead (clients' "
                                      "current plans and their outcome events)")
    p.add_argument("-o", "--output", required=True, help="report.html (report.json is written beside it)")
    p.add_argument("--outcomes", help="outcome events: client_id,date,event,occupation,hourly_wage[,amount_usd,note]")
    p.add_argument("--fund-capital", type=float, default=120_000.0, help="the loan fund's capital in USD (120000)")
    p.add_argument("--repayment-rate", type=float, default=0.9, help="share of loans repaid (0.9)")
    p.add_argument("--intake-per-month", type=float, help="new clients a month for the fund's projection "
                                                         "(default: the rate in the file)")
    p.add_argument("--as-of", help="the report's date, YYYY-MM-DD (default today): what is overdue")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("score", help="score an intake file: occupation, credential, pathways, openings")
    _dask_options(p)
    p.add_argument("--shared-storage", action="store_true",
                   help="with --engine dask: the Parquet input is on storage the workers share; each worker reads "
                        "its own row groups (the client reads only the footers) instead of receiving them")
    p.add_argument("--openings-sheet", help="XLSX openings: the sheet to read, or 'all'")
    p.add_argument("--sheet", help="XLSX input: the sheet to read, or 'all' (sheets in order, with source_sheet)")
    p.add_argument("intake", help="intake file (CSV, XLSX, JSONL or Parquet)")
    p.add_argument("-o", "--output", required=True, help="output file (format by extension)")
    p.add_argument("--openings", help="openings file to rank for each client")
    p.add_argument("--openings-map", action="append", metavar="COLUMN=FIELD", help="map an openings column")
    p.add_argument("--area", default="0031140", help="OEWS area code for wages (default Louisville)")
    p.add_argument("--state", default="KY", help="state whose licensing data applies")
    p.add_argument("--map", action="append", metavar="COLUMN=FIELD",
                   help="map an intake column to a field (client_id, previous_title, credential, country, language, "
                        "english_level, years_experience, zip, needs_income_now, budget_usd, notes)")
    p.add_argument("--top-pathways", type=int, default=3)
    p.add_argument("--top-openings", type=int, default=5)
    p.add_argument("--chunk-size", type=int, default=20_000)
    p.add_argument("--n-jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--config", help="settings file (TOML): weights, loan cap, term, rate, living support...")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("clients", help="rank the clients of an intake file for one opening")
    p.add_argument("--openings-sheet", help="XLSX openings: the sheet to read, or 'all'")
    p.add_argument("--sheet", help="XLSX input: the sheet to read, or 'all' (sheets in order, with source_sheet)")
    p.add_argument("opening_id", help="the opening's id in the openings file")
    p.add_argument("--intake", required=True, help="intake file")
    p.add_argument("--openings", required=True, help="openings file")
    p.add_argument("--map", action="append", metavar="COLUMN=FIELD", help="map an intake column")
    p.add_argument("--openings-map", action="append", metavar="COLUMN=FIELD", help="map an openings column")
    p.add_argument("--area", default="0031140")
    p.add_argument("--state", default="KY")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--config", help="settings file (TOML)")
    p.set_defaults(func=cmd_clients)
    p = sub.add_parser("serve", help="the navigator's web app (/client) and the HTTP API (docs at /docs) on one "
                                     "loaded engine")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                   "needs a token: MATCHER_API_TOKEN or --token-file)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--openings", help="openings file to rank (CSV, XLSX, JSONL or Parquet)")
    p.add_argument("--openings-sheet", help="XLSX openings: the sheet to read, or 'all'")
    p.add_argument("--state", default="KY", help="state whose licences apply when a ZIP does not decide it")
    p.add_argument("--area", help="OEWS area code for wages (default Louisville)")
    p.add_argument("--config", help="settings file (TOML)")
    p.add_argument("--token-file", help="file holding the bearer token the API requires (else MATCHER_API_TOKEN)")
    p.add_argument("--database", help="caseload store URL (default: MATCHER_DATABASE_URL, else SQLite in the "
                                      "user's data folder, created on first use)")
    p.add_argument("--no-caseload", action="store_true", help="serve without the caseload store")
    p.set_defaults(func=cmd_serve)
    return ap


# upper bounds of the options that size the work (ScoreConfig has its own, SCORE_LIMITS)
OPTION_LIMITS = {"top": 100, "chunk_size": 1_000_000, "n_jobs": 64}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command.  Every failure is one line on stderr: exit 2 for bad input or settings, 1 for an
    internal error (its traceback only with --debug); never a client's cell value."""
    raw = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in raw
    raw = [a for a in raw if a != "--debug"]
    args = build_parser().parse_args(raw)
    for name, cap in OPTION_LIMITS.items():
        v = getattr(args, name, None)
        if v is not None and not 1 <= v <= cap:
            print(f"error: --{name.replace('_', '-')} must be between 1 and {cap:,} (got {v:,})", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except MatcherError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`matcher pathways ... | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        print("error: out of memory; try a smaller --chunk-size or fewer --n-jobs", file=sys.stderr)
        return 1
    except OSError as e:
        if debug:
            raise
        # file-system problems (permissions, full disk, missing folder) name the path, not the data
        print(f"error: {e.strerror or type(e).__name__}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - the one place that turns a bug into a message
        if debug:
            raise
        print(f"error: internal error ({type(e).__name__}) in `matcher {args.command}`; nothing was written. "
              f"Run again with --debug for the traceback and report it.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
