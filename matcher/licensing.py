"""State licence data: a registry of what each state licenses, and the modelled routes for
foreign-trained applicants, read from taxonomies/licensing/<STATE>/.

A state is one folder holding
- ``registry.csv``: every occupation the state licenses, certifies or registers
  (``licence_required`` yes / conditional / no, with the condition, the board and a source);
  an occupation the registry does not list is ``unknown``, never "no licence needed";
- ``licenses.csv``: the licence routes modelled for foreign-trained applicants;
- ``steps.csv``: their ordered steps (required, paid, cost range and basis, months, what
  satisfies or waives each step, sources with ``as_of`` dates).
Adding a state adds a folder, no code.  Exam and credential identifiers that satisfy steps live in
``taxonomies/licensing/exams.csv`` (see ``matcher.exams``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import pandas as pd

from ._util import is_missing
from .errors import DataError, InputError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["LicensingData", "License", "Step", "RegistryEntry", "CEFR_LEVELS", "cefr_rank", "months_before_paid"]

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
STEP_KINDS = {"credential_evaluation", "english_test", "exam", "education", "supervised_practice", "residency",
              "application", "background_check", "registration", "training", "apprenticeship", "work_experience"}
REQUIRED_VALUES = {"yes", "conditional", "no"}
COST_BASES = {"confirmed", "estimate", "unknown"}
AS_OF_KINDS = {"source", "checked"}
CONFIRMED_VALUES = {"yes", "partial", "no"}
FOREIGN_EXPERIENCE = {"", "credited", "unclear", "not_credited"}
LICENCE_REQUIRED = {"yes", "conditional", "no"}     # registry values; "unknown" when a code is not listed


def months_before_paid(steps) -> float:
    """Months of the steps before the first paid one (residency, paid internship, apprenticeship),
    one after another."""
    months = 0.0
    for s in steps:
        if s.paid:
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
    required: str                 # yes, conditional (see condition), no (recommended only)
    condition: str                # when a conditional step applies, in words
    paid: bool                    # the client earns during this step
    paid_wage_onet: str           # O*NET code whose local OEWS median stands for the pay during the step
    paid_wage_annual_usd: float | None   # or a sourced fixed figure (e.g. a resident stipend)
    paid_wage_source: str
    cost_usd_min: float | None
    cost_usd_max: float | None
    cost_basis: str               # confirmed, estimate, unknown
    cost_note: str
    months: float
    loan_eligible: bool
    satisfied_by: tuple[str, ...]  # exam/credential identifiers that make the step unnecessary
    waived_by: str                # what else waives it, in words
    foreign_experience: str       # for experience steps: credited, unclear, not_credited ('' otherwise)
    experience_months: float | None
    confirmed: str
    source_url: str
    as_of: str
    as_of_kind: str               # source (the source's own date) or checked (the date it was read)
    note: str

    @property
    def cost_usd(self) -> float | None:
        """The low end of the cost (kept for callers of the first JSON format)."""
        return self.cost_usd_min

    def to_dict(self) -> dict:
        d = asdict(self)
        d["satisfied_by"] = list(self.satisfied_by)
        d["cost_usd"] = self.cost_usd
        return d


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
    as_of_kind: str
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


@dataclass(frozen=True)
class RegistryEntry:
    """What a state requires to work in one occupation.  ``licence_required`` is ``unknown`` for an
    occupation the state's registry does not list: that never means "no licence needed"."""

    onet_code: str
    state: str
    licence_required: str         # yes, conditional, no, unknown
    licence_condition: str
    credential: str
    license_ids: tuple[str, ...]  # modelled routes (licenses.csv)
    board_name: str
    board_url: str
    confirmed: str
    source_url: str
    as_of: str
    as_of_kind: str
    note: str

    @property
    def licensed(self) -> bool:
        """The state requires a licence for this work (always or under a condition)."""
        return self.licence_required in ("yes", "conditional")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["license_ids"] = list(self.license_ids)
        return d


