"""``--engine dask``: the same rows as the local engine, partitions cut by the project's reader,
ordered output (one file or part files), and a worker killed mid-run losing nothing."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.distributed import score_file_dask
from matcher.errors import InputError

pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "intake_sample.csv"
OPENINGS = ROOT / "examples" / "openings_louisville.csv"


def _read(p) -> pd.DataFrame:
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def test_same_rows_as_the_local_engine(tmp_path):
    local, dask_out, parts = tmp_path / "local.csv", tmp_path / "dask.csv", tmp_path / "parts"
    assert main(["score", str(SAMPLE), "--openings", str(OPENINGS), "-o", str(local), "--no-progress",
                 "--n-jobs", "1"]) == 0
    assert main(["score", str(SAMPLE), "--openings", str(OPENINGS), "-o", str(dask_out), "--no-progress",
                 "--engine", "dask", "--n-jobs", "2", "--partition-rows", "20"]) == 0
    a, b = _read(local), _read(dask_out)
    pd.testing.assert_frame_equal(a, b)                    # row for row, every column
    # a folder: part files in order, which together are the same table
    assert main(["score", str(SAMPLE), "--openings", str(OPENINGS), "-o", f"{parts}/", "--no-progress",
                 "--engine", "dask", "--n-jobs", "2", "--partition-rows", "25"]) == 0
    files = sorted(parts.glob("part-*.parquet"))
    assert [f.name for f in files] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    joined = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    assert list(joined["client_id"]) == list(a["client_id"]) and list(joined["onet_code"]) == list(a["onet_code"])


def test_normalize_on_dask_matches_local(tmp_path):
    src = ROOT / "examples" / "titles_sample.csv"
    col = _read(src).columns[1] if "title" not in _read(src).columns else "title"
    local, dask_out = tmp_path / "l.csv", tmp_path / "d.csv"
    assert main(["normalize", str(src), "-c", col, "-o", str(local), "--no-progress", "--n-jobs", "1"]) == 0
    assert main(["normalize", str(src), "-c", col, "-o", str(dask_out), "--no-progress", "--engine", "dask",
                 "--n-jobs", "2", "--partition-rows", "40"]) == 0
    pd.testing.assert_frame_equal(_read(local), _read(dask_out))


def test_formats(tmp_path, capsys):
    xlsx = tmp_path / "intake.xlsx"
    xlsx.write_bytes(b"PK")
    with pytest.raises(InputError, match="not Excel workbooks"):
        score_file_dask(xlsx, tmp_path / "o.csv")
    assert main(["score", str(xlsx), "-o", str(tmp_path / "o.csv"), "--engine", "dask"]) == 2
    assert ".csv, .tsv" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no .csv"):
        score_file_dask(empty, tmp_path / "o.csv")


def test_a_local_cluster_runs_its_workers_without_the_profiler(capsys):
    """The cluster a run starts has no statistical profiler on its workers (its call-tree history
    grew each worker by 50-70 MB over a 1,000,000-row run); the CLI names the setting where a
    cluster's workers do profile."""
    from matcher.cli import _profiler_hint
    from matcher.distributed import _session, _workers_profiling

    with _session(None, 1, None) as (client, _):
        callbacks = client.run(lambda dask_worker: sorted(dask_worker.periodic_callbacks))
        assert _workers_profiling(client) == 0
    (names,) = callbacks.values()
    assert "profile" not in names and "profile-cycle" not in names and "heartbeat" in names
    _profiler_hint({"workers_profiling": 0})
    assert capsys.readouterr().err == ""
    _profiler_hint({"workers_profiling": 2})
    assert "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in capsys.readouterr().err


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_no_row(tmp_path):
    """Two local workers; one is killed while partitions are running: Dask retries its partition,
    the output has every row once, in order."""
    from distributed import Client, LocalCluster

    big = pd.concat([_read(SAMPLE)] * 30, ignore_index=True)
    big["client_id"] = [f"K{i:05d}" for i in range(len(big))]
    src = tmp_path / "big.csv"
    big.to_csv(src, index=False)
    out = tmp_path / "scored.csv"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as watcher:
        killed = []

        def kill_one():
            deadline = time.time() + 120
            while time.time() < deadline and not killed:
                busy = [w for w, tasks in watcher.processing().items() if tasks]
                if busy:
                    time.sleep(3)                   # let a few partitions finish first
                    killed.append(busy[0])
                    try:
                        watcher.run(os._exit, 1, workers=[busy[0]])
                    except Exception:  # noqa: BLE001 - the worker dies before it can answer
                        pass
                time.sleep(0.2)

        t = threading.Thread(target=kill_one, daemon=True)
        t.start()
        stats = score_file_dask(src, out, scheduler=cluster.scheduler_address, partition_rows=60)
        t.join(timeout=5)
    got = _read(out)
    assert killed, "no worker was killed during the run"
    assert list(got["client_id"]) == list(big["client_id"])        # every row, once, in order
    assert stats["rows"] == len(big)


def test_shared_parquet_light_client_and_a_clean_cluster(tmp_path, monkeypatch):
    """--shared-storage: the workers read their own row groups (the client reads only footers);
    the client never loads the title model (the openings are prepared on a worker); partitions
    scored in slices give the local engine's rows; the run leaves nothing on a shared cluster."""
    from distributed import Client, LocalCluster

    from matcher.batch import score_file
    from matcher.titles import TitleMatcher

    src = tmp_path / "intake.parquet"
    _read(SAMPLE).to_parquet(src, index=False, row_group_size=10)          # 66 rows: 7 row groups
    local = tmp_path / "local.csv"
    score_file(src, local, openings=OPENINGS)

    def refuse(*a, **k):
        raise AssertionError("the client loaded the title model")

    monkeypatch.setattr(TitleMatcher, "load", classmethod(refuse))
    out = tmp_path / "dask.csv"
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as watcher:
        stats = score_file_dask(src, out, openings=OPENINGS, scheduler=cluster.scheduler_address,
                                partition_rows=25, slice_rows=7, shared_storage=True)
        left = watcher.run(lambda dask_worker: len(dask_worker.__dict__.get("_matcher_runs", {})))
        plugins = watcher.run(lambda dask_worker: [n for n in dask_worker.plugins if n.startswith("matcher-")])
    assert stats["partitions"] == 3 and stats["rows"] == 66 and stats["openings"] == 165
    assert stats["time_split_s"]["client reading"] < 1.0
    pd.testing.assert_frame_equal(_read(local), _read(out))               # row for row, every column
    assert list(left.values()) == [0] and list(plugins.values()) == [[]]
    assert stats["workers_profiling"] == 1        # a cluster started elsewhere keeps its settings: reported
    with pytest.raises(InputError, match="--shared-storage reads Parquet"):
        score_file_dask(SAMPLE, tmp_path / "x.csv", shared_storage=True)
