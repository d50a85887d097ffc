"""Where the package's data lives: the compiled taxonomy (taxonomies/) and the trained title model
(models/title-matcher/).

In a source checkout (also an editable install) these are the folders at the top of the
repository, next to the ``matcher`` package.  An installed wheel carries the same files as package
data of the namespace package ``matcher_data`` (``matcher_data/taxonomies``,
``matcher_data/models``; see pyproject.toml).  Importing this module only computes paths."""
from __future__ import annotations

from pathlib import Path

__all__ = ["taxonomy_dir", "model_dir"]

_CHECKOUT = Path(__file__).resolve().parent.parent


def _is_checkout() -> bool:
    # the repository root holds pyproject.toml next to the package; site-packages does not
    return (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "matcher").is_dir()


def _installed(name: str) -> Path | None:
    """The real folder ``matcher_data/<name>`` of an installed wheel, or None."""
    try:
        from importlib.resources import files

        found = files("matcher_data").joinpath(name)
    except (ImportError, ModuleNotFoundError, TypeError, ValueError, AttributeError):
        found = None
    if isinstance(found, Path) and found.is_dir():
        return found.resolve()
    # namespace packages may give a reader-specific Traversable; ask the import system directly
    import importlib.util

    try:
        spec = importlib.util.find_spec("matcher_data")
    except (ImportError, ValueError):
        return None
    for loc in (spec.submodule_search_locations or []) if spec else []:
        p = Path(loc) / name
        if p.is_dir():
            return p.resolve()
    return None


def _data_dir(name: str) -> Path:
    local = _CHECKOUT / name
    if _is_checkout():
        return local
    # installed: the wheel's package data; else a folder next to the package, else the checkout
    # path anyway (it does not exist, so "missing" errors name a sensible place)
    return _installed(name) or local


def taxonomy_dir() -> Path:
    """The compiled taxonomy folder (``taxonomies/``)."""
    return _data_dir("taxonomies")


def model_dir() -> Path:
    """The package's trained title model (``models/title-matcher/``)."""
    return _data_dir("models") / "title-matcher"
