"""Batch scoring of intake files: every row through the whole pipeline (notes -> title and
credential normalization -> pathways -> openings), in chunks, in parallel, with per-row status.

Nothing is lost: every input row appears in the output, in input order, with its original
columns; a row that cannot be scored gets status ``error`` and a reason, and the run goes on."""
from __future__ import annotations

import hashlib
import itertools
import math
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from ._util import BoundedCache, is_missing, merge_output
from .errors import ConfigError, InputError
from .credentials import normalize_country
from .intake import ClientRecord, NotesExtractor, parse_row, resolve_columns
from .plan import PLAN_COLUMNS, pathway_cell, plan_columns
from .settings import integer_problems
from .wages import LOUISVILLE

__all__ = ["ScoreConfig", "IntakeScorer", "score_file", "OUTPUT_COLUMNS"]


# upper bounds of the run options: enough for any real use, small enough to bound memory
SCORE_LIMITS = {"top_pathways": 20, "top_openings": 50, "chunk_size": 1_000_000, "n_jobs": 64}


@dataclass(frozen=True)
class ScoreConfig:
    area: str = LOUISVILLE
    state: str = "KY"
    top_pathways: int = 3
    top_openings: int = 5
    chunk_size: int = 20_000
    n_jobs: int = 1

    def __post_init__(self):
        problems = integer_problems(self, ("top_pathways", "top_openings"), minimum=0)
        problems += integer_problems(self, ("chunk_size", "n_jobs"))
        for name, cap in SCORE_LIMITS.items():
            v = getattr(self, name)
            if isinstance(v, int) and not isinstance(v, bool) and v > cap:
                problems.append(f"{name} must be at most {cap:,} (got {v:,})")
        if problems:
            raise ConfigError(problems)


def _today() -> str:
    """The scoring date written into every row (``scored_on``): the impact report's intake date
    when the intake file has none."""
    import datetime

    return datetime.date.today().isoformat()


def output_columns(cfg: ScoreConfig) -> list[str]:
    cols = ["onet_code", "onet_title", "soc_code", "isco_codes", "occupation_source", "title_status", "title_confidence", "language",
            "credential_type", "isced_level", "us_equivalent", "credential_field", "credential_targets",
            "evaluation_services", "english_level_used", "years_experience_used", "passed_exams", "planned_exams",
            "licence_state", "wage_area"]
    cols += [f"pathway_{i}" for i in range(1, cfg.top_pathways + 1)]
    cols += PLAN_COLUMNS
    cols += [f"opening_{i}" for i in range(1, cfg.top_openings + 1)]
    cols += ["status", "messages", "explanation", "taxonomy_version", "scored_on"]
    return cols


OUTPUT_COLUMNS = output_columns(ScoreConfig())


def _fmt_money(v) -> str:
    return "n/a" if is_missing(v) else f"${v:,.0f}"


