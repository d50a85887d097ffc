"""The built wheel carries the taxonomy, the curated data and the model (issue 11): build it from a
copy of the source, install it into a fresh venv, and use it away from the checkout.

Slow (a wheel build plus a venv with the dependencies from the package index, one to two minutes)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, **kw)


def _check(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, f"{p.args} exited {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def _data_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # build from a copy, so the checkout gets no build/ folder and no stale build/lib files
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in ("matcher", "taxonomies", "models"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    _check(_run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, src]))
    (whl,) = dist.glob("matcher-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_tax = {n.removeprefix("matcher_data/taxonomies/") for n in names if n.startswith("matcher_data/taxonomies/")}
    shipped_model = {n.removeprefix("matcher_data/models/") for n in names if n.startswith("matcher_data/models/")}
    assert _data_files(REPO / "taxonomies") <= shipped_tax
    assert {"title-matcher/" + f for f in _data_files(REPO / "models" / "title-matcher")} <= shipped_model
    for must in ("matcher_data/taxonomies/manifest.json", "matcher_data/models/title-matcher/meta.json",
                 "matcher/templates/plan.html", "matcher/cli.py", "matcher/_paths.py"):
        assert must in names
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"matcher", "matcher_data", "matcher-0.1.0.dist-info"}, tops
    assert wheel.stat().st_size < 60_000_000


@pytest.mark.slow
def test_installed_wheel_works_away_from_checkout(wheel, tmp_path):
    venv = tmp_path / "venv"
    _check(_run([sys.executable, "-m", "venv", venv]))
    py, exe = venv / "bin" / "python", venv / "bin" / "matcher"
    _check(_run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel], cwd=tmp_path))

    p = _check(_run([exe, "normalize", "--text", "enfermera"], cwd=tmp_path))
    assert "29-1141" in p.stdout

    where = _check(_run([py, "-c", "import matcher, matcher.taxonomy as t, matcher.titles as m; "
                                   "print(matcher.__file__); print(t.DEFAULT_TAXONOMY_DIR); print(m.DEFAULT_MODEL_DIR)"],
                        cwd=tmp_path)).stdout.split("\n")
    pkg, tax, model = (Path(s) for s in where[:3])
    for path in (pkg, tax, model):
        assert "site-packages" in path.parts, where
        assert not path.is_relative_to(REPO), where
    assert (tax / "manifest.json").is_file() and (model / "meta.json").is_file()
