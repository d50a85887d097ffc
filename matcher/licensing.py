"""Licence routes for foreign-trained applicants, read from taxonomies/licensing/<STATE>/.
A state is one folder holding licenses.csv and steps.csv; adding a state adds no code."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import pandas as pd

from .errors import DataError, InputError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["LicensingData", "License", "Step", "CEFR_LEVELS", "cefr_rank"]

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
STEP_KINDS = {"credential_evaluation", "english_test", "exam", "education", "supervised_practice", "residency",
              "application", "background_check", "registration", "training"}
PAID_KINDS = {"residency"}  # steps that are paid work in the target occupation


def months_before_paid(steps) -> float:
    """Months of the steps before the first paid one (a residency is paid work), one after another."""
    months = 0.0
    for s in steps:
        if s.kind in PAID_KINDS:
            break
        months += s.months
    return months


def cefr_rank(level: str | None) -> int | None:
    """A1 -> 1 ... C2 -> 6; None for empty or unknown values."""
    if not level:
        return None
    lv = str(level).strip().upper()
    return CEFR_LEVELS.index(lv) + 1 if lv in CEFR_LEVELS else None


@dataclass(frozen=True)
class Step:
    step_no: int
    name: str
    kind: str
    cost_usd: float | None
    cost_note: str
    months: float
    loan_eligible: bool
    required: str          # yes, no, conditional
    confirmed: str
    source_url: str
    as_of: str
    note: str

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "cost_usd": self.cost_usd, "months": self.months,
                "loan_eligible": self.loan_eligible, "required": self.required, "confirmed": self.confirmed,
                "cost_note": self.cost_note, "source_url": self.source_url, "as_of": self.as_of}


@dataclass(frozen=True)
class License:
    license_id: str
    state: str
    title: str
    onet_codes: tuple[str, ...]
    sector: str
    board_name: str
    board_url: str
    english_test: str
    english_min_score: str
    english_min_cefr: str
    route_summary: str
    confirmed: str
    notes: str
    source_url: str
    as_of: str
    steps: tuple[Step, ...]

    @property
    def required_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.required == "yes")

    @property
    def months_before_paid(self) -> float:
        return months_before_paid(self.required_steps)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["steps"] = [s.to_dict() for s in self.steps]
        return d


_LICENSE_COLUMNS = ["license_id", "license_title", "onet_codes", "sector", "board_name", "board_url", "english_test",
                    "english_min_score", "english_min_cefr", "foreign_route_summary", "confirmed", "notes",
                    "source_url", "as_of"]
_STEP_COLUMNS = ["license_id", "step_no", "step_name", "kind", "cost_usd", "cost_note", "months", "loan_eligible",
                 "required", "confirmed", "source_url", "as_of", "note"]


class LicensingData:
    """All states under taxonomies/licensing/, validated on first use (every problem at once)."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()
        self.root = self.taxonomy.root / "licensing"

    @property
    def states(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "licenses.csv").exists())

    def version(self, state: str) -> str:
        return self.taxonomy.curated_version(f"licensing/{state}")

    @cached_property
    def _by_state(self) -> dict[str, dict[str, License]]:
        out = {}
        for state in self.states:
            out[state] = self._load_state(state)
        return out

    def _load_state(self, state: str) -> dict[str, License]:
        folder = self.root / state
        lic = pd.read_csv(folder / "licenses.csv", dtype=str, keep_default_na=False)
        steps = pd.read_csv(folder / "steps.csv", dtype=str, keep_default_na=False)
        problems = [f"licenses.csv lacks {c}" for c in _LICENSE_COLUMNS if c not in lic.columns]
        problems += [f"steps.csv lacks {c}" for c in _STEP_COLUMNS if c not in steps.columns]
        if problems:
            raise DataError(f"licensing/{state}: " + "; ".join(problems))
        titles = self.taxonomy.titles
        by_id: dict[str, list[Step]] = {}
        for r in steps.itertuples(index=False):
            where = f"licensing/{state}/steps.csv {r.license_id} step {r.step_no}"
            if r.kind not in STEP_KINDS:
                problems.append(f"{where}: unknown kind {r.kind!r}")
            try:
                cost = float(r.cost_usd) if r.cost_usd.strip() else None
                months = float(r.months or 0)
            except ValueError:
                problems.append(f"{where}: cost_usd/months must be numbers")
                continue
            if not r.source_url.startswith("http") or not r.as_of:
                problems.append(f"{where}: needs a source_url and an as_of date")
            by_id.setdefault(r.license_id, []).append(Step(
                int(r.step_no), r.step_name, r.kind, cost, r.cost_note, months, r.loan_eligible.lower() == "yes",
                r.required.lower(), r.confirmed, r.source_url, r.as_of, r.note))
        out = {}
        for r in lic.itertuples(index=False):
            codes = tuple(c.strip() for c in r.onet_codes.split("|") if c.strip())
            bad = [c for c in codes if c not in titles]
            if bad:
                problems.append(f"licensing/{state}/licenses.csv {r.license_id}: unknown O*NET codes {bad}")
            st = sorted(by_id.get(r.license_id, []), key=lambda s: s.step_no)
            if not st:
                problems.append(f"licensing/{state}/licenses.csv {r.license_id}: no steps")
            out[r.license_id] = License(r.license_id, state, r.license_title, codes, r.sector, r.board_name,
                                        r.board_url, r.english_test, r.english_min_score, r.english_min_cefr.upper(),
                                        r.foreign_route_summary, r.confirmed, r.notes, r.source_url, r.as_of, tuple(st))
        orphans = set(by_id) - set(out)
        if orphans:
            problems.append(f"licensing/{state}/steps.csv: steps for unknown licences {sorted(orphans)}")
        if problems:
            raise DataError("invalid licensing data:\n  - " + "\n  - ".join(problems))
        return out

    def licenses(self, state: str) -> dict[str, License]:
        state = state.upper()
        if state not in self._by_state:
            raise InputError(f"no licensing data for state {state!r}; available: {', '.join(self.states)}")
        return self._by_state[state]

    def get(self, license_id: str, state: str = "KY") -> License | None:
        lic = self.licenses(state).get(license_id)
        if lic is None:
            for s in self.states:
                if license_id in self._by_state[s]:
                    return self._by_state[s][license_id]
        return lic

    def for_occupation(self, onet_code: str, state: str = "KY") -> list[License]:
        """Licences that cover an occupation (most specific first: fewest codes)."""
        hits = [l for l in self.licenses(state).values() if onet_code in l.onet_codes]
        return sorted(hits, key=lambda l: (len(l.onet_codes), l.license_id))

    def licensed_codes(self, state: str = "KY") -> dict[str, list[License]]:
        out: dict[str, list[License]] = {}
        for l in self.licenses(state).values():
            for c in l.onet_codes:
                out.setdefault(c, []).append(l)
        return out
