"""One exception hierarchy; every message says what to do about it."""
from __future__ import annotations


class MatcherError(Exception):
    """Base class of every error this library raises on purpose."""


class InputError(MatcherError, ValueError):
    """The caller's input cannot be used as given (file, columns, arguments)."""


class MissingColumnsError(InputError):
    """Required columns are missing; all of them are listed at once."""

    def __init__(self, missing: list[str], available: list[str], hint: str = ""):
        self.missing = list(missing)
        self.available = list(available)
        # the header is not echoed: in a file without a header row it is a client's data
        n = len(self.available)
        msg = (f"missing required column(s): {', '.join(self.missing)}; none of the file's {n} column(s) "
               f"maps to them (name them in the header, or map yours with --map COLUMN=FIELD; a file "
               f"without a header row needs one)")
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class ConfigError(MatcherError, ValueError):
    """A configuration object failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid configuration: " + "; ".join(self.problems))


class ArtifactError(MatcherError):
    """A saved model folder is missing, corrupt, or was built for other versions."""


class DataError(MatcherError):
    """The compiled taxonomy or curated data under taxonomies/ is missing or inconsistent."""
