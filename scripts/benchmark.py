"""Speed and memory of the title matcher and of intake scoring.

    python scripts/benchmark.py [--titles 100000] [--intake 100000] [--n-jobs 2] [--json out.json]
                                [--only titles|intake]

Measures (each figure printed and, with --json, saved):
- cold start: a fresh Python process importing matcher and loading the title model;
- single-title latency: median and p95 of match() over 300 titles, warm;
- batch throughput on N titles, all unique and with realistic repetition (a Zipf-like draw from
  5,000 distinct titles), in one process and with --n-jobs worker processes (joblib);
- intake scoring end to end (`matcher score`: notes, titles, credentials, pathways, openings)
  on N rows (half re-sampled from the embedded sample intake, half synthetic clients with noisy
  titles in every language), with --n-jobs workers, memory of the main process and each worker;
- `matcher normalize` on an N-row CSV in a fresh process (1 and --n-jobs processes): rows/s
  end to end (read, match, write) and peak resident memory of that process tree's largest process;
- peak resident memory (ru_maxrss) of the main process and of the worker processes;
- `matcher normalize` against the public SOC coder sockit on the same noisy titles (--only normalize);
- `matcher report` on N scored rows (--only report).
Queries are built deterministically from the taxonomy's aliases with matcher.augment noise.
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.augment import add_noise  # noqa: E402


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


def make_titles(n: int, seed: int = 0) -> list[str]:
    from matcher.taxonomy import load_taxonomy

    tax = load_taxonomy()
    pool = tax.all_aliases()["alias"].tolist()
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        t = add_noise(rng.choice(pool), rng, strength=1.5)
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def cold_start() -> float:
    code = ("import time; t=time.time(); from matcher.titles import TitleMatcher; m=TitleMatcher.load(); "
            "m.match('Registered Nurse'); print(time.time()-t)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(r.stdout.strip().splitlines()[-1])


def bench_titles(n: int, n_jobs: int) -> dict:
    from joblib import Parallel

    from matcher.titles import TitleMatcher

    out = {"cold_start_s": round(min(cold_start() for _ in range(2)), 3)}
    m = TitleMatcher.load()
    unique = make_titles(n)
    rng = np.random.default_rng(1)
    distinct = unique[:5000]
    ranks = rng.zipf(1.3, size=n)
    repeated = [distinct[(r - 1) % len(distinct)] for r in ranks]
    lat = []
    for t in unique[:300]:
        s = time.perf_counter()
        m.match(t)
        lat.append(time.perf_counter() - s)
    out["latency_ms_median"] = round(statistics.median(lat) * 1000, 2)
    out["latency_ms_p95"] = round(float(np.percentile(lat, 95)) * 1000, 2)
    s = time.time()
    m.match_many(unique)
    out["unique_titles_per_s_1proc"] = round(n / (time.time() - s))
    s = time.time()
    m.match_many(repeated)
    out["repeated_titles_per_s_1proc"] = round(n / (time.time() - s))
    out["peak_rss_mb_in_process_holding_all_results"] = round(peak_rss_mb(), 1)
    if n_jobs > 1:
        from matcher.titles import match_parallel

        with Parallel(n_jobs=n_jobs, backend="loky") as par:
            s = time.time()
            match_parallel(["warm up"] * n_jobs + [f"nurse {i}" for i in range(n_jobs)], n_jobs, parallel=par)
            out[f"worker_start_s_{n_jobs}proc"] = round(time.time() - s, 2)   # each worker loads the model once
            for name, data in (("unique", unique), ("repeated", repeated)):
                s = time.time()
                match_parallel(data, n_jobs, parallel=par)
                out[f"{name}_titles_per_s_{n_jobs}proc"] = round(n / (time.time() - s))
    out["n_titles"] = n
    # the batch path as a user runs it: `matcher normalize` on a 100k-row CSV, in a fresh process
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "titles.csv"
        pd.DataFrame({"id": range(n), "title": unique}).to_csv(src, index=False)
        for jobs in sorted({1, n_jobs}):
            dst = Path(d) / f"out{jobs}.csv"
            s = time.time()
            main_mb, worker_mb = run_and_watch([sys.executable, "-m", "matcher.cli", "normalize", str(src), "-c", "title",
                                                "-o", str(dst), "--n-jobs", str(jobs), "--no-progress"])
            out[f"cli_normalize_rows_per_s_{jobs}proc"] = round(n / (time.time() - s))
            out[f"cli_normalize_peak_rss_mb_main_{jobs}proc"] = main_mb
            if jobs > 1:
                out[f"cli_normalize_peak_rss_mb_worker_{jobs}proc"] = worker_mb
    return out


def run_and_watch(cmd, stderr_out: list | None = None) -> tuple[float, float]:
    """Run a command; sample the resident memory of it and of its child processes every 0.1 s.
    Returns (peak MB of the main process, peak MB of any single child process)."""
    import psutil

    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    main_peak = child_peak = 0.0
    while proc.poll() is None:
        try:
            main_peak = max(main_peak, ps.memory_info().rss / 1e6)
            for c in ps.children(recursive=True):
                try:
                    child_peak = max(child_peak, c.memory_info().rss / 1e6)
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        time.sleep(0.1)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode:
        raise RuntimeError(err[-2000:])
    if stderr_out is not None:
        stderr_out.append(err)
    return round(main_peak, 1), round(child_peak, 1)


def make_intake(n: int, path: Path, seed: int = 0) -> None:
    """Half the rows re-sample the embedded intake (with its broken rows); half are synthetic
    clients whose previous titles are noisy aliases in every language of the taxonomy (about
    20,000 distinct titles), with random English levels, experience, budgets and ZIPs."""
    src = pd.read_csv(ROOT / "examples" / "intake_sample.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    half = n // 2
    df = src.iloc[rng.integers(0, len(src), size=half)].reset_index(drop=True)
    titles = make_titles(min(20_000, max(1, n - half)), seed=seed + 1)
    levels = np.array(["A1", "A2", "B1", "B2", "C1", "C2", ""])
    zips = np.array(["40202", "40214", "40216", "40218", "40219", "40222", "40241", "40291", "47130", "40165"])
    syn = pd.DataFrame({
        "previous_title": [titles[i % len(titles)] for i in rng.integers(0, len(titles), size=n - half)],
        "credential": "", "country": "", "language": "",
        "english_level": rng.choice(levels, size=n - half),
        "years_experience": [str(v) for v in rng.integers(0, 25, size=n - half)],
        "zip": rng.choice(zips, size=n - half),
        "needs_income_now": rng.choice(["yes", "no"], size=n - half),
        "budget_usd": [str(v) for v in rng.integers(0, 40, size=n - half) * 100], "notes": ""})
    df = pd.concat([df, syn], ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)
    df["client_id"] = [f"B{i:07d}" for i in range(n)]
    df.to_csv(path, index=False)


def bench_intake_cli(n: int, n_jobs: int) -> dict:
    """`matcher score` on an N-row intake file in a fresh process, memory sampled."""
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "intake.csv"
        make_intake(n, src)
        s = time.time()
        main_mb, worker_mb = run_and_watch([sys.executable, "-m", "matcher.cli", "score", str(src), "-o",
                                            str(Path(d) / "scored.csv"), "--openings",
                                            str(ROOT / "examples" / "openings_louisville.csv"), "--n-jobs", str(n_jobs),
                                            "--no-progress"])
        dt = time.time() - s
    return {"n_rows": n, "n_jobs": n_jobs, "seconds": round(dt, 1), "rows_per_s": round(n / dt),
            "peak_rss_mb_main": main_mb, "peak_rss_mb_worker": worker_mb}


def make_noisy_file(n: int, path: Path, unique_share: float = 0.57, seed: int = 7) -> int:
    """``n`` noisy titles of which ``unique_share`` are distinct (each distinct title at least once,
    the rest repeats drawn Zipf-like), in a CSV with columns id,title.  Returns the distinct count."""
    k = max(1, int(n * unique_share))
    distinct = make_titles(k, seed=seed)
    rng = np.random.default_rng(seed)
    extra = [distinct[(r - 1) % k] for r in rng.zipf(1.2, size=n - k)]
    titles = distinct + extra
    rng.shuffle(titles)
    pd.DataFrame({"id": range(n), "title": titles}).to_csv(path, index=False)
    return k


def sockit_python() -> str | None:
    """A Python that has ``sockit`` (evaluation only: its licence allows evaluation, not bundling):
    $SOCKIT_PYTHON, else this interpreter if it can import sockit."""
    import os

    cand = os.environ.get("SOCKIT_PYTHON") or sys.executable
    r = subprocess.run([cand, "-c", "import sockit.title"], capture_output=True)
    return cand if r.returncode == 0 else None


def bench_normalize_vs_sockit(n: int) -> dict:
    """The whole ``matcher normalize`` command (fresh process, start-up included, default options:
    all cores) against ``python -m sockit title`` on the same n noisy titles (57% distinct)."""
    out: dict = {"n_titles": n}
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "noisy.csv"
        out["distinct"] = make_noisy_file(n, src)
        s = time.time()
        main_mb, worker_mb = run_and_watch([sys.executable, "-m", "matcher.cli", "normalize", str(src), "-c", "title",
                                            "-o", str(Path(d) / "matcher.csv"), "--no-progress"])
        dt = time.time() - s
        out.update(matcher_seconds=round(dt, 2), matcher_titles_per_s=round(n / dt),
                   matcher_peak_rss_mb_main=main_mb, matcher_peak_rss_mb_worker=worker_mb)
        s = time.time()
        subprocess.run([sys.executable, "-m", "matcher.cli", "normalize", "--text", "Registered Nurse"],
                       cwd=ROOT, check=True, capture_output=True)
        out["matcher_text_fresh_process_s"] = round(time.time() - s, 2)
        py = sockit_python()
        if py is None:
            out["sockit"] = "not installed (set SOCKIT_PYTHON to a Python with sockit)"
            return out
        s = time.time()
        run_and_watch([py, "-m", "sockit", "title", "--input", str(src), "--output", str(Path(d) / "sockit.json"),
                       "--title", "title", "--record_id", "id"])
        st = time.time() - s
        out.update(sockit_seconds=round(st, 2), sockit_titles_per_s=round(n / st),
                   speed_ratio_matcher_over_sockit=round(st / dt, 3))
    return out


def bench_report(n: int) -> dict:
    """``matcher report`` (fresh process) on n scored rows: the sample intake scored once, its rows
    repeated with new client ids and intake dates spread over 24 months, and the sample outcomes."""
    with tempfile.TemporaryDirectory() as d:
        scored = Path(d) / "scored_sample.csv"
        subprocess.run([sys.executable, "-m", "matcher.cli", "score", str(ROOT / "examples" / "intake_sample.csv"),
                        "-o", str(scored), "--openings", str(ROOT / "examples" / "openings_louisville.csv"),
                        "--no-progress"], cwd=ROOT, check=True, capture_output=True)
        base = pd.read_csv(scored, dtype=str, keep_default_na=False)
        big = base.iloc[np.arange(n) % len(base)].reset_index(drop=True)
        big["client_id"] = [f"R{i:07d}" for i in range(n)]
        rng = np.random.default_rng(0)
        big["intake_date"] = (pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
                              ).strftime("%Y-%m-%d")
        src = Path(d) / "scored_big.csv"
        big.to_csv(src, index=False)
        out = Path(d) / "report.html"
        s = time.time()
        main_mb, _ = run_and_watch([sys.executable, "-m", "matcher.cli", "report", str(src), "-o", str(out),
                                    "--outcomes", str(ROOT / "examples" / "outcomes_sample.csv")])
        dt = time.time() - s
    return {"n_rows": n, "seconds": round(dt, 2), "peak_rss_mb": main_mb}


def bench_dask(n: int, workers: int, partition_rows: int | None = None) -> dict:
    """`matcher score --engine dask` on n intake rows with a local cluster of ``workers`` workers
    (fresh process): rows/s, the peak RSS of the client (sampled) and of each worker process (its
    own ``ru_maxrss``, Dask runtime included, reported by the run), and where the time went."""
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "intake.csv"
        make_intake(n, src)
        s = time.time()
        err: list = []
        cmd = [sys.executable, "-m", "matcher.cli", "score", str(src), "-o", str(Path(d) / "scored.parquet"),
               "--openings", str(ROOT / "examples" / "openings_louisville.csv"), "--engine", "dask",
               "--n-jobs", str(workers), "--no-progress"]
        if partition_rows:
            cmd += ["--partition-rows", str(partition_rows)]
        main_mb, sampled_worker_mb = run_and_watch(cmd, err)
        dt = time.time() - s
    found = {key: json.loads(line.split(": ", 1)[1]) for line in err[0].splitlines()
             for key in ("time split (s)", "worker peak RSS (MB)") if line.startswith(key + ": ")}
    return {"n_rows": n, "workers": workers, "partition_rows": partition_rows, "seconds": round(dt, 1),
            "rows_per_s": round(n / dt), "peak_rss_mb_client": main_mb,
            "peak_rss_mb_workers": found.get("worker peak RSS (MB)", []),
            "peak_rss_mb_any_child_sampled": sampled_worker_mb, "time_split_s": found.get("time split (s)", {})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--titles", type=int, default=100_000)
    ap.add_argument("--intake", type=int, default=100_000)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--only", choices=["titles", "intake", "normalize", "report"])
    ap.add_argument("--engine", choices=["local", "dask"], default="local",
                    help="dask: only the Dask benchmark (--intake rows, 1 and --n-jobs local workers)")
    ap.add_argument("--partition-rows", type=int, help="dask: rows per partition (default: the engine's)")
    ap.add_argument("--dask-workers", type=int, nargs="+",
                    help="dask: the local cluster sizes to run (default: 1 and --n-jobs)")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    report = {}
    if args.engine == "dask":
        report["dask"] = [bench_dask(args.intake, w, args.partition_rows)
                          for w in (args.dask_workers or sorted({1, args.n_jobs}))]
        print(json.dumps(report["dask"], indent=2), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        return 0
    if args.only in (None, "titles"):
        report["titles"] = bench_titles(args.titles, args.n_jobs)
        print(json.dumps(report["titles"], indent=2), flush=True)
    if args.only in (None, "normalize"):
        report["normalize_vs_sockit"] = bench_normalize_vs_sockit(args.titles)
        print(json.dumps(report["normalize_vs_sockit"], indent=2), flush=True)
    if args.only in (None, "report"):
        report["report"] = bench_report(args.intake)
        print(json.dumps(report["report"], indent=2), flush=True)
    if args.only in (None, "intake"):
        report["intake_cli"] = bench_intake_cli(args.intake, args.n_jobs)
        print(json.dumps(report["intake_cli"], indent=2), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