class IntakeScorer:
    """Holds the engines (title matcher, credential normalizer, pathway and opening rankers) and
    scores DataFrame chunks.  ``openings`` is a frame already passed through ``prepare_openings``."""

    def __init__(self, config: ScoreConfig | None = None, openings: pd.DataFrame | None = None, settings=None,
                 planner=None, title_matcher=None):
        self.config = config or ScoreConfig()
        from .config import Settings
        from .credentials import CredentialNormalizer
        from .pathways import ClientContext
        from .plan import Planner
        from .taxonomy import load_taxonomy
        from .titles import TitleMatcher

        self.settings = settings or Settings()
        self.planner = planner or Planner.from_settings(self.settings, taxonomy=load_taxonomy())
        self.taxonomy = self.planner.ranker.taxonomy
        self.titles = title_matcher or TitleMatcher.load(taxonomy=self.taxonomy)
        self.credentials = CredentialNormalizer(self.taxonomy, title_matcher=self.titles)
        self.pathways = self.planner.ranker
        self.pathways.resolve_place(ClientContext("00-0000.00", state=self.config.state, area=self.config.area))
        self.opening_ranker = None
        self.set_openings(openings)
        self.notes = NotesExtractor(exams=self.pathways.exams)
        from .occupation import OccupationChooser

        self.occupations = OccupationChooser(self.titles, self.taxonomy)
        self._path_cache = BoundedCache("plans")
        self._notes_cache = BoundedCache("notes")
        self._place_cache = BoundedCache("place")
        self._openings_cache = BoundedCache("openings")

    def set_openings(self, openings: pd.DataFrame | None) -> "IntakeScorer":
        """Rank these openings from now on (a frame passed through ``prepare_openings``; None: none)."""
        from .openings import OpeningRanker

        self.openings = openings
        self.opening_ranker = (OpeningRanker(self.pathways, self.settings.openings).fit(openings)
                               if openings is not None and len(openings) else None)
        if hasattr(self, "_openings_cache"):
            self._openings_cache.clear()
        return self

    def _place(self, zip_code: str) -> tuple[str, str, str]:
        """(state, OEWS area, message) for a row: its ZIP decides when the project has that state's
        licences; otherwise the configured state and area, with a message."""
        cfg = self.config
        if not zip_code:
            return cfg.state, cfg.area, ""
        hit = self._place_cache.get(zip_code)
        if hit is None:
            from .pathways import ClientContext

            try:
                state, area, _ = self.pathways.resolve_place(ClientContext("00-0000.00", zip_code=zip_code))
                hit = (state, area, "")
            except InputError as e:
                hit = (cfg.state, cfg.area, f"zip {zip_code}: {e}; {cfg.state} licences and area {cfg.area} used")
            self._place_cache[zip_code] = hit
        return hit

    def plan_openings(self, prof, plan, top: int) -> tuple[list, list]:
        """Openings for a client's plan: (to apply to now: the bridge, or the route when it needs
        no licence; to apply to once licensed: up to half of ``top`` in a licence route's
        occupation).  Each is a list of ``OpeningMatch``; together at most ``top``."""
        from dataclasses import replace as _replace

        route, bridge = plan.route, plan.bridge
        after = route.kind == "relicensure"
        later = []
        if after:
            ranked = self.opening_ranker.rank_openings(_replace(prof, onet_code=route.target_onet), top=top)
            later = [m for m in ranked if m.onet_code == route.target_onet][:top // 2]
        now_code = bridge.target_onet if bridge is not None else prof.onet_code
        now_prof = _replace(prof, onet_code=now_code,
                            targets=tuple(t for t in prof.targets if not (after and t[0] == route.target_onet)))
        seen = {m.opening_id for m in later}
        now = []
        for m in self.opening_ranker.rank_openings(now_prof, top=top + len(later)):
            if len(now) + len(later) >= top:
                break
            if m.opening_id in seen or (after and m.onet_code == route.target_onet):
                continue      # a job that needs the licence is listed under 'after licence'
            seen.add(m.opening_id)
            now.append(m)
        return now, later

    def _openings_for_plan(self, prof, plan, top: int) -> list[str]:
        now, later = self.plan_openings(prof, plan, top)
        return ([f"{m.employer} - {m.title} [{m.opening_id}] (score {m.score:.2f}) (apply now)" for m in now] +
                [f"{m.employer} - {m.title} [{m.opening_id}] (score {m.score:.2f}) (after licence)" for m in later])

    # --- one chunk ---
    def score_frame(self, df: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
        """Score a chunk; returns the chunk's columns plus the output columns, same row order."""
        rows, _, _ = self._score_rows(df, columns)
        # every output cell is text (empty where not applicable), so the columns have one type in
        # CSV, XLSX, JSONL and Parquet alike
        # object columns from the start: a chunk whose column holds whole numbers and blanks must not
        # turn 24 into "24.0" (its type would then depend on which rows share the chunk)
        out = pd.DataFrame(rows, columns=output_columns(self.config), dtype=object).fillna("").astype(str)
        return merge_output(df, out)

    def client_profiles(self, df: pd.DataFrame, columns: Mapping[str, str]) -> list:
        """The ``ClientProfile`` of every row (None where the row cannot be scored), for ranking
        clients against an opening with ``OpeningRanker.rank_clients``."""
        return self._score_rows(df, columns)[1]

    def _tick(self, stage: str, since: float) -> float:
        """Add the seconds since ``since`` to ``timings_[stage]`` (where a run's time goes); returns now."""
        now = time.perf_counter()
        timings = self.__dict__.setdefault("timings_", {})
        timings[stage] = timings.get(stage, 0.0) + (now - since)
        return now

    def _score_rows(self, df: pd.DataFrame, columns: Mapping[str, str]) -> tuple[list[dict], list, list]:
        """(output rows, client profiles, plans) of a chunk, in order."""
        t0 = time.perf_counter()
        raw = df.to_dict("records")
        records: list[ClientRecord | None] = []
        errors: list[str] = []
        from .io import ROW_ERROR, ROW_LINE

        for r in raw:
            if r.get(ROW_ERROR):
                # the reader could not read this row: it keeps its place, with the reason and its line
                records.append(None)
                errors.append(f"line {r.get(ROW_LINE, '?')}: {r[ROW_ERROR]}")
                continue
            try:
                notes = str(r.get(columns["notes"], "") or "") if "notes" in columns else ""
                if notes not in self._notes_cache:
                    self._notes_cache[notes] = self.notes.extract(notes)
                records.append(parse_row(r, columns, self._notes_cache[notes], exams=self.pathways.exams,
                                         geography=self.pathways.geography))
                errors.append("")
            except Exception as e:  # noqa: BLE001 - one bad row never stops the batch
                records.append(None)
                errors.append(f"line {r.get(ROW_LINE, '?')}: row could not be parsed ({type(e).__name__})")
        t = self._tick("reading notes and fields", t0)
        titles = [rec.previous_title if rec else "" for rec in records]
        langs = [rec.language or None if rec else None for rec in records]
        title_res = self.titles.match_many(titles, languages=langs,
                                           countries=[normalize_country(rec.country) if rec else None for rec in records])
        t = self._tick("title matching", t)
        cred_res = self.credentials.normalize_many([rec.credential if rec else "" for rec in records],
                                                   [rec.country if rec else "" for rec in records])
        self._tick("credentials", t)
        rows = []
        for rec, err, tm, cr in zip(records, errors, title_res, cred_res):
            try:
                rows.append(self._score_record(rec, err, tm, cr))
            except Exception as e:  # noqa: BLE001 - one bad row never stops the batch
                rows.append({"status": "error", "messages": f"internal error while scoring this row "
                                                            f"({type(e).__name__})",
                             "taxonomy_version": self.taxonomy.version, "scored_on": _today()})
        profiles = [r.pop("_profile", None) for r in rows]
        plans = [r.pop("_plan", None) for r in rows]
        return rows, profiles, plans

    def _score_record(self, rec: ClientRecord | None, err: str, tm, cr) -> dict:
        from .openings import ClientProfile
        from .pathways import ClientContext

        cfg = self.config
        row: dict = {"taxonomy_version": self.taxonomy.version, "scored_on": _today()}
        if rec is None:
            row.update(status="error", messages=err)
            return row
        msgs = list(rec.messages)
        row.update(language=tm.language if rec.previous_title else "", title_status=tm.status if rec.previous_title else "",
                   title_confidence=tm.confidence if rec.previous_title else "",
                   credential_type=cr.credential_type, isced_level=cr.isced_level if cr.isced_level else "",
                   us_equivalent=cr.us_equivalent, credential_field=cr.field_name,
                   credential_targets="|".join(cr.target_onet_codes),
                   evaluation_services="|".join(cr.evaluation_service_names),
                   english_level_used=rec.english_level or "",
                   years_experience_used="" if rec.years_experience is None else rec.years_experience,
                   passed_exams="|".join(rec.passed), planned_exams="|".join(rec.planned))
        choice = self.occupations.choose(rec, tm, cr, given=rec.onet_code)
        msgs += choice.messages
        code, source = choice.onet_code, choice.source
        if not code:
            row.update(status="error", messages="; ".join(msgs), explanation=choice.explanation)
            return row
        row.update(onet_code=code, onet_title=self.taxonomy.title(code), soc_code=self.taxonomy.soc_code(code),
                   isco_codes=self.taxonomy.isco_codes(code),
                   occupation_source=source)
        expl = [choice.explanation]
        isced = cr.isced_level if cr.status != "no_match" else None
        state, area, place_msg = self._place(rec.zip)
        if place_msg:
            msgs.append(place_msg)
        key = (code, rec.english_level, rec.years_experience, rec.budget_usd, rec.needs_income_now, rec.passed, isced,
               state, area, rec.work_authorized, rec.graduation_year)
        hit = self._path_cache.get(key)
        if hit is None:
            t = time.perf_counter()
            ctx = ClientContext(code, state=state, area=area, english=rec.english_level,
                                years_experience=rec.years_experience, budget_usd=rec.budget_usd,
                                need_income_now=rec.needs_income_now, isced_level=isced, passed=rec.passed)
            paths = self.pathways.rank(ctx)
            plan = self.planner.plan(ctx, rec.work_authorized or None, rec.graduation_year, paths=paths)
            hit = (paths[:max(cfg.top_pathways, 5)], plan)
            self._path_cache[key] = hit
            self._tick("pathways and plans", t)
        paths, plan = hit
        row.update(licence_state=state, wage_area=area)
        for i, p in enumerate(paths[:cfg.top_pathways], 1):
            row[f"pathway_{i}"] = pathway_cell(p)
        row.update(plan_columns(plan))
        expl.append(f"plan: {plan.route_note}")
        if plan.bridge_note:
            expl.append(f"bridge: {plan.bridge_note}")
        status = "ok"
        route, bridge = plan.route, plan.bridge
        targets = [(route.target_onet, route.kind, route.score)]
        if bridge is not None:
            targets.append((bridge.target_onet, "bridge", bridge.score))
        targets += [(p.target_onet, p.kind, p.score) for p in plan.alternatives]
        relicensing = route.kind == "relicensure"
        prof = ClientProfile(rec.client_id, code, tuple(targets), rec.english_level, rec.years_experience, rec.zip,
                             tuple(route.license["id"] for _ in [0] if relicensing and route.license and
                                   route.license.get("id")),
                             wants_relicensing=relicensing)
        row["_profile"] = prof
        row["_plan"] = plan
        if self.opening_ranker is not None and cfg.top_openings:
            okey = (key, rec.zip)        # openings also depend on the distance from the client's ZIP
            cells = self._openings_cache.get(okey)
            if cells is None:
                t = time.perf_counter()
                cells = self._openings_cache[okey] = self._openings_for_plan(prof, plan, cfg.top_openings)
                self._tick("openings", t)
            for i, cell in enumerate(cells, 1):
                row[f"opening_{i}"] = cell
        elif cfg.top_openings:
            msgs.append("no openings file given")
        if source not in ("title", "given") or choice.title_match.status == "review" or rec.messages:
            status = "partial"
        row.update(status=status, messages="; ".join(msgs), explanation=" | ".join(expl))
        return row


# --- workers ---------------------------------------------------------------------------------
def build_scorer(config_items: tuple, settings_json: str, openings_blob: bytes | None) -> IntakeScorer:
    """A scorer from what travels to a worker process: the config's items, the settings as JSON
    and the prepared openings pickled (joblib workers and Dask workers both build theirs here)."""
    import io as _io
    import json as _json

    from .config import Settings

    openings = pd.read_pickle(_io.BytesIO(openings_blob)) if openings_blob else None
    return IntakeScorer(ScoreConfig(**dict(config_items)), openings, Settings.from_dict(_json.loads(settings_json)))


@lru_cache(maxsize=2)
def _worker_scorer(config_items: tuple, settings_json: str, openings_key: str,
                   openings_blob: bytes | None) -> IntakeScorer:
    """One scorer per worker process (engines are loaded once, then reused for every chunk)."""
    return build_scorer(config_items, settings_json, openings_blob)


def _score_part(config_items, settings_json, openings_key, openings_blob, df, columns):
    return _worker_scorer(config_items, settings_json, openings_key, openings_blob).score_frame(df, columns)


def score_file(intake: str | Path, output: str | Path, openings: str | Path | pd.DataFrame | None = None,
               mapping: Mapping[str, str] | None = None, openings_mapping: Mapping[str, str] | None = None,
               config: ScoreConfig | None = None,
               progress: Callable[[int], None] | None = None, settings=None, sheet: str | None = None,
               openings_sheet: str | None = None, prepared_openings: pd.DataFrame | None = None,
               scorer: "IntakeScorer | None" = None) -> dict:
    """Score an intake file into ``output`` (atomic write).  Returns run statistics (with the input's
    detected ``encoding``).  ``settings`` (``matcher.config.Settings``) shapes pathways, plans and
    openings; ``sheet`` / ``openings_sheet`` pick XLSX sheets (a name, or ``all``)."""
    import io as _io
    import json as _json

    from .config import Settings

    from .io import RESERVED_COLUMNS, TableWriter, open_table, refuse_same_file
    from .openings import load_openings, prepare_openings

    cfg = config or ScoreConfig()
    settings_json = _json.dumps((settings or Settings()).to_dict(), sort_keys=True)
    t0 = time.time()
    refuse_same_file(output, intake, *([openings] if isinstance(openings, (str, Path)) else []))
    reader = open_table(intake, chunksize=cfg.chunk_size, sheet=sheet)
    chunks = iter(reader)
    first = next(chunks, None)
    if first is None:
        raise InputError(f"{intake}: no rows")
    # all missing columns reported before any work
    columns = resolve_columns([c for c in first.columns if c not in RESERVED_COLUMNS], mapping)
    opening_frame = prepared_openings
    if opening_frame is None and openings is not None:
        from .taxonomy import load_taxonomy
        from .titles import TitleMatcher

        raw = load_openings(openings, openings_mapping, sheet=openings_sheet)
        tax = load_taxonomy()
        opening_frame = prepare_openings(raw, TitleMatcher.load(taxonomy=tax), tax)
    blob = None
    key = ""
    if opening_frame is not None:
        buf = _io.BytesIO()
        opening_frame.to_pickle(buf)
        blob = buf.getvalue()
        key = hashlib.sha256(blob).hexdigest()
    items = tuple(sorted(asdict(cfg).items()))
    stats = {"rows": 0, "ok": 0, "partial": 0, "error": 0}
    parallel = None
    if cfg.n_jobs > 1:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=cfg.n_jobs, backend="loky")
    with TableWriter(output) as out:
        for chunk in itertools.chain([first], chunks):
            # worker processes pay off once a chunk is large; small files are scored in this process
            if parallel is not None and len(chunk) >= 5000:
                size = math.ceil(len(chunk) / cfg.n_jobs)
                parts = [chunk.iloc[i:i + size] for i in range(0, len(chunk), size)]
                scored = pd.concat(parallel(delayed(_score_part)(items, settings_json, key, blob, p, columns) for p in parts),
                                   ignore_index=True)
            elif scorer is not None:
                scored = scorer.score_frame(chunk, columns)      # the caller's engine, already loaded
            else:
                scored = _score_part(items, settings_json, key, blob, chunk, columns)
            out.write(scored)
            counts = scored["status"].value_counts()
            for s in ("ok", "partial", "error"):
                stats[s] += int(counts.get(s, 0))
            stats["rows"] += len(chunk)
            if progress:
                progress(len(chunk))
    _worker_scorer.cache_clear()     # no scorer outlives the call in this process
    stats["seconds"] = round(time.time() - t0, 2)
    stats["rows_per_second"] = round(stats["rows"] / max(stats["seconds"], 1e-9), 1)
    stats["openings"] = 0 if opening_frame is None else len(opening_frame)
    stats["encoding"] = reader.encoding or ""
    return stats
