"""One settings object for every entry point (library, ``matcher plan``, ``matcher pathways``,
``matcher score``, ``matcher clients``): the numbers that shape pathways, plans, openings and
occupation similarity, validated as a whole and loadable from a TOML file.

    [plan]
    loan_cap_usd = 3000
    loan_term_months = 24
    living_support_usd_per_month = 500

    [plan.bridge_weights]
    soon = 0.3

    [pathways]
    bridge_max_months = 6

    [pathways.weights]
    wage = 0.25

    [openings]
    distance_scale_miles = 15

    [similarity]
    related = 0.35

Unknown sections or keys are errors (every problem reported at once).  The loan cap is set once,
in ``[plan]``; the pathway ranker uses the same figure.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path

from .errors import ConfigError
from .openings import OpeningWeights
from .pathways import PathwayConfig, PathwayWeights
from .plan import BridgeWeights, PlanConfig
from .similarity import SimilarityWeights

__all__ = ["Settings"]

_NESTED = {(PathwayConfig, "weights"): PathwayWeights, (PathwayConfig, "income_now_weights"): PathwayWeights,
           (PlanConfig, "bridge_weights"): BridgeWeights}


def _build(cls, data: dict, where: str, problems: list[str]):
    if not isinstance(data, dict):
        problems.append(f"[{where}] must be a table")
        return cls()
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    problems += [f"[{where}] has no setting {k!r} (known: {', '.join(sorted(names))})" for k in unknown]
    kw = {}
    for k, v in data.items():
        if k not in names:
            continue
        sub = _NESTED.get((cls, k))
        kw[k] = _build(sub, v, f"{where}.{k}", problems) if sub else v
    try:
        return cls(**kw)
    except ConfigError as e:
        problems += [f"[{where}] {p}" for p in e.problems]
    except TypeError as e:
        problems.append(f"[{where}] {e}")
    return cls()


@dataclass(frozen=True)
class Settings:
    pathways: PathwayConfig = field(default_factory=PathwayConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)
    openings: OpeningWeights = field(default_factory=OpeningWeights)
    similarity: SimilarityWeights = field(default_factory=SimilarityWeights)

    def __post_init__(self):
        problems = [f"{name} must be a {cls.__name__}" for name, cls in
                    (("pathways", PathwayConfig), ("plan", PlanConfig), ("openings", OpeningWeights),
                     ("similarity", SimilarityWeights)) if not isinstance(getattr(self, name), cls)]
        if problems:
            raise ConfigError(problems)
        if self.pathways.loan_max_usd != self.plan.loan_cap_usd:
            # one loan cap: the plan's
            object.__setattr__(self, "pathways", replace(self.pathways, loan_max_usd=self.plan.loan_cap_usd))

    @classmethod
    def from_dict(cls, data: dict) -> "Settings":
        problems: list[str] = []
        if not isinstance(data, dict):
            raise ConfigError(["settings must be a table of sections"])
        sections = {"pathways": PathwayConfig, "plan": PlanConfig, "openings": OpeningWeights,
                    "similarity": SimilarityWeights}
        problems += [f"unknown section [{k}] (known: {', '.join(sections)})" for k in sorted(set(data) - set(sections))]
        if "loan_max_usd" in (data.get("pathways") or {}):
            problems.append("[pathways] loan_max_usd: set the loan cap once, as [plan] loan_cap_usd")
        built = {k: _build(c, data.get(k, {}), k, problems) for k, c in sections.items()}
        if problems:
            raise ConfigError(problems)
        return cls(**built)

    @classmethod
    def from_toml(cls, path: str | Path) -> "Settings":
        p = Path(path)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"{p}: no such settings file"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError([f"{p}: not valid TOML ({e})"]) from None
        return cls.from_dict(data)

    def to_dict(self) -> dict:
        def conv(x):
            if is_dataclass(x):
                return {f.name: conv(getattr(x, f.name)) for f in dataclasses.fields(x)}
            return x
        out = {k: conv(getattr(self, k)) for k in ("pathways", "plan", "openings", "similarity")}
        out["pathways"].pop("loan_max_usd")     # set once, as plan.loan_cap_usd
        return out
