"""``matcher score`` and ``matcher normalize`` on a Dask cluster (``--engine dask``).

    score_file_dask("intake.csv", "scored.parquet", openings="openings.csv")    # a local cluster for the run
    score_file_dask("intake/", "out/", scheduler="tcp://10.0.0.5:8786")          # part-00000.parquet, ...
    score_file_dask("/shared/intake.parquet", "out.csv", scheduler=..., shared_storage=True)

Partitions are cut at record boundaries by the project's own reader (``matcher.io.open_table``:
encoding detection, text cells, quoted newlines, per-row errors), never by byte blocks; the client
reads the input and sends each partition, unless the input is Parquet on storage the workers share
(``shared_storage``): then the client reads only the footers and each worker reads its own row
groups.  The client never loads the models: it checks the options, reads the openings file and
sends it; one worker prepares the openings index, which then travels once to every worker.
Worker plugins (one set per run, removed at its end) build the scorer once per worker; every
partition goes through the same ``IntakeScorer.score_frame`` as the local path, in slices of
``SLICE_ROWS`` rows, and comes back as Parquet bytes.  Results are written in input order: one
file, atomically, by ``TableWriter`` (same cleaning and formula guard; Parquet streamed row group
by row group), or ``part-NNNNN.parquet`` files in a folder.  A task lost with its worker is retried
by Dask (``retries``); results are keyed by partition, so none is written twice.

Memory: a worker stays under 600 MB (measured by ``scripts/benchmark.py --engine dask``): the model
holds its strings in compact buffers, the caches are bounded by size, the Arrow pool is the system
allocator and freed pages go back to the system after each partition (``release_memory``).  The
workers of a local cluster run without Dask's statistical profiler: it keeps one call tree per
second for the last 1,000 seconds (``distributed.admin.low-level-log-length``), 50-70 MB of
scoring call trees on a worker, which grew a worker by about 0.3 MB per 1,000 rows for 17
minutes.  A cluster started elsewhere keeps its own settings; the run reports whether its workers
profile (``workers_profiling``), and the README gives the ``dask worker`` setting.
"""
from __future__ import annotations

import io as _io
import json as _json
import time
from collections import deque
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .errors import InputError

__all__ = ["DASK_FORMATS", "normalize_file_dask", "score_file_dask"]

DASK_FORMATS = (".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".parquet")
PARTITION_ROWS = 5_000           # rows per partition (a few seconds of work; bounds a worker's memory)
SLICE_ROWS = 1_000               # a worker scores its partition in slices of this many rows (bounds memory)
IN_FLIGHT_PER_WORKER = 2         # partitions submitted ahead per worker (bounds the client's memory)
RETRIES = 3                      # a partition lost with its worker is run again
# a local cluster's workers: no statistical profiler (its history of call trees grows a worker by 50-70 MB)
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


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


def _shared_parts(paths: list[Path], rows: int) -> list[tuple[str, int, int, int]]:
    """With storage the workers share: (file, first row group, end row group, rows) for every
    partition, cut from the Parquet footers alone; the workers read the rows themselves."""
    import pyarrow.parquet as pq

    parts = []
    for p in paths:
        try:
            meta = pq.ParquetFile(p).metadata
        except Exception as e:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError ...
            raise InputError(f"{p}: cannot be read as Parquet ({type(e).__name__})") from None
        a, n = 0, 0
        for g in range(meta.num_row_groups):
            n += meta.row_group(g).num_rows
            if n >= rows or g == meta.num_row_groups - 1:
                parts.append((str(p.resolve()), a, g + 1, n))
                a, n = g + 1, 0
    return parts


def _read_shared(part: tuple[str, int, int, int]) -> pd.DataFrame:
    from .io import open_table

    path, a, b, _ = part
    return next(iter(open_table(path, chunksize=None, row_groups=(a, b))))


@contextmanager
def _session(scheduler: str | None, n_workers: int | None, memory_limit: str | None):
    """(client, the run's plugin names): on ``scheduler``, else on a local cluster started for the
    run.  On leaving, the run's plugins are removed and the client (and a local cluster) closed."""
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        import os

        workers = n_workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                   else os.cpu_count())
        import dask

        # the nannies copy the configuration when made, so their workers (restarts included) keep it
        with dask.config.set(LOCAL_WORKER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                   memory_limit=memory_limit or "auto", silence_logs=40)
        client = Client(cluster)
    plugins: list[str] = []
    try:
        yield client, plugins
    finally:
        _unregister(client, plugins)
        client.close()
        if cluster is not None:
            cluster.close()


