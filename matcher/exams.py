"""Exam, certificate and credential-evaluation identifiers (``taxonomies/licensing/exams.csv``).

One table names what a client may already have passed or hold (``USMLE-1``, ``ECFMG-CERT``,
``IELTS``, ``NCLEX-RN``, ``FE``...), with aliases in the languages clients use (``Step 1``,
``Paso 1``) and what an identifier includes (``ECFMG-CERT`` includes ``USMLE-1``, ``USMLE-2CK`` and
``OET``).  Steps name the identifiers that satisfy them (``satisfied_by``).  Matching is by whole
identifier or whole alias, never by substring: ``PE`` is not found in "experience".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .errors import DataError, InputError
from .taxonomy import Taxonomy, load_taxonomy

__all__ = ["ExamIdentifiers", "Exam", "exam_key"]


def exam_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form of an exam name ('USMLE Step-1' -> 'usmle step 1')."""
    t = unicodedata.normalize("NFKD", str(text)).casefold()
    t = "".join(ch for ch in t if not unicodedata.combining(ch))
    t = re.sub(r"([a-z])(\d)", r"\1 \2", t)          # 'step1' -> 'step 1', 'usmle2ck' -> 'usmle 2ck'
    return " ".join(re.findall(r"\w+", t))


@dataclass(frozen=True)
class Exam:
    identifier: str
    name: str
    kind: str
    includes: tuple[str, ...]
    aliases: tuple[str, ...]
    owner: str
    source_url: str
    as_of: str


class ExamIdentifiers:
    """The identifier table: resolve names to identifiers, expand what they include, find them in text."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()

    @cached_property
    def exams(self) -> dict[str, Exam]:
        path = self.taxonomy.root / "licensing" / "exams.csv"
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        out: dict[str, Exam] = {}
        problems = []
        for r in df.itertuples(index=False):
            split = lambda v: tuple(x.strip() for x in v.split("|") if x.strip())  # noqa: E731
            if r.identifier in out:
                problems.append(f"{r.identifier}: listed twice")
            if not r.source_url.startswith("http") or not r.as_of:
                problems.append(f"{r.identifier}: needs a source_url and an as_of date")
            out[r.identifier] = Exam(r.identifier, r.name, r.kind, split(r.includes), split(r.aliases), r.owner,
                                     r.source_url, r.as_of)
        for e in out.values():
            bad = [i for i in e.includes if i not in out]
            if bad:
                problems.append(f"{e.identifier}: includes unknown identifiers {bad}")
        seen: dict[str, str] = {}
        for e in out.values():
            for a in (e.identifier, *e.aliases):
                k = exam_key(a)
                if k in seen and seen[k] != e.identifier:
                    problems.append(f"alias {a!r} names both {seen[k]} and {e.identifier}")
                seen[k] = e.identifier
        if problems:
            raise DataError("invalid licensing/exams.csv:\n  - " + "\n  - ".join(problems))
        return out

    @cached_property
    def version(self) -> str:
        """Digest of the identifier table."""
        return self.taxonomy.curated_version("licensing")

    @cached_property
    def identifiers(self) -> frozenset[str]:
        return frozenset(self.exams)

    @cached_property
    def _by_key(self) -> dict[str, str]:
        out = {}
        for e in self.exams.values():
            for a in (e.identifier, *e.aliases):
                out[exam_key(a)] = e.identifier
        return out

    @cached_property
    def _max_alias_words(self) -> int:
        return max(len(k.split()) for k in self._by_key)

    def resolve(self, text: str) -> str | None:
        """The identifier a name stands for ('Paso 1' -> 'USMLE-1'), or None."""
        return self._by_key.get(exam_key(text))

    def parse(self, values) -> tuple[str, ...]:
        """Identifiers for user-given names, in order, without repeats; an unknown name is an
        InputError that lists the known identifiers."""
        out, unknown = [], []
        for v in values or ():
            for part in str(v).split("|") if "|" in str(v) else [v]:
                if not str(part).strip():
                    continue
                i = self.resolve(part)
                if i is None:
                    unknown.append(str(part).strip())
                elif i not in out:
                    out.append(i)
        if unknown:
            raise InputError(f"unknown exam or credential {', '.join(map(repr, unknown))}; known identifiers: "
                             + ", ".join(sorted(self.identifiers)))
        return tuple(out)

    def closure(self, identifiers) -> frozenset[str]:
        """The identifiers and everything they include, transitively (ECFMG-CERT -> USMLE-1, ...)."""
        out: set[str] = set()
        todo = list(identifiers)
        while todo:
            i = todo.pop()
            if i in out or i not in self.exams:
                continue
            out.add(i)
            todo.extend(self.exams[i].includes)
        return frozenset(out)

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(identifier, start word, end word) of every alias found in ``text`` as whole words,
        longest alias first, without overlaps; positions index the words of ``exam_key(text)``."""
        return self.find_words(exam_key(text).split())

    def find_words(self, words: list[str]) -> list[tuple[str, int, int]]:
        """Like ``find`` over words already in ``exam_key`` form."""
        found, i = [], 0
        while i < len(words):
            for n in range(min(self._max_alias_words, len(words) - i), 0, -1):
                ident = self._by_key.get(" ".join(words[i:i + n]))
                if ident is not None:
                    found.append((ident, i, i + n))
                    i += n
                    break
            else:
                i += 1
        return found
