"""Saved model folders: ``meta.json`` (format version, library and dependency versions, taxonomy
version, checksums, metrics) beside zlib-compressed pickles (``*.pkl.z``; ``*.joblib`` files are
read too).  Pickles are loaded only after every checksum has been verified against meta.json."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pickle
import zlib

import joblib

from .errors import ArtifactError

FORMAT_VERSION = 1
DEPENDENCIES = ("scikit-learn", "rapidfuzz", "numpy", "scipy", "pandas", "joblib")


def library_version() -> str:
    try:
        return metadata.version("matcher")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def dependency_versions() -> dict[str, str]:
    out = {}
    for d in DEPENDENCIES:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            out[d] = "missing"
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_artifact(folder: str | Path, objects: dict[str, Any], *, kind: str, taxonomy_version: str,
                  metrics: dict | None = None, extra: dict | None = None) -> Path:
    """Write each object to ``<name>.joblib`` and a meta.json that lists their checksums.
    The folder is written beside its final place and renamed, so a reader never sees half of it."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    files = {}
    for name, obj in objects.items():
        # pickle protocol 5 (C unpickler: fast for the index's many strings) + zlib
        p = tmp / f"{name}.pkl.z"
        p.write_bytes(zlib.compress(pickle.dumps(obj, protocol=5), 3))
        files[p.name] = _sha256(p)
    meta = {"format_version": FORMAT_VERSION, "kind": kind, "library_version": library_version(),
            "python": platform.python_version(), "dependencies": dependency_versions(),
            "taxonomy_version": taxonomy_version, "files": files, "metrics": metrics or {}}
    meta.update(extra or {})
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old")
        if old.exists():
            _rmtree(old)
        os.replace(folder, old)
        os.replace(tmp, folder)
        _rmtree(old)
    else:
        os.replace(tmp, folder)
    return folder


def _rmtree(p: Path) -> None:
    import shutil
    shutil.rmtree(p, ignore_errors=True)


def read_meta(folder: str | Path) -> dict:
    folder = Path(folder)
    p = folder / "meta.json"
    if not p.exists():
        raise ArtifactError(f"{folder} is not a model folder (no meta.json); train one with `python scripts/train.py`")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ArtifactError(f"{p} is not valid JSON ({e}); retrain with `python scripts/train.py`") from e


def load_artifact(folder: str | Path, *, kind: str, taxonomy_version: str | None = None) -> tuple[dict, dict]:
    """Verify meta.json (format, kind, taxonomy version, checksums), then load the pickles."""
    folder = Path(folder)
    meta = read_meta(folder)
    problems = []
    if meta.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {meta.get('format_version')} (this library reads {FORMAT_VERSION})")
    if meta.get("kind") != kind:
        problems.append(f"kind {meta.get('kind')!r} (expected {kind!r})")
    if taxonomy_version and meta.get("taxonomy_version") != taxonomy_version:
        problems.append(f"built for taxonomy {meta.get('taxonomy_version')}, loaded with {taxonomy_version}")
    for name, digest in meta.get("files", {}).items():
        p = folder / name
        if not p.exists():
            problems.append(f"{name} is missing")
        elif _sha256(p) != digest:
            problems.append(f"{name} checksum mismatch (file changed or corrupt)")
    if problems:
        raise ArtifactError(f"cannot load {folder}: " + "; ".join(problems) +
                            ". Retrain with `python scripts/train.py`.")
    objects = {}
    for name in meta["files"]:
        key = name.split(".", 1)[0]
        if name.endswith(".pkl.z"):
            objects[key] = pickle.loads(zlib.decompress((folder / name).read_bytes()))
        else:
            objects[key] = joblib.load(folder / name)
    return objects, meta