def _worker_state(worker, run: str) -> dict:
    """What this run keeps on a worker (its scorer or title matcher), apart from other runs."""
    runs = worker.__dict__.setdefault("_matcher_runs", {})
    return runs.setdefault(run, {})


def _run_scorer(worker, run: str, config_items: tuple, settings_json: str):
    """The run's scorer on this worker, built on first need (models and tables load once per worker)."""
    from ._util import release_memory

    state = _worker_state(worker, run)
    if "scorer" not in state:
        from ._util import lean_caches
        from .batch import build_scorer

        _system_arrow_pool()
        with lean_caches():
            state["scorer"] = build_scorer(config_items, settings_json, None)
        release_memory()
    return state["scorer"]


def _plugin_class():
    from distributed.diagnostics.plugin import WorkerPlugin

    class MatcherPlugin(WorkerPlugin):
        """Per run and per worker: ``scorer`` builds the scorer; ``openings`` gives it the prepared
        openings (both idempotent, so a worker that joins mid-run, e.g. after one was lost, gets
        the same state whatever order they run in); ``titles`` loads the title matcher."""

        def __init__(self, run: str, kind: str, args: tuple):
            self.run, self.kind, self.args = run, kind, args
            self.name = f"matcher-{run}-{kind}"

        def setup(self, worker):
            if self.kind == "titles":
                from ._util import release_memory
                from .titles import TitleMatcher

                state = _worker_state(worker, self.run)
                if "titles" not in state:
                    _system_arrow_pool()
                    state["titles"] = TitleMatcher.load()
                    release_memory()
                return
            config_items, settings_json, openings_blob = self.args
            scorer = _run_scorer(worker, self.run, config_items, settings_json)
            if self.kind == "openings" and _worker_state(worker, self.run).get("openings") != self.name:
                scorer.set_openings(pd.read_pickle(_io.BytesIO(openings_blob)))
                _worker_state(worker, self.run)["openings"] = self.name

        def teardown(self, worker):
            worker.__dict__.get("_matcher_runs", {}).pop(self.run, None)

    return MatcherPlugin


def _system_arrow_pool() -> None:
    """Text columns are Arrow arrays (pandas 3): on a worker they are allocated by the system
    allocator, whose freed pages ``release_memory`` returns (Arrow's mimalloc pool keeps them,
    about 40 MB more per worker)."""
    try:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    except (ImportError, AttributeError):
        pass


def _prepare_openings(run: str, raw: pd.DataFrame) -> pd.DataFrame:
    """On one worker: the openings index (each opening's occupation from its title), sent back
    once and then broadcast to every worker with the ``openings`` plugin."""
    from distributed import get_worker

    from .openings import prepare_openings

    scorer = _worker_state(get_worker(), run)["scorer"]
    return prepare_openings(raw, scorer.titles, scorer.taxonomy)


def _score_partition(run: str, df, columns: dict, slice_rows: int = SLICE_ROWS) -> tuple[bytes, dict]:
    """The scored partition as Parquet bytes (a fifth of the frame's size: less for the worker to
    hold and the network to carry) and the seconds its stages took on the worker.  ``df`` is the
    partition, or where to read it on shared storage (``_shared_parts``)."""
    from distributed import get_worker

    from ._util import lean_caches, release_memory

    scorer = _worker_state(get_worker(), run)["scorer"]
    if isinstance(df, tuple):
        t = time.perf_counter()
        df = _read_shared(df)
        scorer._tick("reading shared input", t)
    before = dict(getattr(scorer, "timings_", {}))
    # scored in slices: a slice's temporary arrays are freed before the next (the same rows, in order);
    # caches made while scoring take the lean limits, as those made when the scorer was built
    with lean_caches():
        out = pd.concat([scorer.score_frame(df.iloc[i:i + slice_rows], columns) for i in range(0, len(df), slice_rows)],
                        ignore_index=True) if len(df) else scorer.score_frame(df, columns)
    after = getattr(scorer, "timings_", {})
    buf = _io.BytesIO()
    out.to_parquet(buf, index=False)
    del out
    release_memory()
    return buf.getvalue(), {k: v - before.get(k, 0.0) for k, v in after.items()}


