"""Choosing a client's occupation from what the intake says: the previous job title, the foreign
credential, or the navigator's notes (and an O*NET code given outright).  One rule for the batch
scorer, the command line, the API and the web app."""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["OccupationChoice", "OccupationChooser"]


@dataclass(frozen=True)
class OccupationChoice:
    onet_code: str                 # '' when no occupation could be chosen
    source: str                    # given, title, credential, notes or ''
    title_match: object            # the TitleMatch behind the choice (the notes' guess when from notes)
    messages: tuple[str, ...]      # what the navigator should know (may quote the row's own values)
    explanation: str


class OccupationChooser:
    """``choose(record, title_match, credential_result)``: the title when it matched (the credential
    wins over an uncertain title it contradicts), else the credential's first target, else a
    confident match of the notes' first sentence or a parenthesised phrase.  Guesses from notes are
    cached per instance (bounded: ``matcher._util.CACHE_LIMITS``)."""

    def __init__(self, title_matcher, taxonomy):
        from ._util import BoundedCache

        self.titles = title_matcher
        self.taxonomy = taxonomy
        self._guesses = BoundedCache("guesses")

    def _guess(self, phrase: str):
        g = self._guesses.get(phrase)
        if g is None:
            g = self._guesses[phrase] = self.titles.match(phrase)
        return g

    def choose(self, rec, tm, cr, given: str = "") -> OccupationChoice:
        msgs: list[str] = []
        if given:
            if given in self.taxonomy.titles:
                return OccupationChoice(given, "given", tm, (), f"O*NET code {given} given by the caller")
            msgs.append(f"onet_code {given[:20]!r} is not an O*NET-SOC 2019 code; ignored")
        code, source = "", ""
        if tm.status in ("matched", "review") and rec.previous_title:
            code, source = tm.onet_code, "title"
            if tm.status == "review" and cr.status == "matched" and cr.target_onet_codes and \
                    tm.onet_code not in cr.target_onet_codes:
                code, source = cr.target_onet_codes[0], "credential"
                msgs.append(f"title match was uncertain (confidence {tm.confidence:.2f}, {tm.onet_code}); "
                            f"occupation from the credential instead")
            elif tm.status == "review":
                msgs.append(f"title match needs review (confidence {tm.confidence:.2f})")
        elif cr.target_onet_codes:
            code, source = cr.target_onet_codes[0], "credential"
            if rec.previous_title:
                msgs.append(f"title {rec.previous_title[:60]!r} not matched ({tm.reason}); occupation from the credential")
        elif rec.previous_title and tm.candidates:
            msgs.append(f"title {rec.previous_title[:60]!r}: {tm.reason}")
        if rec.credential and cr.status == "no_match":
            msgs.append(f"credential {rec.credential[:60]!r} not recognized")
        if not code and rec.notes:
            # free-text notes: the first sentence and any parenthesised phrase, each tried as a title;
            # only a confident match counts
            phrases = [re.split(r"[.;\n]", rec.notes, maxsplit=1)[0][:120]] + re.findall(r"\(([^)]{3,60})\)", rec.notes)
            best = None
            for ph in phrases:
                guess = self._guess(ph)
                if guess.status == "matched" and (best is None or guess.confidence > best.confidence):
                    best = guess
            if best is not None:
                code, source, tm = best.onet_code, "notes", best
                msgs.append(f"occupation guessed from the notes: {best.query!r} (confidence {best.confidence:.2f})")
        if not code:
            what = "no title, credential or usable notes" if not (rec.previous_title or rec.credential) else \
                "neither the title nor the credential could be matched"
            msgs.append(f"cannot score: {what}")
            return OccupationChoice("", "", tm, tuple(msgs), tm.explanation if rec.previous_title else "")
        expl = f"occupation from {source}: " + (cr.explanation if source == "credential" else tm.explanation)
        return OccupationChoice(code, source, tm, tuple(msgs), expl)
