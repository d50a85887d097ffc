"""The compiled taxonomy under taxonomies/: occupations, aliases (O*NET, ESCO, glossaries),
crosswalks, related occupations, activity codes.  Loaded lazily, cached once per process and path."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from ._paths import taxonomy_dir
from .errors import DataError

DEFAULT_TAXONOMY_DIR = taxonomy_dir()
GLOSSARY_COLUMNS = ["term", "lang", "onet_code", "onet_title", "variant", "source_url", "as_of", "confirmed", "note"]


def _read(path: Path, **kw) -> "pd.DataFrame":
    import pandas as pd

    if not path.exists():
        raise DataError(f"taxonomy table {path} is missing; rebuild it with "
                        f"`python scripts/build_taxonomy.py --source ../shared/data`")
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


@dataclass(eq=False)
class Taxonomy:
    """Read-only view of taxonomies/.  Tables are read on first use."""

    root: Path = field(default=DEFAULT_TAXONOMY_DIR)

    @cached_property
    def manifest(self) -> dict:
        p = self.root / "manifest.json"
        if not p.exists():
            raise DataError(f"{p} is missing: the taxonomy was not built")
        return json.loads(p.read_text(encoding="utf-8"))

    @cached_property
    def version(self) -> str:
        """Taxonomy release plus a short digest of the compiled tables and the glossaries: the
        data a title model is built from (a model must be retrained when this changes)."""
        h = hashlib.sha256()
        for rel, info in sorted(self.manifest["tables"].items()):
            h.update(f"{rel}:{info['sha256']}".encode())
        h.update(self.curated_version("glossaries").encode())
        return f"{self.manifest['taxonomy_version']}#{h.hexdigest()[:12]}"

    def curated_version(self, sub: str) -> str:
        """Short digest of a curated folder (glossaries, credentials, licensing/KY)."""
        h = hashlib.sha256()
        for p in sorted((self.root / sub).glob("*.csv")):
            h.update(p.name.encode())
            h.update(p.read_bytes())
        return f"{sub}#{h.hexdigest()[:12]}"

    # --- occupations ---
    @cached_property
    def occupations(self) -> pd.DataFrame:
        df = _read(self.root / "onet-27" / "occupations.csv")
        import pandas as pd

        df["national_employment"] = pd.to_numeric(df["national_employment"], errors="coerce").fillna(0)
        return df.set_index("onet_code", drop=False)

    @cached_property
    def titles(self) -> dict[str, str]:
        return dict(zip(self.occupations["onet_code"], self.occupations["title"]))

    def title(self, code: str) -> str:
        return self.titles.get(code, "")

    @cached_property
    def soc_codes(self) -> dict[str, str]:
        return dict(zip(self.occupations["onet_code"], self.occupations["soc_code"]))

    @cached_property
    def job_zones(self) -> dict[str, int]:
        """Job Zone per code (3, the middle, where O*NET gives none)."""
        return {c: int(z) if str(z).isdigit() else 3
                for c, z in zip(self.occupations["onet_code"], self.occupations["job_zone"])}

    def soc_code(self, code: str) -> str:
        return self.soc_codes.get(code, "")

    def soc_title(self, code: str) -> str:
        """SOC 2018 title of an O*NET code's detailed occupation."""
        return self.occupations["soc_title"].get(code, "")

    # --- aliases ---
    @cached_property
    def onet_aliases(self) -> pd.DataFrame:
        df = _read(self.root / "onet-27" / "aliases.csv.gz")
        df["route"] = "onet"
        df["route_weight"] = 1.0
        return df

    @cached_property
    def esco_aliases(self) -> pd.DataFrame:
        df = _read(self.root / "esco" / "aliases.csv.gz")
        df["route_weight"] = df["route_weight"].astype(float)
        return df

    @cached_property
    def glossaries(self) -> pd.DataFrame:
        """The project's curated glossaries (taxonomies/glossaries/<lang>.csv); rows whose code is
        not in the taxonomy are dropped (tests check there are none)."""
        frames = []
        for p in sorted((self.root / "glossaries").glob("*.csv")):
            d = _read(p)
            missing = [c for c in GLOSSARY_COLUMNS if c not in d.columns]
            if missing:
                raise DataError(f"glossary {p} lacks columns {missing}")
            d["file"] = p.name
            frames.append(d)
        import pandas as pd

        if not frames:
            return pd.DataFrame(columns=GLOSSARY_COLUMNS + ["file"])
        df = pd.concat(frames, ignore_index=True)
        return df[df["onet_code"].isin(self.titles)].reset_index(drop=True)

    def all_aliases(self, include_esco: bool = True, include_glossaries: bool = True) -> pd.DataFrame:
        """One table: alias, onet_code, source, lang, route, route_weight."""
        import pandas as pd

        cols = ["alias", "onet_code", "source", "lang", "route", "route_weight"]
        parts = [self.onet_aliases[cols]]
        if include_esco:
            parts.append(self.esco_aliases[cols])
        if include_glossaries and len(self.glossaries):
            g = self.glossaries
            parts.append(pd.DataFrame({"alias": g["term"], "onet_code": g["onet_code"],
                                       "source": "glossary:" + g["variant"], "lang": g["lang"],
                                       "route": "glossary", "route_weight": 1.0}))
        df = pd.concat(parts, ignore_index=True)
        return df[df["alias"].str.strip() != ""].reset_index(drop=True)

    # --- relations ---
    @cached_property
    def related(self) -> pd.DataFrame:
        return _read(self.root / "onet-27" / "related.csv")

    @cached_property
    def isco(self) -> pd.DataFrame:
        return _read(self.root / "onet-27" / "isco08_onet.csv")

    @cached_property
    def isco_map(self) -> dict[str, str]:
        """O*NET-SOC code -> its ISCO-08 unit groups through the BLS crosswalk, '|'-joined and
        sorted ('' when the crosswalk has none)."""
        df = self.isco
        out: dict[str, set[str]] = {}
        for code, isco in zip(df["onet_code"], df["isco08"].astype(str).str.zfill(4)):
            out.setdefault(code, set()).add(isco)
        return {c: "|".join(sorted(v)) for c, v in out.items()}

    def isco_codes(self, onet_code: str) -> str:
        return self.isco_map.get(onet_code, "")

    @cached_property
    def dwa(self) -> pd.DataFrame:
        return _read(self.root / "onet-27" / "dwa.csv.gz")

    @cached_property
    def technology(self) -> pd.DataFrame:
        return _read(self.root / "onet-27" / "technology.csv.gz")

    @cached_property
    def education(self) -> pd.DataFrame:
        return _read(self.root / "onet-27" / "education.csv").set_index("onet_code", drop=False)


@lru_cache(maxsize=4)
def load_taxonomy(root: str | Path | None = None) -> Taxonomy:
    """The taxonomy at ``root`` (default: the repository's taxonomies/), cached per process."""
    path = Path(root) if root else DEFAULT_TAXONOMY_DIR
    if not (path / "manifest.json").exists():
        raise DataError(f"no compiled taxonomy at {path} (manifest.json missing)")
    return Taxonomy(path.resolve())
