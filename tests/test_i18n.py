"""Languages of the printable plan: the locale files and occupation names in the client's language."""
from __future__ import annotations

import json
import string

import pytest

from matcher import i18n
from matcher.errors import DataError, InputError
from matcher.i18n import OccupationNames, available_languages, load_locale
from matcher.render import PHRASES_EN, render_plan

ISSUE_LANGUAGES = {"es": "ltr", "fr": "ltr", "ar": "rtl", "uk": "ltr"}


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.fixture(scope="module")
def names(taxonomy):
    return OccupationNames(taxonomy).fit()


@pytest.mark.parametrize("code,direction", sorted(ISSUE_LANGUAGES.items()))
def test_each_language_translates_every_phrase(code, direction):
    loc = load_locale(code)
    assert loc.direction == direction and loc.code == code
    raw = json.loads((i18n.LOCALES_DIR / f"{code}.json").read_text(encoding="utf-8"))["phrases"]
    assert set(raw) == set(PHRASES_EN)                       # nothing falls back to English
    for k, v in raw.items():
        assert v.strip() and _fields(v) == _fields(PHRASES_EN[k]), k
        v.format(**{f: "1" for f in _fields(v)})             # every phrase formats
    assert loc.phrases["orientation_notice"] != PHRASES_EN["orientation_notice"]


def test_available_languages():
    assert set(available_languages()) >= {"en", *ISSUE_LANGUAGES}
    assert available_languages()["ar"] == "العربية"


def test_unknown_language_and_bad_files(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no translation"):
        load_locale("xx")
    with pytest.raises(InputError):
        load_locale("../etc/passwd")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    (tmp_path / "zz.json").write_text(json.dumps({"name": "Z", "direction": "ltr",
                                                  "phrases": {"n_months": "{count} mois"}}), encoding="utf-8")
    with pytest.raises(DataError, match="n_months.*placeholders"):
        load_locale("zz")
    (tmp_path / "zz.json").write_text(json.dumps({"direction": "ltr", "phrases": {"nope": "x"}}), encoding="utf-8")
    with pytest.raises(DataError, match="unknown phrase key"):
        load_locale("zz")
    (tmp_path / "zz.json").write_text(json.dumps({"direction": "up", "phrases": {}}), encoding="utf-8")
    with pytest.raises(DataError, match="direction"):
        load_locale("zz")
    # a file missing phrases falls back to English for them
    (tmp_path / "zz.json").write_text(json.dumps({"direction": "ltr", "phrases": {"title": "Z plan"}}),
                                      encoding="utf-8")
    loc = load_locale("zz")
    assert loc.phrases["title"] == "Z plan" and loc.phrases["money"] == PHRASES_EN["money"]


def test_occupation_names(names):
    assert "enfermer" in names.name("29-1141.00", "es")
    assert "infirmi" in names.name("29-1141.00", "fr")
    assert "ممرض" in names.name("29-1141.00", "ar")
    assert names.name("29-1141.00", "uk") == "сестра медична"        # the project's glossary (ESCO lacks uk)
    assert names.name("51-4121.00", "uk") == "зварник"
    assert names.name("29-1141.00", "en") is None
    assert names.name("99-9999.99", "es") is None
    # the crosswalk's primary ESCO occupation, not a specialised one it also maps to
    assert "avanzada" not in names.name("29-1141.00", "es")


def test_unfitted_names_raise():
    with pytest.raises(InputError, match="not fitted"):
        OccupationNames().name("29-1141.00", "es")


def test_translated_page_keeps_english_titles_beside(names):
    plan = {"client": {"onet_code": "29-1141.00", "title": "Registered Nurses", "state": "KY"},
            "route": {"kind": "relicensure", "target_onet": "29-1141.00", "target_title": "Registered Nurses"},
            "bridge": {"kind": "bridge", "target_onet": "31-1121.00", "target_title": "Home Health Aides"}}
    html = render_plan(plan, "es", names)
    assert f"{names.name('29-1141.00', 'es')} (Registered Nurses)" in html
    # no Spanish name for home health aides in ESCO or the glossary: the English title alone
    assert names.name("31-1121.00", "es") is None and "<bdi>Home Health Aides</bdi>" in html
    assert render_plan(plan, "en", names).count("(Registered Nurses)") == 0
