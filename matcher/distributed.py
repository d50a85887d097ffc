"""``matcher score`` and ``matcher normalize`` on a Dask cluster (``--engine dask``).

    score_file_dask("intake.csv", "scored.parquet", scheduler=None)    # a local cluster for the run
    score_file_dask("intake.csv", "out/", scheduler="tcp://10.0.0.5:8786")   # part-00000.parquet, ...

Partitions are cut at record boundaries by the project's own reader (``matcher.io.open_table``:
encoding detection, text cells, quoted newlines, per-row errors), never by byte blocks; the client
reads the input and sends each partition to the cluster.  Each worker loads the scorer (models,
tables and the openings index, which travels once with the plugin) once, in a worker plugin, and
scores every partition with the same code as the local path (``IntakeScorer.score_frame``).
Results come back in input order: one file written atomically by ``TableWriter`` (same cleaning and
formula guard), or ``part-NNNNN.parquet`` files in a folder.  A task lost with its worker is retried
by Dask (``retries``); results are keyed by partition, so none is written twice.
"""
from __future__ import annotations

import io as _io
import json as _json
import time
from collections import deque
from pathlib import Path

import pandas as pd

from .errors import InputError

__all__ = ["score_file_dask", "normalize_file_dask", "DASK_FORMATS"]

DASK_FORMATS = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".parquet")
PARTITION_ROWS = 20_000          # rows per partition
IN_FLIGHT_PER_WORKER = 2         # partitions submitted ahead per worker (bounds the client's memory)
RETRIES = 3                      # a partition lost with its worker is run again


def _inputs(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in DASK_FORMATS and f.is_file())
        if not files:
            raise InputError(f"{p}: no {', '.join(DASK_FORMATS)} files in this folder")
        return files
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        raise InputError(f"{p.name}: --engine dask reads {', '.join(DASK_FORMATS)} files or folders of them, not "
                         f"Excel workbooks (save the sheet as CSV, or score it with the local engine)")
    if p.suffix.lower() not in DASK_FORMATS:
        raise InputError(f"{p.name}: --engine dask reads {', '.join(DASK_FORMATS)} files or folders of them")
    return [p]


def _partitions(paths: list[Path], rows: int):
    from .io import open_table

    for p in paths:
        for chunk in open_table(p, chunksize=rows):
            if len(chunk):
                yield chunk


def _client(scheduler: str | None, n_workers: int | None, memory_limit: str | None):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    import os

    workers = n_workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           memory_limit=memory_limit or "auto", silence_logs=40)
    return Client(cluster), cluster


class _Plugin:
    """Worker plugin: builds the part once per worker (``build`` -> object kept on the worker)."""

    def __init__(self, name: str, build, *args):
        self.name, self.build, self.args = name, build, args

    def setup(self, worker):
        setattr(worker, f"_matcher_{self.name}", self.build(*self.args))

    def teardown(self, worker):
        if hasattr(worker, f"_matcher_{self.name}"):
            delattr(worker, f"_matcher_{self.name}")


def _build_matcher():
    from .titles import TitleMatcher

    return TitleMatcher.load()


def _score_partition(df: pd.DataFrame, columns: dict, token: str) -> tuple[pd.DataFrame, dict]:
    """The scored partition and the seconds its stages took on the worker."""
    from distributed import get_worker

    scorer = getattr(get_worker(), "_matcher_scorer")
    before = dict(getattr(scorer, "timings_", {}))
    out = scorer.score_frame(df, columns)
    after = getattr(scorer, "timings_", {})
    return out, {k: v - before.get(k, 0.0) for k, v in after.items()}


def _normalize_partition(titles: list, languages: list, countries: list, top: int, token: str) -> list:
    from distributed import get_worker

    from .titles import to_rows

    m = getattr(get_worker(), "_matcher_titles")
    return to_rows(m.match_many(titles, top=top, languages=languages, countries=countries))


def _register(client, plugin) -> None:
    from distributed.diagnostics.plugin import WorkerPlugin

    class P(WorkerPlugin):
        name = f"matcher-{plugin.name}"

        def __init__(self, inner):
            self.inner = inner

        def setup(self, worker):
            self.inner.setup(worker)

        def teardown(self, worker):
            self.inner.teardown(worker)

    client.register_plugin(P(plugin))


def _run_ordered(client, parts, submit, on_result, n_workers: int, clock: dict | None = None) -> None:
    """Submit partitions (bounded in flight) and hand results on in input order.  ``clock``
    collects the client's seconds: reading partitions, waiting for results, writing them."""
    clock = clock if clock is not None else {}
    add = lambda k, t: clock.__setitem__(k, clock.get(k, 0.0) + time.perf_counter() - t)  # noqa: E731
    queue: deque = deque()
    limit = max(2, IN_FLIGHT_PER_WORKER * n_workers)

    def drain_one():
        j, p, fut = queue.popleft()
        t = time.perf_counter()
        res = fut.result()
        add("client waiting for workers", t)
        t = time.perf_counter()
        on_result(j, p, res)
        add("client writing", t)

    it = iter(parts)
    i = 0
    while True:
        t = time.perf_counter()
        part = next(it, None)
        add("client reading", t)
        if part is None:
            break
        queue.append((i, part, submit(i, part)))
        i += 1
        while len(queue) >= limit:
            drain_one()
    while queue:
        drain_one()