def _normalize_partition(run: str, titles: list, languages: list, countries: list, top: int) -> list:
    from distributed import get_worker

    from .titles import to_rows

    m = _worker_state(get_worker(), run)["titles"]
    return to_rows(m.match_many(titles, top=top, languages=languages, countries=countries))


def _register(client, run: str, kind: str, *args) -> str:
    plugin = _plugin_class()(run, kind, args)
    client.register_plugin(plugin)
    return plugin.name


def _unregister(client, names: list[str]) -> None:
    """Drop the run's plugins (their teardown frees the run's scorer on every worker): a shared
    cluster does not keep this run's models after it."""
    for name in names:
        try:
            client.unregister_worker_plugin(name)
        except Exception:  # noqa: BLE001, S110 - the cluster may already be gone
            pass


def _run_ordered(client, parts, submit, on_result, n_workers: int, clock: dict | None = None) -> None:
    """Submit partitions (bounded in flight) and hand results on in input order.  ``clock``
    collects the client's seconds: reading partitions, waiting for results, writing them."""
    clock = clock if clock is not None else {}
    add = lambda k, t: clock.__setitem__(k, clock.get(k, 0.0) + time.perf_counter() - t)
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


def score_file_dask(intake, output, config=None, settings=None, openings=None, mapping=None,
                    openings_mapping=None, openings_sheet: str | None = None,
                    prepared_openings: pd.DataFrame | None = None, scheduler: str | None = None,
                    n_workers: int | None = None, partition_rows: int = PARTITION_ROWS, progress=None,
                    memory_limit: str | None = None, slice_rows: int = SLICE_ROWS,
                    shared_storage: bool = False) -> dict:
    """Score an intake file (or a folder of them) on a Dask cluster; see the module docstring.
    ``openings`` (a file or a DataFrame, read here with ``load_openings``) are prepared once on a
    worker and broadcast; ``prepared_openings`` skips that step.  The client never loads the models."""
    import itertools
    import uuid
    from dataclasses import asdict

    from .batch import ScoreConfig
    from .config import Settings
    from .intake import resolve_columns
    from .io import RESERVED_COLUMNS, TableWriter, refuse_same_file

    cfg = config or ScoreConfig()
    settings = settings or Settings()
    for name, v in (("partition_rows", partition_rows), ("slice_rows", slice_rows)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise InputError(f"{name} must be a positive integer (got {v!r})")
    paths = _inputs(intake)
    out = Path(output)
    to_dir = str(output).endswith(("/", "\\")) or out.is_dir()
    if not to_dir:
        refuse_same_file(out, *paths)
    raw = None
    if openings is not None and prepared_openings is None:
        from .openings import load_openings

        raw = load_openings(openings, openings_mapping, sheet=openings_sheet)
    _check_place(cfg, settings)
    t0 = time.time()
    if shared_storage and all(p.suffix.lower() == ".parquet" for p in paths):
        from .io import open_table

        shared = _shared_parts(paths, partition_rows)
        if not shared:
            raise InputError(f"{intake}: no rows")
        with open_table(paths[0]) as reader:                 # the footer's schema only
            names = reader.columns
        first, parts = shared[0], iter(shared[1:])
    else:
        if shared_storage:
            raise InputError(f"{intake}: --shared-storage reads Parquet files (their row groups are the "
                             f"partitions); convert the CSV or JSON lines to Parquet, or let the client read it")
        parts = _partitions(paths, partition_rows)
        first = next(parts, None)
        if first is None:
            raise InputError(f"{intake}: no rows")
        names = list(first.columns)
    columns = resolve_columns([c for c in names if c not in RESERVED_COLUMNS], mapping)
    settings_json = _json.dumps(settings.to_dict(), sort_keys=True)
    config_items = tuple(sorted(asdict(cfg).items()))
    stats = {"rows": 0, "ok": 0, "partial": 0, "error": 0, "partitions": 0}
    run = uuid.uuid4().hex[:8]
    with _session(scheduler, n_workers, memory_limit) as (client, plugins):
        plugins.append(_register(client, run, "scorer", config_items, settings_json, None))
        if raw is not None and len(raw):
            prepared_openings = client.submit(_prepare_openings, run, raw, key=f"matcher-openings-{run}",
                                              retries=RETRIES, pure=False).result()
        if prepared_openings is not None:
            buf = _io.BytesIO()
            prepared_openings.to_pickle(buf)
            plugins.append(_register(client, run, "openings", config_items, settings_json, buf.getvalue()))
            stats["openings"] = len(prepared_openings)
        workers = max(1, len(client.scheduler_info()["workers"]))

        def submit(i, part):
            return client.submit(_score_partition, run, part, columns, slice_rows, key=f"matcher-score-{run}-{i:05d}",
                                 retries=RETRIES, pure=False)

        worker_time: dict = {}
        clock: dict = {}

        def take(res):
            blob, timings = res
            for k, v in timings.items():
                worker_time[k] = worker_time.get(k, 0.0) + v
            return pd.read_parquet(_io.BytesIO(blob))

        if to_dir:
            out.mkdir(parents=True, exist_ok=True)

            def on_result(i, part, res):
                scored = take(res)
                with TableWriter(out / f"part-{i:05d}.parquet") as w:      # same cleaning, atomic
                    w.write(scored)
                _count(stats, scored, progress)

            _run_ordered(client, itertools.chain([first], parts), submit, on_result, workers, clock)
        else:
            with TableWriter(out) as w:
                def on_result(i, part, res):
                    scored = take(res)
                    w.write(scored)
                    _count(stats, scored, progress)

                _run_ordered(client, itertools.chain([first], parts), submit, on_result, workers, clock)
                t_close = time.perf_counter()
            clock["client writing"] = clock.get("client writing", 0.0) + time.perf_counter() - t_close
        stats["workers"] = workers
        stats["worker_peak_rss_mb"] = _worker_peaks(client)
        stats["workers_profiling"] = _workers_profiling(client)
        stats["time_split_s"] = {**{f"workers: {k}": round(v, 1) for k, v in sorted(worker_time.items())},
                                 **{k: round(v, 1) for k, v in clock.items()}}
    stats["seconds"] = round(time.time() - t0, 2)
    stats["rows_per_second"] = round(stats["rows"] / max(stats["seconds"], 1e-9), 1)
    return stats


def _check_place(cfg, settings) -> None:
    """The run's state and wage area, checked on the client before any cluster work (the pathway
    tables only, about 15 MB: not the models)."""
    from .engine import Engine

    Engine(settings=settings, state=cfg.state, area=cfg.area).planner  # noqa: B018 - raises on a bad place


def _peak_rss_mb() -> float:
    """This process's peak resident memory in MB (10^6 bytes), its whole life (Linux: ru_maxrss in KiB)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak * (1 if sys.platform == "darwin" else 1024) / 1e6, 1)


def _profiling() -> bool:
    """Whether this worker runs Dask's statistical profiler (its call-tree history costs memory)."""
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled", True))


def _ask_workers(client, fn) -> list:
    """``fn()`` on every worker; empty when the cluster cannot answer (a figure for the report,
    never a reason to fail the run)."""
    try:
        return list(client.run(fn).values())
    except Exception:  # noqa: BLE001
        return []


def _workers_profiling(client) -> int:
    """How many of the cluster's workers keep Dask's profiler history (0 on a cluster the run started)."""
    return sum(map(bool, _ask_workers(client, _profiling)))


def _worker_peaks(client) -> list[float]:
    """Each worker process's peak RSS (MB), Dask runtime included, largest first."""
    return sorted(_ask_workers(client, _peak_rss_mb), reverse=True)


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
    run = uuid.uuid4().hex[:8]
    stats = {"rows": 0, "partitions": 0}
    with _session(scheduler, n_workers, None) as (client, plugins):
        plugins.append(_register(client, run, "titles"))
        workers = max(1, len(client.scheduler_info()["workers"]))

        def submit(i, part):
            t = part[column].tolist()
            lg = part[language_column].tolist() if language_column else [None] * len(part)
            ct = part[country_column].tolist() if country_column else [None] * len(part)
            return client.submit(_normalize_partition, run, t, lg, ct, top, key=f"matcher-norm-{run}-{i:05d}",
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
        stats["workers"] = workers
        stats["worker_peak_rss_mb"] = _worker_peaks(client)
        stats["workers_profiling"] = _workers_profiling(client)
    stats["seconds"] = round(time.time() - t0, 2)
    return stats
