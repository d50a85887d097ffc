"""Load test of `matcher serve`: a local server, many simulated callers, latency per endpoint.

    python scripts/load_test.py [--callers 50] [--seconds 60] [--pause 2 5]
                                [--saturate-callers 8] [--saturate-seconds 20] [--vary] [--json out.json]

1. starts `matcher serve --port N --openings examples/openings_louisville.csv` in a subprocess
   (and measures how long until /api/v1/health answers);
2. paced phase: --callers threads (one httpx.Client each) for --seconds, each pausing a random
   2-5 s between requests (a navigator's tool, not a benchmark), mixing POST /api/v1/plans (rows
   of examples/intake_sample.csv, 60%) and POST /api/v1/titles/normalize (titles of
   examples/titles_sample.csv, 40%);
3. saturated phase: --saturate-callers threads with no pause for --saturate-seconds: throughput;
4. stops the server.  Prints one JSON report (requests/s, p50/p95/p99/max latency in ms and
   errors per endpoint, per phase) and writes it to --json.

--vary changes every plan request a little (budget and years of experience drawn at random), so
that the server's per-client caches rarely hit: a pessimistic figure.  Each endpoint's figures
are also given for the requests sent after the first 10 s (caches warm, the callers' arrival
burst over).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
INTAKE = ROOT / "examples" / "intake_sample.csv"
TITLES = ROOT / "examples" / "titles_sample.csv"
OPENINGS = ROOT / "examples" / "openings_louisville.csv"
PLANS, TITLE = "/api/v1/plans", "/api/v1/titles/normalize"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, openings: Path, log_path: Path) -> tuple[subprocess.Popen, float]:
    env = {k: v for k, v in os.environ.items() if k != "MATCHER_API_TOKEN"}
    t0 = time.time()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "serve", "--port", str(port),
                                 "--openings", str(openings)], cwd=ROOT, stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}/api/v1/health"
    while time.time() - t0 < 120:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, time.time() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not become ready in 120 s")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def run_phase(base: str, callers: int, seconds: float, pause: tuple[float, float] | None, rows: list[dict],
              titles: list[dict], vary: bool, seed: int, warm: float = 10.0) -> dict:
    results: dict[str, list[float]] = defaultdict(list)
    steady: dict[str, list[float]] = defaultdict(list)       # requests sent after the first `warm` seconds
    errors: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    guard = threading.Lock()
    start = time.time()
    perf_start = time.perf_counter()
    deadline = start + seconds

    def caller(i: int) -> None:
        rnd = random.Random(seed * 1000 + i)
        with httpx.Client(base_url=base, timeout=60) as c:
            if pause:                                  # callers arrive spread over the first pause
                time.sleep(rnd.uniform(0, pause[0]))
            while time.time() < deadline:
                if rnd.random() < 0.6:
                    ep = PLANS
                    body = {k: v for k, v in rnd.choice(rows).items() if v != ""}
                    if vary:
                        body["budget_usd"] = str(rnd.randrange(0, 20_000, 50))
                        body["years_experience"] = str(rnd.randrange(0, 30))
                else:
                    ep = TITLE
                    t = rnd.choice(titles)
                    body = {"text": t["title"]} | ({"language": t["language"]} if t.get("language") else {})
                t0 = time.perf_counter()
                try:
                    r = c.post(ep, json=body)
                    ms = (time.perf_counter() - t0) * 1000
                    bad = None if r.status_code == 200 else str(r.status_code)
                except httpx.HTTPError as e:
                    ms = (time.perf_counter() - t0) * 1000
                    bad = type(e).__name__
                with guard:
                    if bad:
                        errors[ep][bad] += 1
                    else:
                        results[ep].append(ms)
                        if t0 - perf_start >= warm:
                            steady[ep].append(ms)
                if pause:
                    time.sleep(min(rnd.uniform(*pause), max(0.0, deadline - time.time())))

    threads = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - start
    out = {"callers": callers, "seconds": round(elapsed, 1), "pause_s": list(pause) if pause else None,
           "endpoints": {}}
    total = 0
    n_err = 0
    for ep in (PLANS, TITLE):
        lat = results.get(ep, [])
        errs = dict(errors.get(ep, {}))
        total += len(lat) + sum(errs.values())
        n_err += sum(errs.values())
        out["endpoints"][ep] = {"requests": len(lat) + sum(errs.values()), "ok": len(lat), "errors": errs,
                                "requests_per_s": round((len(lat) + sum(errs.values())) / elapsed, 2),
                                "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
                                "p99_ms": round(percentile(lat, 99), 1),
                                "max_ms": round(max(lat), 1) if lat else None,
                                f"after_{warm:g}s": {"requests": len(steady.get(ep, [])),
                                                     "p50_ms": round(percentile(steady.get(ep, []), 50), 1),
                                                     "p95_ms": round(percentile(steady.get(ep, []), 95), 1),
                                                     "p99_ms": round(percentile(steady.get(ep, []), 99), 1)}}
    out["requests"] = total
    out["errors"] = n_err
    out["requests_per_s"] = round(total / elapsed, 2)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--callers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--pause", type=float, nargs=2, default=(2.0, 5.0), metavar=("MIN", "MAX"))
    ap.add_argument("--saturate-callers", type=int, default=8)
    ap.add_argument("--saturate-seconds", type=float, default=20, help="0 skips the saturated phase")
    ap.add_argument("--openings", default=str(OPENINGS))
    ap.add_argument("--port", type=int, default=0, help="default: a free port")
    ap.add_argument("--vary", action="store_true", help="vary budget and years per plan request (few cache hits)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", help="write the report here too")
    args = ap.parse_args(argv)

    rows = pd.read_csv(INTAKE, dtype=str, keep_default_na=False).to_dict("records")
    titles = [t for t in pd.read_csv(TITLES, dtype=str, keep_default_na=False).to_dict("records")
              if t["title"].strip()]          # the sample's empty title is a 400 by design
    port = args.port or free_port()
    log_path = Path(tempfile.mkdtemp(prefix="matcher-load-")) / "serve.log"
    proc, ready = start_server(port, Path(args.openings), log_path)
    base = f"http://127.0.0.1:{port}"
    report = {"server": {"ready_s": round(ready, 2), "cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "vary": args.vary}
    try:
        print(f"server ready in {ready:.1f}s on port {port}; paced phase: {args.callers} callers, "
              f"{args.seconds:.0f}s", file=sys.stderr)
        report["paced"] = run_phase(base, args.callers, args.seconds, tuple(args.pause), rows, titles, args.vary,
                                    args.seed)
        if args.saturate_seconds > 0:
            print(f"saturated phase: {args.saturate_callers} callers, {args.saturate_seconds:.0f}s", file=sys.stderr)
            report["saturated"] = run_phase(base, args.saturate_callers, args.saturate_seconds, None, rows, titles,
                                            args.vary, args.seed + 1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        lines = log_path.read_text(errors="replace").splitlines()
        report["server"]["log_lines"] = len(lines)
        report["server"]["log_errors"] = [ln for ln in lines if "error" in ln.lower()][:10]
        log_path.unlink(missing_ok=True)
        log_path.parent.rmdir()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return 0 if report["paced"]["errors"] == 0 and report.get("saturated", {}).get("errors", 0) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
