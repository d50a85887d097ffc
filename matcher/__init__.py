"""matcher: credential pathway matching for internationally trained workers.

The public surface: the entry classes, their result types, the batch entry point and errors.
Nothing is loaded at import; models and tables load on first use.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__all__ = [
    "TitleMatcher", "TitleMatcherConfig", "TitleMatch", "Candidate",
    "CredentialNormalizer", "CredentialResult",
    "PathwayRanker", "PathwayConfig", "PathwayWeights", "ClientContext", "Pathway",
    "OpeningRanker", "OpeningWeights", "OpeningMatch", "ClientProfile", "load_openings", "prepare_openings",
    "ScoreConfig", "score_file", "load_taxonomy",
    "MatcherError", "InputError", "MissingColumnsError", "ConfigError", "ArtifactError", "DataError",
]

_WHERE = {
    "TitleMatcher": "titles", "TitleMatcherConfig": "titles", "TitleMatch": "titles", "Candidate": "titles",
    "CredentialNormalizer": "credentials", "CredentialResult": "credentials",
    "PathwayRanker": "pathways", "PathwayConfig": "pathways", "PathwayWeights": "pathways",
    "ClientContext": "pathways", "Pathway": "pathways",
    "OpeningRanker": "openings", "OpeningWeights": "openings", "OpeningMatch": "openings",
    "ClientProfile": "openings", "load_openings": "openings", "prepare_openings": "openings",
    "ScoreConfig": "batch", "score_file": "batch", "load_taxonomy": "taxonomy",
    "MatcherError": "errors", "InputError": "errors", "MissingColumnsError": "errors", "ConfigError": "errors",
    "ArtifactError": "errors", "DataError": "errors",
}


def __getattr__(name: str):
    """Lazy imports keep `import matcher` cheap (no scikit-learn or pandas until needed)."""
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .batch import ScoreConfig, score_file
    from .credentials import CredentialNormalizer, CredentialResult
    from .errors import ArtifactError, ConfigError, DataError, InputError, MatcherError, MissingColumnsError
    from .openings import ClientProfile, OpeningMatch, OpeningRanker, OpeningWeights, load_openings, prepare_openings
    from .pathways import ClientContext, Pathway, PathwayConfig, PathwayRanker, PathwayWeights
    from .taxonomy import load_taxonomy
    from .titles import Candidate, TitleMatch, TitleMatcher, TitleMatcherConfig