_LICENSE_COLUMNS = ["license_id", "license_title", "onet_codes", "sector", "board_name", "board_url", "english_test",
                    "english_min_score", "english_min_cefr", "foreign_route_summary", "confirmed", "notes",
                    "source_url", "as_of", "as_of_kind"]
_STEP_COLUMNS = ["license_id", "step_no", "step_name", "kind", "required", "condition", "paid", "paid_wage_onet",
                 "paid_wage_annual_usd", "paid_wage_source", "cost_usd_min", "cost_usd_max", "cost_basis",
                 "cost_note", "months", "loan_eligible", "satisfied_by", "waived_by", "foreign_experience",
                 "experience_months", "confirmed", "source_url", "as_of", "as_of_kind", "note"]
_REGISTRY_COLUMNS = ["onet_code", "occupation", "licence_required", "licence_condition", "credential", "license_id",
                     "board_name", "board_url", "confirmed", "source_url", "as_of", "as_of_kind", "note"]


def _number(value: str, where: str, what: str, problems: list[str]) -> float | None:
    if is_missing(value):
        return None
    try:
        x = float(value)
    except ValueError:
        problems.append(f"{where}: {what} must be a number (got {value!r})")
        return None
    if not (x >= 0) or x == float("inf"):
        problems.append(f"{where}: {what} must be a non-negative number (got {value!r})")
        return None
    return x


def _date_problems(where: str, as_of: str, kind: str) -> list[str]:
    out = []
    if pd.isna(pd.to_datetime(as_of, format="%Y-%m-%d", errors="coerce")):
        out.append(f"{where}: as_of must be a YYYY-MM-DD date (got {as_of!r})")
    if kind not in AS_OF_KINDS:
        out.append(f"{where}: as_of_kind must be one of {sorted(AS_OF_KINDS)} (got {kind!r})")
    return out


