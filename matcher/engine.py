"""``Engine``: the one facade the command line, the API and the web app call.

It loads the title matcher, credential normalizer, licensing, wages, planner and openings once,
with one validated ``Settings``, and answers:

    engine = Engine(settings=Settings.from_toml("s.toml"), openings="openings.csv")
    engine.normalize_title("enfermera")                  # TitleMatch
    engine.normalize_credential("MBBS", "IN")            # CredentialResult
    engine.plan(ClientContext("29-1141.00", zip_code="40214"))      # ClientPlan
    engine.assess({"previous_title": "enfermera", "zip": "40214", ...})   # Assessment: row, plan
    engine.rank_openings({...intake fields...}, top=5)   # OpeningMatch list
    engine.rank_clients("OPN-0007", [{...}, {...}])      # OpeningMatch list
    engine.score_file("intake.csv", "scored.csv")        # run statistics
    engine.plan_openings(assessment)                     # {"now": [...], "after_licence": [...]}
    engine.plan_html(plan, lang="es")                    # the printable plan, in Spanish
    engine.with_openings("other.csv")                    # the same loaded parts, other openings

Every per-client answer goes through the same code as ``matcher score`` (``IntakeScorer``), so
the library, the command line and the API give identical answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .errors import InputError

__all__ = ["Engine", "Assessment"]


@dataclass(frozen=True)
class Assessment:
    """One client through the whole pipeline: the output row of ``matcher score`` (occupation,
    credential, pathways, plan columns, openings, status, messages, versions) and the plan."""

    row: dict
    plan: object          # ClientPlan, or None when no occupation could be chosen
    profile: object       # ClientProfile for opening ranking, or None

    def to_dict(self) -> dict:
        return {"row": dict(self.row), "plan": self.plan.to_dict() if self.plan is not None else None}


class Engine:
    def __init__(self, settings=None, openings: str | Path | pd.DataFrame | None = None, state: str = "KY",
                 area: str | None = None, openings_mapping: Mapping[str, str] | None = None,
                 openings_sheet: str | None = None, top_pathways: int = 3, top_openings: int = 5):
        from .batch import ScoreConfig
        from .config import Settings
        from .wages import LOUISVILLE

        self.settings = settings or Settings()
        self.config = ScoreConfig(area=area or LOUISVILLE, state=state, top_pathways=top_pathways,
                                  top_openings=top_openings)
        self._openings_arg = (openings, openings_mapping, openings_sheet)
        self._openings_source = openings if isinstance(openings, (str, Path)) else None
        if openings is not None:
            self.scorer  # noqa: B018 - openings are read (and their errors raised) at construction

    @classmethod
    def from_toml(cls, path: str | Path, **kw) -> "Engine":
        from .config import Settings

        return cls(settings=Settings.from_toml(path), **kw)

    # --- the parts, each loaded once, on first use ---
    @cached_property
    def taxonomy(self):
        from .taxonomy import load_taxonomy

        return load_taxonomy()

    @cached_property
    def planner(self):
        from .plan import Planner

        planner = Planner.from_settings(self.settings, taxonomy=self.taxonomy)
        from .pathways import ClientContext

        planner.ranker.resolve_place(ClientContext("00-0000.00", state=self.config.state, area=self.config.area))
        return planner

    @cached_property
    def title_matcher(self):
        from .titles import TitleMatcher

        return TitleMatcher.load(taxonomy=self.taxonomy)

    @cached_property
    def scorer(self):
        """The per-record pipeline (``matcher score``), sharing this engine's parts."""
        from .batch import IntakeScorer

        openings, mapping, sheet = self._openings_arg
        frame = None
        if openings is not None:
            from .openings import load_openings, prepare_openings

            frame = prepare_openings(load_openings(openings, mapping, sheet=sheet), self.title_matcher, self.taxonomy)
        return IntakeScorer(self.config, frame, self.settings, planner=self.planner, title_matcher=self.title_matcher)

    @cached_property
    def occupation_names(self):
        """Occupation names in the plan's languages (ESCO labels, the project's glossaries)."""
        from .i18n import OccupationNames

        return OccupationNames(self.taxonomy).fit()

    @property
    def credentials(self):
        return self.scorer.credentials

    @property
    def pathways(self):
        return self.planner.ranker

    @property
    def opening_ranker(self):
        return self.scorer.opening_ranker

    @property
    def openings(self) -> pd.DataFrame | None:
        return self.scorer.openings if self._openings_arg[0] is not None else None

    def versions(self) -> dict:
        t = self.title_matcher
        return {"taxonomy": self.taxonomy.version, "model": t.model_version_,
                "licensing": {st: self.pathways.licensing.version(st) for st in self.pathways.licensing.states},
                "wages": "OEWS May 2025", "exams": self.pathways.exams.version}

    # --- answers ---
    def normalize_title(self, text: str, language: str | None = None, country: str | None = None,
                        top: int | None = None):
        return self.title_matcher.match(text, top=top, language=language, country=country)

    def normalize_titles(self, texts: Sequence[str], languages=None, countries=None, top: int | None = None):
        return self.title_matcher.match_many(texts, top=top, languages=languages, countries=countries)

    def normalize_credential(self, text: str, country: str | None = None):
        return self.credentials.normalize(text, country or "")

    def plan(self, client, work_authorized: str | None = None, graduation_year: int | None = None):
        """The plan for a ``ClientContext`` whose occupation is known."""
        return self.planner.plan(client, work_authorized=work_authorized, graduation_year=graduation_year)

    def assess_many(self, intakes: Sequence[Mapping]) -> list[Assessment]:
        """Clients given as intake fields (the intake column names) through the whole pipeline,
        exactly as ``matcher score`` scores their rows."""
        from .intake import resolve_columns

        if isinstance(intakes, Mapping):
            raise InputError("assess_many takes a list of intake records, not one record: use assess(record)")
        records = [{k: ("" if v is None else v) for k, v in dict(r).items()} for r in intakes]
        if not records:
            return []
        df = pd.DataFrame(records).astype(object).fillna("")
        for f in ("client_id", "previous_title", "credential"):
            if f not in df.columns:
                df[f] = ""
        if (df["client_id"].astype(str) == "").any():
            df["client_id"] = [c or f"client-{i + 1}" for i, c in enumerate(df["client_id"].astype(str))]
        df = df.astype(str)
        columns = resolve_columns(list(df.columns))
        rows, profiles, plans = self.scorer._score_rows(df, columns)
        return [Assessment(r, p, pr) for r, p, pr in zip(rows, plans, profiles)]

    def assess(self, intake: Mapping) -> Assessment:
        return self.assess_many([intake])[0]

    def _ranker(self):
        if self.opening_ranker is None:
            raise InputError("no openings loaded: start the engine with openings (a file or a frame)")
        return self.opening_ranker

    def rank_openings(self, intake: Mapping, top: int = 5) -> list:
        """Openings for a client, ranked for the client's plan (the same scorer as ``matcher score``)."""
        ranker = self._ranker()
        a = self.assess(intake)
        if a.profile is None:
            raise InputError("cannot rank openings: " + str(a.row.get("messages", "no occupation")))
        return ranker.rank_openings(a.profile, top=top)

    def rank_clients(self, opening_id: str, intakes: Sequence, top: int = 10) -> list:
        """The clients (intake records, or ``Assessment``s already made) ranked for one opening,
        with the same scorer.  Clients without an occupation cannot be ranked and are left out."""
        ranker = self._ranker()
        intakes = list(intakes)
        assessed = (intakes if intakes and all(isinstance(a, Assessment) for a in intakes)
                    else self.assess_many(intakes))
        profiles = [a.profile for a in assessed if a.profile is not None]
        return ranker.rank_clients(opening_id, profiles, top=top)

    def plan_openings(self, assessment: Assessment, top: int | None = None) -> dict:
        """The openings for an assessed client's plan, as ``matcher score`` lists them:
        ``{"now": [OpeningMatch...], "after_licence": [...]}`` (empty lists without a plan)."""
        self._ranker()        # no openings loaded -> InputError
        if assessment.plan is None or assessment.profile is None:
            return {"now": [], "after_licence": []}
        now, later = self.scorer.plan_openings(assessment.profile, assessment.plan,
                                               self.config.top_openings if top is None else top)
        return {"now": now, "after_licence": later}

    def plan_html(self, plan, lang: str | None = "en", stylesheet_href: str | None = None) -> str:
        """The printable one-page plan (a ``ClientPlan`` or its ``to_dict()``) in ``lang``: one of
        ``matcher.i18n.available_languages()``; occupation names from ``occupation_names``."""
        from .render import render_plan

        d = plan.to_dict() if hasattr(plan, "to_dict") else plan
        return render_plan(d, lang, self.occupation_names, stylesheet_href)

    def with_openings(self, openings, openings_mapping: Mapping[str, str] | None = None,
                      openings_sheet: str | None = None) -> "Engine":
        """Another engine with other openings (a file or a frame) that shares this one's loaded
        taxonomy, title matcher and planner: only the openings are read and indexed."""
        other = Engine(settings=self.settings, openings=None, state=self.config.state, area=self.config.area,
                       top_pathways=self.config.top_pathways, top_openings=self.config.top_openings)
        for part in ("taxonomy", "planner", "title_matcher", "occupation_names"):
            if part in self.__dict__:
                other.__dict__[part] = self.__dict__[part]
        other._openings_arg = (openings, openings_mapping, openings_sheet)
        other._openings_source = openings if isinstance(openings, (str, Path)) else None
        other.scorer  # noqa: B018 - read (and raise the errors of) the openings now
        return other

    def score_file(self, intake: str | Path, output: str | Path, mapping: Mapping[str, str] | None = None,
                   top_pathways: int | None = None, top_openings: int | None = None, chunk_size: int = 20_000,
                   n_jobs: int = 1, sheet: str | None = None, progress=None) -> dict:
        """Score an intake file (``matcher score``): same settings, state, area and openings."""
        from dataclasses import replace

        from .batch import score_file

        cfg = replace(self.config, top_pathways=self.config.top_pathways if top_pathways is None else top_pathways,
                      top_openings=self.config.top_openings if top_openings is None else top_openings,
                      chunk_size=chunk_size, n_jobs=n_jobs)
        return score_file(intake, output, openings=self._openings_source, mapping=mapping, config=cfg,
                          progress=progress, settings=self.settings, sheet=sheet, prepared_openings=self.openings,
                          scorer=self.scorer if n_jobs == 1 else None)
