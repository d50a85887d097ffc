"""Issue 10: a model folder cannot vouch for itself.  Loading unpickles, which runs code, so only
the package's own model (checksums pinned in matcher/_model_pins.py) or a folder the caller marks
``trusted=True`` is loaded, and file names in meta.json must be plain names inside the folder."""
import hashlib
import json
import os
import pickle
import shutil
import sys
import zlib
from pathlib import Path

import pytest

from matcher import _model_pins
from matcher.errors import ArtifactError
from matcher.titles import DEFAULT_MODEL_DIR, TitleMatcher


class _Planted:
    """Unpickling this writes a marker file: stands for arbitrary code run by a planted pickle."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "code ran"))


def _evil_bytes(marker: Path) -> bytes:
    return zlib.compress(pickle.dumps(_Planted(marker), protocol=5), 3)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rewrite_meta(folder: Path, files: dict) -> None:
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    meta["files"] = files
    (folder / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


@pytest.fixture
def marker(tmp_path):
    m = tmp_path / "MARKER-code-ran"
    assert not m.exists()
    yield m
    assert not m.exists(), "a planted pickle was unpickled"


@pytest.fixture
def planted(tmp_path, marker):
    """A copy of the package model whose reranker is a malicious pickle, with meta.json checksums
    that match it: the folder vouches for itself."""
    dst = tmp_path / "planted"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    data = _evil_bytes(marker)
    (dst / "reranker.pkl.z").write_bytes(data)
    meta = json.loads((dst / "meta.json").read_text(encoding="utf-8"))
    _rewrite_meta(dst, {**meta["files"], "reranker.pkl.z": _sha(data)})
    return dst


def test_evil_pickle_really_runs_code_when_unpickled(tmp_path):
    # sanity check of the fixture: the payload is live
    m = tmp_path / "probe"
    pickle.loads(zlib.decompress(_evil_bytes(m)))
    assert m.read_text() == "code ran"


def test_planted_folder_is_refused_without_trusted(planted, taxonomy, marker):
    with pytest.raises(ArtifactError, match=r"not the package's model; pass trusted=True"):
        TitleMatcher.load(planted, taxonomy=taxonomy)
    with pytest.raises(ArtifactError, match=r"not the package's model"):
        TitleMatcher.load(str(planted), taxonomy=taxonomy)
    assert not marker.exists()


def test_planted_folder_reached_through_dotdot_is_refused(planted, taxonomy, marker):
    # a path that walks out of and back near the package folder is still not the package's model
    sneaky = DEFAULT_MODEL_DIR / ".." / ".." / os.path.relpath(planted, DEFAULT_MODEL_DIR.parent.parent)
    assert sneaky.resolve() == planted.resolve()
    with pytest.raises(ArtifactError, match=r"not the package's model"):
        TitleMatcher.load(sneaky, taxonomy=taxonomy)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../x.pkl.z", "../x.pkl", "sub/../../x.pkl.z", "..\\x.pkl.z", "..",
                                  "a/b.pkl.z", "C:x.pkl.z", "C:\\x.pkl.z", "x..pkl.z"])
def test_relative_escape_names_refused_even_when_trusted(tmp_path, taxonomy, marker, name):
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    data = _evil_bytes(marker)
    for target in (tmp_path / "x.pkl.z", tmp_path / "x.pkl"):
        target.write_bytes(data)  # the file the name points at exists and matches its checksum
    meta = json.loads((dst / "meta.json").read_text(encoding="utf-8"))
    _rewrite_meta(dst, {"index.pkl.z": meta["files"]["index.pkl.z"], name: _sha(data)})
    with pytest.raises(ArtifactError, match=r"plain names inside the model folder"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)
    assert not marker.exists()


def test_absolute_name_refused_even_when_trusted(tmp_path, taxonomy, marker):
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    evil = tmp_path / "elsewhere" / "reranker.pkl.z"
    evil.parent.mkdir()
    data = _evil_bytes(marker)
    evil.write_bytes(data)
    meta = json.loads((dst / "meta.json").read_text(encoding="utf-8"))
    _rewrite_meta(dst, {"index.pkl.z": meta["files"]["index.pkl.z"], str(evil.resolve()): _sha(data)})
    with pytest.raises(ArtifactError, match=r"absolute path"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)
    assert not marker.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_out_of_the_folder_refused_even_when_trusted(tmp_path, taxonomy, marker):
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    evil = tmp_path / "outside.pkl.z"
    data = _evil_bytes(marker)
    evil.write_bytes(data)
    (dst / "reranker.pkl.z").unlink()
    (dst / "reranker.pkl.z").symlink_to(evil)
    meta = json.loads((dst / "meta.json").read_text(encoding="utf-8"))
    _rewrite_meta(dst, {**meta["files"], "reranker.pkl.z": _sha(data)})
    with pytest.raises(ArtifactError, match=r"outside the model folder"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)
    assert not marker.exists()


def test_pins_cover_the_package_model():
    meta = json.loads((DEFAULT_MODEL_DIR / "meta.json").read_text(encoding="utf-8"))
    assert _model_pins.PINS == meta["files"]
    for name, digest in _model_pins.PINS.items():
        assert _sha((DEFAULT_MODEL_DIR / name).read_bytes()) == digest


@pytest.mark.parametrize("trusted", [False, True])
def test_package_model_refused_when_it_does_not_match_the_pins(monkeypatch, taxonomy, trusted):
    monkeypatch.setitem(_model_pins.PINS, "reranker.pkl.z", "0" * 64)
    with pytest.raises(ArtifactError, match=r"pinned"):
        TitleMatcher.load(taxonomy=taxonomy, trusted=trusted)
    # the same folder named another way is still the package's model
    with pytest.raises(ArtifactError, match=r"pinned"):
        TitleMatcher.load(str(DEFAULT_MODEL_DIR / ".." / DEFAULT_MODEL_DIR.name), taxonomy=taxonomy)


def test_package_model_refused_without_pins(monkeypatch, taxonomy):
    monkeypatch.setattr(_model_pins, "PINS", {})
    with pytest.raises(ArtifactError, match=r"no pinned checksums"):
        TitleMatcher.load(taxonomy=taxonomy)


def test_package_model_loads_by_default(title_matcher):
    assert title_matcher.meta_["files"] == _model_pins.PINS
    assert title_matcher.match("RN - Hospice").onet_code == "29-1141.00"


def test_own_saved_model_loads_only_when_trusted(tmp_path, taxonomy, title_matcher):
    out = title_matcher.save(tmp_path / "mine")
    with pytest.raises(ArtifactError, match=r"pass trusted=True"):
        TitleMatcher.load(out, taxonomy=taxonomy)
    m = TitleMatcher.load(out, taxonomy=taxonomy, trusted=True)
    titles = ["RN - Hospice", "Welder/Fabricator", "Line Cook - Full Time"]
    assert [r.top_codes for r in m.match_many(titles)] == [r.top_codes for r in title_matcher.match_many(titles)]
    # trusted folders still get every meta.json check
    with open(out / "reranker.pkl.z", "ab") as f:
        f.write(b"x")
    with pytest.raises(ArtifactError, match=r"checksum"):
        TitleMatcher.load(out, taxonomy=taxonomy, trusted=True)


def test_trusted_folder_keeps_format_and_kind_checks(tmp_path, taxonomy):
    dst = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, dst)
    meta = json.loads((dst / "meta.json").read_text(encoding="utf-8"))
    meta.update(format_version=99, kind="something-else", taxonomy_version="other")
    (dst / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"format version 99.*kind.*taxonomy"):
        TitleMatcher.load(dst, taxonomy=taxonomy, trusted=True)