class LicensingData:
    """All states under taxonomies/licensing/, validated on first use (every problem at once)."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()
        self.root = self.taxonomy.root / "licensing"

    @cached_property
    def states(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "licenses.csv").exists())

    def version(self, state: str) -> str:
        versions = self.__dict__.setdefault("_versions", {})
        if state not in versions:
            versions[state] = self.taxonomy.curated_version(f"licensing/{state}")
        return versions[state]

    @cached_property
    def _by_state(self) -> dict[str, tuple[dict[str, License], dict[str, RegistryEntry]]]:
        from .exams import ExamIdentifiers

        known_ids = ExamIdentifiers(self.taxonomy).identifiers
        return {state: self._load_state(state, known_ids) for state in self.states}

    def _load_state(self, state: str, known_ids: frozenset[str]):
        folder = self.root / state
        read = lambda name: pd.read_csv(folder / name, dtype=str, keep_default_na=False)  # noqa: E731
        lic, steps = read("licenses.csv"), read("steps.csv")
        reg = read("registry.csv") if (folder / "registry.csv").exists() else pd.DataFrame(columns=_REGISTRY_COLUMNS)
        problems = [f"licenses.csv lacks {c}" for c in _LICENSE_COLUMNS if c not in lic.columns]
        problems += [f"steps.csv lacks {c}" for c in _STEP_COLUMNS if c not in steps.columns]
        problems += [f"registry.csv lacks {c}" for c in _REGISTRY_COLUMNS if c not in reg.columns]
        if problems:
            raise DataError(f"licensing/{state}: " + "; ".join(problems))
        titles = self.taxonomy.titles
        by_id: dict[str, list[Step]] = {}
        for r in steps.itertuples(index=False):
            where = f"licensing/{state}/steps.csv {r.license_id} step {r.step_no}"
            bad = []
            if r.kind not in STEP_KINDS:
                bad.append(f"{where}: unknown kind {r.kind!r}")
            if r.required not in REQUIRED_VALUES:
                bad.append(f"{where}: required must be yes/conditional/no (got {r.required!r})")
            if r.required == "conditional" and not r.condition.strip():
                bad.append(f"{where}: a conditional step needs its condition in words")
            if r.paid not in ("yes", "no") or r.loan_eligible not in ("yes", "no"):
                bad.append(f"{where}: paid and loan_eligible must be yes/no")
            if r.cost_basis not in COST_BASES:
                bad.append(f"{where}: cost_basis must be one of {sorted(COST_BASES)} (got {r.cost_basis!r})")
            if r.confirmed not in CONFIRMED_VALUES:
                bad.append(f"{where}: confirmed must be yes/partial/no (got {r.confirmed!r})")
            if r.foreign_experience not in FOREIGN_EXPERIENCE:
                bad.append(f"{where}: foreign_experience must be credited/unclear/not_credited or empty")
            lo = _number(r.cost_usd_min, where, "cost_usd_min", bad)
            hi = _number(r.cost_usd_max, where, "cost_usd_max", bad)
            months = _number(r.months, where, "months", bad)
            wage = _number(r.paid_wage_annual_usd, where, "paid_wage_annual_usd", bad)
            exp = _number(r.experience_months, where, "experience_months", bad)
            if is_missing(r.months):
                bad.append(f"{where}: months is required")
            if r.cost_basis == "unknown" and (lo is not None or hi is not None):
                bad.append(f"{where}: an unknown cost has no figures (cost_basis=unknown)")
            if r.cost_basis != "unknown" and (lo is None or hi is None):
                bad.append(f"{where}: a {r.cost_basis} cost needs cost_usd_min and cost_usd_max")
            if lo is not None and hi is not None and lo > hi:
                bad.append(f"{where}: cost_usd_min > cost_usd_max")
            if r.cost_basis == "confirmed" and lo != hi:
                bad.append(f"{where}: a confirmed fee is one figure (min = max); a range is an estimate")
            if r.paid_wage_onet and r.paid_wage_onet not in titles:
                bad.append(f"{where}: unknown paid_wage_onet {r.paid_wage_onet!r}")
            if wage is not None and not r.paid_wage_source.startswith("http"):
                bad.append(f"{where}: paid_wage_annual_usd needs a paid_wage_source URL")
            if r.foreign_experience and exp is None:
                bad.append(f"{where}: foreign_experience needs experience_months")
            sat = tuple(x.strip() for x in r.satisfied_by.split("|") if x.strip())
            unknown = [x for x in sat if x not in known_ids]
            if unknown:
                bad.append(f"{where}: unknown satisfied_by identifiers {unknown} (see licensing/exams.csv)")
            if not r.source_url.startswith("http"):
                bad.append(f"{where}: needs a source_url")
            bad += _date_problems(where, r.as_of, r.as_of_kind)
            problems += bad
            if bad:
                continue
            by_id.setdefault(r.license_id, []).append(Step(
                int(r.step_no), r.step_name, r.kind, r.required, r.condition.strip(), r.paid == "yes",
                r.paid_wage_onet, wage, r.paid_wage_source, lo, hi, r.cost_basis, r.cost_note, months or 0.0,
                r.loan_eligible == "yes", sat, r.waived_by, r.foreign_experience, exp, r.confirmed, r.source_url,
                r.as_of, r.as_of_kind, r.note))
        licences: dict[str, License] = {}
        for r in lic.itertuples(index=False):
            where = f"licensing/{state}/licenses.csv {r.license_id}"
            codes = tuple(c.strip() for c in r.onet_codes.split("|") if c.strip())
            bad = [c for c in codes if c not in titles]
            if bad:
                problems.append(f"{where}: unknown O*NET codes {bad}")
            st = sorted(by_id.get(r.license_id, []), key=lambda s: s.step_no)
            if not st:
                problems.append(f"{where}: no steps")
            if not r.source_url.startswith("http"):
                problems.append(f"{where}: needs a source_url")
            problems += _date_problems(where, r.as_of, r.as_of_kind)
            licences[r.license_id] = License(
                r.license_id, state, r.license_title, codes, r.sector, r.board_name, r.board_url, r.english_test,
                r.english_min_score, r.english_min_cefr.upper(), r.foreign_route_summary, r.confirmed, r.notes,
                r.source_url, r.as_of, r.as_of_kind, tuple(st))
        orphans = set(by_id) - set(licences)
        if orphans:
            problems.append(f"licensing/{state}/steps.csv: steps for unknown licences {sorted(orphans)}")
        registry: dict[str, RegistryEntry] = {}
        for r in reg.itertuples(index=False):
            where = f"licensing/{state}/registry.csv {r.onet_code}"
            if r.onet_code not in titles:
                problems.append(f"{where}: unknown O*NET code")
            if r.onet_code in registry:
                problems.append(f"{where}: listed twice")
            if r.licence_required not in LICENCE_REQUIRED:
                problems.append(f"{where}: licence_required must be yes/conditional/no (got {r.licence_required!r})")
            if r.licence_required == "conditional" and not r.licence_condition.strip():
                problems.append(f"{where}: a conditional licence needs licence_condition in words")
            if not r.source_url.startswith("http"):
                problems.append(f"{where}: needs a source_url (a 'no' needs one too)")
            problems += _date_problems(where, r.as_of, r.as_of_kind)
            ids = tuple(x.strip() for x in r.license_id.split("|") if x.strip())
            missing = [x for x in ids if x not in licences]
            if missing:
                problems.append(f"{where}: license_id {missing} not in licenses.csv")
            registry[r.onet_code] = RegistryEntry(
                r.onet_code, state, r.licence_required, r.licence_condition.strip(), r.credential, ids, r.board_name,
                r.board_url, r.confirmed, r.source_url, r.as_of, r.as_of_kind, r.note)
        # every occupation a modelled route covers must be in the registry, with the route linked
        for l in licences.values():
            for c in l.onet_codes:
                e = registry.get(c)
                if e is None:
                    problems.append(f"licensing/{state}/registry.csv lacks {c} (covered by {l.license_id})")
                elif l.license_id not in e.license_ids:
                    problems.append(f"licensing/{state}/registry.csv {c}: license_id should list {l.license_id}")
        if problems:
            raise DataError("invalid licensing data:\n  - " + "\n  - ".join(problems))
        return licences, registry

    def licenses(self, state: str) -> dict[str, License]:
        return self._state(state)[0]

    def registry(self, state: str) -> dict[str, RegistryEntry]:
        return self._state(state)[1]

    def check_state(self, state: str) -> str:
        """The upper-case state code, or an InputError naming the states with data."""
        st = str(state or "").strip().upper()
        if st not in self._by_state:
            raise InputError(f"no licensing data for state {state!r}; available: {', '.join(self.states)}")
        return st

    def _state(self, state: str):
        return self._by_state[self.check_state(state)]

    def get(self, license_id: str, state: str | None = None) -> License | None:
        """A licence by id (its state is the id's prefix unless ``state`` is given)."""
        states = [self.check_state(state)] if state else self.states
        for s in states:
            lic = self._by_state[s][0].get(license_id)
            if lic is not None:
                return lic
        return None

    def status(self, onet_code: str, state: str) -> RegistryEntry:
        """The registry entry of an occupation; ``licence_required='unknown'`` when not listed."""
        st = self.check_state(state)
        e = self._by_state[st][1].get(onet_code)
        if e is not None:
            return e
        return RegistryEntry(onet_code, st, "unknown", "", "", (), "", "", "", "", "", "", "")

    def for_occupation(self, onet_code: str, state: str) -> list[License]:
        """Modelled licence routes that cover an occupation (most specific first: fewest codes)."""
        e = self.status(onet_code, state)
        lics = self.licenses(state)
        hits = [lics[i] for i in e.license_ids if i in lics]
        return sorted(hits, key=lambda l: (len(l.onet_codes), l.license_id))

    def licensed_codes(self, state: str) -> dict[str, list[License]]:
        out: dict[str, list[License]] = {}
        for l in self.licenses(state).values():
            for c in l.onet_codes:
                out.setdefault(c, []).append(l)
        return out


# Domains of primary sources: government (boards, regulators, legislatures, courts) and the owners
# of exams and credentials.  Anything else (guides, schools' pages, mirrors) counts as secondary.
PRIMARY_SOURCE_SUFFIXES = (".gov", ".ky.gov", "in.gov", ".us", "kycourts.net")
PRIMARY_SOURCE_DOMAINS = {
    "law.cornell.edu",  # regulation text as published (Legal Information Institute)
    "ncsbn.org", "ncees.org", "usmle.org", "ecfmg.org", "intealth.org", "fsmb.org", "nabp.pharmacy", "fsbpt.org",
    "fccpt.org", "nbcot.org", "ada.org", "jcnde.ada.org", "adextesting.org", "arrt.org", "nbrc.org", "nremt.org",
    "aswb.org", "cswe.org", "cdrnet.org", "cgfns.org", "ets.org", "ielts.org", "oet.com", "occupationalenglishtest.org",
    "nasba.org", "aicpa-cima.com", "aicpa.org", "avma.org", "aavsb.org", "icva.net", "ncbex.org", "fsmtb.org",
    "ptcb.org", "nhanow.com", "aama-ntl.org", "ascp.org", "nictesting.org", "servsafe.com", "kctcs.edu", "narm.org",
    "amcbmidwife.org", "aanpcert.org", "nccpa.net", "nbcrna.com", "englishtest.duolingo.com", "naces.org",
    "kybar.org", "kyoba.org", "in.gov", "kbml.ky.gov", "nccaom.org", "nbeo.org", "ncbtmb.org", "nrmp.org", "aamc.org",
    "epa.gov", "fmcsa.dot.gov", "nbcot.org", "amcbmidwife.org", "kybve.com",
}


def source_domain(url: str) -> str:
    from urllib.parse import urlparse

    host = urlparse(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def is_primary_source(url: str) -> bool:
    host = source_domain(url)
    if not host:
        return False
    if host.endswith(PRIMARY_SOURCE_SUFFIXES) or host in PRIMARY_SOURCE_DOMAINS:
        return True
    return any(host.endswith("." + d) for d in PRIMARY_SOURCE_DOMAINS)


def _audit(self, state: str) -> dict:
    """Counts a navigator or a reviewer can check: how many facts are confirmed, partial or
    unconfirmed, how step costs are known, which steps lack a primary source, the oldest as_of."""
    from collections import Counter

    st = self.check_state(state)
    lics, reg = self._by_state[st]
    steps = [s for l in lics.values() for s in l.steps]
    secondary = Counter(source_domain(s.source_url) for s in steps if not is_primary_source(s.source_url))
    dates = [s.as_of for s in steps] + [l.as_of for l in lics.values()] + [e.as_of for e in reg.values()]
    kinds = Counter([s.as_of_kind for s in steps] + [l.as_of_kind for l in lics.values()] +
                    [e.as_of_kind for e in reg.values()])
    count = lambda xs: {k: sum(1 for x in xs if x.confirmed == k) for k in ("yes", "partial", "no")}  # noqa: E731
    return {
        "state": st, "version": self.version(st), "licences": len(lics), "steps": len(steps),
        "registry_rows": len(reg),
        "registry_by_requirement": dict(sorted(Counter(e.licence_required for e in reg.values()).items())),
        "steps_confirmed": count(steps), "licences_confirmed": count(lics.values()),
        "registry_confirmed": count(reg.values()),
        "cost_basis": dict(sorted(Counter(s.cost_basis for s in steps).items())),
        "steps_without_primary_source": sum(secondary.values()),
        "secondary_source_domains": dict(secondary.most_common()),
        "oldest_as_of": min(dates) if dates else "", "newest_as_of": max(dates) if dates else "",
        "as_of_kinds": dict(sorted(kinds.items())),
    }


LicensingData.audit = _audit
