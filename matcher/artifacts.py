"""Saved model folders: ``meta.json`` (format version, library and dependency versions, taxonomy
version, checksums, metrics) beside zlib-compressed pickles (``*.pkl.z``; ``*.joblib`` files are
read too).  Pickles are loaded only after every file name and checksum has been verified, and only
from the package's own model folder (checksums pinned in matcher/_model_pins.py) or from a folder
the caller explicitly trusts (``trusted=True``): a folder's meta.json cannot vouch for itself."""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pickle
import zlib

import joblib

from .errors import ArtifactError

FORMAT_VERSION = 2          # 2: the title model holds plain arrays (matcher._inference), no scikit-learn objects
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


PLAIN_SUFFIXES = (".pkl.z", ".joblib")


def check_member_name(folder: str | Path, name: object) -> Path:
    """The path of artifact file ``name`` inside ``folder``, or ArtifactError.

    A name listed in meta.json must be a plain file name (no ``/`` or ``\\``, no ``..``, not absolute,
    no drive letter or ``:``), with a known suffix, and must resolve (symlinks followed) to a regular
    file inside the folder.  Nothing is read or unpickled here."""
    folder = Path(folder)
    if not isinstance(name, str) or not name:
        raise ArtifactError(f"cannot load {folder}: meta.json lists a file name that is not a non-empty string: {name!r}")
    bad = []
    if "/" in name or "\\" in name:
        bad.append("contains a path separator")
    if ".." in name:
        bad.append("contains '..'")
    if os.path.isabs(name) or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute():
        bad.append("is an absolute path")
    if ":" in name or PureWindowsPath(name).drive:
        bad.append("has a drive letter or ':'")
    if "\x00" in name or any(ord(ch) < 32 for ch in name):
        bad.append("contains control characters")
    if name in (".", "..") or name.startswith("."):
        bad.append("is a hidden or special name")
    if not name.endswith(PLAIN_SUFFIXES):
        bad.append(f"does not end in {' or '.join(PLAIN_SUFFIXES)}")
    if bad:
        raise ArtifactError(f"cannot load {folder}: meta.json lists file {name!r}, which " + ", ".join(bad) +
                            "; artifact files must be plain names inside the model folder. Nothing was loaded.")
    try:
        root = folder.resolve(strict=True)
        target = (folder / name).resolve(strict=False)
    except (OSError, RuntimeError) as e:  # RuntimeError: symlink loop on older Pythons
        raise ArtifactError(f"cannot load {folder}: cannot resolve {name!r} ({e}). Nothing was loaded.") from e
    if target == root or not target.is_relative_to(root):
        raise ArtifactError(f"cannot load {folder}: {name!r} resolves to {target}, outside the model folder "
                            f"(a symlink?); artifact files must be inside the model folder. Nothing was loaded.")
    return target


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def load_artifact(folder: str | Path, *, kind: str, taxonomy_version: str | None = None,
                  trusted: bool = False, package_folder: str | Path | None = None,
                  pins: dict[str, str] | None = None, check=None, defer: tuple[str, ...] = ()) -> tuple[dict, dict]:
    """Verify meta.json (format, kind, taxonomy version, file names, checksums, and ``check(meta)``:
    the caller's list of problems, e.g. features or library versions), then load the pickles.
    ``defer``: objects (by name without suffix) returned as a function that unpickles them when
    first needed -- from the bytes read and checked now, so nothing unchecked is ever unpickled.

    A folder cannot vouch for itself: unpickling runs code, so a folder is loaded only if it is
    ``package_folder`` (the package's own model, whose files must then match ``pins``, checksums
    pinned in package code) or the caller passes ``trusted=True`` for a model it built itself.
    Every file is read once, checked, and unpickled from the bytes that were checked."""
    folder = Path(folder)
    is_package = package_folder is not None and _same_folder(folder, Path(package_folder))
    if not is_package and not trusted:
        raise ArtifactError(f"{folder} is not the package's model; pass trusted=True to load a model you "
                            f"built yourself (loading a model unpickles it, which can run code: only load "
                            f"folders you trust)")
    meta = read_meta(folder)
    if not isinstance(meta, dict):
        raise ArtifactError(f"cannot load {folder}: meta.json is not a JSON object. Retrain with `python scripts/train.py`.")
    files = meta.get("files")
    if not isinstance(files, dict) or not files:
        raise ArtifactError(f"cannot load {folder}: meta.json lists no files. Retrain with `python scripts/train.py`.")
    # file names first: a bad name is refused before anything else is looked at
    paths = {name: check_member_name(folder, name) for name in files}
    problems = []
    if meta.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {meta.get('format_version')} (this library reads {FORMAT_VERSION})")
    if meta.get("kind") != kind:
        problems.append(f"kind {meta.get('kind')!r} (expected {kind!r})")
    if taxonomy_version and meta.get("taxonomy_version") != taxonomy_version:
        problems.append(f"built for taxonomy {meta.get('taxonomy_version')}, loaded with {taxonomy_version}")
    if check is not None:
        problems += list(check(meta))
    if is_package:
        if not pins:
            problems.append("the package has no pinned checksums for its model (matcher/_model_pins.py); "
                            "regenerate them with `python scripts/train.py`")
        elif set(files) != set(pins):
            problems.append(f"files {sorted(files)} differ from the pinned files {sorted(pins)}")
    blobs = {}
    for name, digest in files.items():
        p = paths[name]
        if not p.is_file():
            problems.append(f"{name} is missing")
            continue
        data = p.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            problems.append(f"{name} checksum mismatch (file changed or corrupt)")
        elif is_package and pins and pins.get(name) != actual:
            problems.append(f"{name} checksum does not match the checksum pinned in the package "
                            f"(matcher/_model_pins.py): the package model was changed")
        else:
            blobs[name] = data
    if problems:
        raise ArtifactError(f"cannot load {folder}: " + "; ".join(problems) +
                            ". Retrain with `python scripts/train.py`.")
    def unpickle(name: str, data: bytes):
        return pickle.loads(zlib.decompress(data)) if name.endswith(".pkl.z") else joblib.load(io.BytesIO(data))

    objects = {}
    for name, data in blobs.items():
        key = name.split(".", 1)[0]
        if key in defer:
            objects[key] = (lambda n=name, d=data: unpickle(n, d))
        else:
            objects[key] = unpickle(name, data)
    return objects, meta