def score_file_dask(intake, output, config=None, settings=None, prepared_openings: pd.DataFrame | None = None,
                    mapping=None, scheduler: str | None = None, n_workers: int | None = None,
                    partition_rows: int = PARTITION_ROWS, progress=None, memory_limit: str | None = None) -> dict:
    """Score an intake file (or a folder of them) on a Dask cluster; see the module docstring."""
    import uuid
    from dataclasses import asdict

    from .batch import ScoreConfig
    from .config import Settings
    from .intake import resolve_columns
    from .io import RESERVED_COLUMNS, TableWriter, refuse_same_file

    cfg = config or ScoreConfig()
    paths = _inputs(intake)
    out = Path(output)
    to_dir = str(output).endswith(("/", "\\")) or out.is_dir()
    if not to_dir:
        refuse_same_file(out, *paths)
    t0 = time.time()
    parts = _partitions(paths, partition_rows)
    first = next(parts, None)
    if first is None:
        raise InputError(f"{intake}: no rows")
    columns = resolve_columns([c for c in first.columns if c not in RESERVED_COLUMNS], mapping)
    blob = None
    if prepared_openings is not None:
        buf = _io.BytesIO()
        prepared_openings.to_pickle(buf)
        blob = buf.getvalue()
    settings_json = _json.dumps((settings or Settings()).to_dict(), sort_keys=True)
    client, cluster = _client(scheduler, n_workers, memory_limit)
    stats = {"rows": 0, "ok": 0, "partial": 0, "error": 0, "partitions": 0}
    run = uuid.uuid4().hex[:8]
    try:
        from .batch import build_scorer

        _register(client, _Plugin("scorer", build_scorer, tuple(sorted(asdict(cfg).items())), settings_json, blob))
        workers = max(1, len(client.scheduler_info()["workers"]))

        def submit(i, part):
            return client.submit(_score_partition, part, columns, f"{run}-{i}", key=f"matcher-score-{run}-{i:05d}",
                                 retries=RETRIES, pure=False)

        import itertools

        worker_time: dict = {}
        clock: dict = {}

        def take(res):
            scored, timings = res
            for k, v in timings.items():
                worker_time[k] = worker_time.get(k, 0.0) + v
            return scored

        if to_dir:
            out.mkdir(parents=True, exist_ok=True)

            def on_result(i, part, res):
                scored = take(res)
                with TableWriter(out / f"part-{i:05d}.parquet") as w:      # same cleaning, atomic
                    w.write(scored)
                _count(stats, scored, progress)

            _run_ordered(client, itertools.chain([first], parts), submit, on_result, workers, clock)
        else:
            t_close = 0.0
            with TableWriter(out) as w:
                def on_result(i, part, res):
                    scored = take(res)
                    w.write(scored)
                    _count(stats, scored, progress)

                _run_ordered(client, itertools.chain([first], parts), submit, on_result, workers, clock)
                t_close = time.perf_counter()
            clock["client writing"] = clock.get("client writing", 0.0) + time.perf_counter() - t_close
        stats["workers"] = workers
        stats["time_split_s"] = {**{f"workers: {k}": round(v, 1) for k, v in sorted(worker_time.items())},
                                 **{k: round(v, 1) for k, v in clock.items()}}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    stats["seconds"] = round(time.time() - t0, 2)
    stats["rows_per_second"] = round(stats["rows"] / max(stats["seconds"], 1e-9), 1)
    return stats


def _count(stats: dict, scored: pd.DataFrame, progress) -> None:
    counts = scored["status"].value_counts()
    for s in ("ok", "partial", "error"):
        stats[s] += int(counts.get(s, 0))
    stats["rows"] += len(scored)
    stats["partitions"] += 1
    if progress:
        progress(len(scored))


def normalize_file_dask(src, output, column: str, language_column: str | None = None,
                        country_column: str | None = None, top: int | None = None, scheduler: str | None = None,
                        n_workers: int | None = None, partition_rows: int = PARTITION_ROWS, progress=None) -> dict:
    """``matcher normalize`` on a Dask cluster: each worker loads the title model once."""
    import itertools
    import uuid

    from ._util import merge_output
    from .io import TableWriter, refuse_same_file
    from .titles import FRAME_COLUMNS

    paths = _inputs(src)
    out = Path(output)
    refuse_same_file(out, *paths)
    t0 = time.time()
    parts = _partitions(paths, partition_rows)
    first = next(parts, None)
    if first is None:
        raise InputError(f"{src}: no rows")
    for c in (column, language_column, country_column):
        if c and c not in first.columns:
            raise InputError(f"{src}: no column {c!r}")
    client, cluster = _client(scheduler, n_workers, None)
    run = uuid.uuid4().hex[:8]
    stats = {"rows": 0, "partitions": 0}
    try:
        _register(client, _Plugin("titles", _build_matcher))
        workers = max(1, len(client.scheduler_info()["workers"]))

        def submit(i, part):
            t = part[column].tolist()
            lg = part[language_column].tolist() if language_column else [None] * len(part)
            ct = part[country_column].tolist() if country_column else [None] * len(part)
            return client.submit(_normalize_partition, t, lg, ct, top, f"{run}-{i}", key=f"matcher-norm-{run}-{i:05d}",
                                 retries=RETRIES, pure=False)

        with TableWriter(out) as w:
            def on_result(i, part, rows):
                extra = pd.DataFrame(rows, columns=list(FRAME_COLUMNS), index=part.index)
                w.write(merge_output(part, extra))
                stats["rows"] += len(part)
                stats["partitions"] += 1
                if progress:
                    progress(len(part))

            _run_ordered(client, itertools.chain([first], parts), submit, on_result, workers)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    stats["seconds"] = round(time.time() - t0, 2)
    return stats
