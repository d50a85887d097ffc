import re

import pytest
from hypothesis import given, settings, strategies as st

from matcher.text import expand_abbreviations, fold, normalize_title, stem, strip_noise, tokens, transliterate_cyrillic


def test_fold_accents_case_and_arabic_forms():
    assert fold("  Técnico   en ENFERMERÍA ") == "tecnico en enfermeria"
    assert fold("Infirmière") == "infirmiere"
    assert fold("أحمد") == fold("احمد")          # hamza-on-alef folds to bare alef
    assert fold("ممرضة") == fold("ممرضه")        # teh marbuta folds to heh
    assert fold("ﬁtter") == "fitter"            # NFKC ligature


def test_cyrillic_transliteration_uk_and_ru():
    assert transliterate_cyrillic("медсестра") == "medsestra"
    assert transliterate_cyrillic("лікар") == "likar"
    assert transliterate_cyrillic("инженер") == "inzhener"
    assert transliterate_cyrillic("welder") == "welder"


def test_posting_noise_is_removed():
    assert normalize_title("Travel - PCU - Nurse Job - $2050/wk - $2279/wk") == "progressive care nurse"
    assert normalize_title("Sr. CNC Machinist II - 2nd Shift") == "cnc machinist"
    assert normalize_title("Line Cook - Full Time") == "line cook"
    assert normalize_title("Req #12345 Welder") == "welder"
    assert "louisville" not in normalize_title("Quality Inspector (QC) - Louisville, KY")
    assert normalize_title("Registered Nurse (RN) - Med/Surg - Nights - $10K Sign On").startswith("registered nurse")


def test_abbreviations_expand():
    assert expand_abbreviations("rn") == "registered nurse"
    assert expand_abbreviations("cna pct") == "certified nursing assistant patient care technician"
    assert normalize_title("HVAC Tech") == "heating air conditioning technician"
    assert normalize_title("QA/QC Inspector") == "quality assurance quality control inspector"
    assert normalize_title("CDL Driver") == "commercial driver driver"


def test_garbage_normalizes_to_nothing_useful():
    assert normalize_title("????") == ""
    assert normalize_title(None) == ""
    assert normalize_title(float("nan")) == ""
    assert normalize_title("") == ""


def test_strip_noise_never_empties_a_title_with_words():
    assert strip_noise("night") != ""
    assert strip_noise("lead") == "lead"


def test_stem_folds_gender_and_plural():
    assert stem("nurses") == stem("nurse")
    assert stem("enfermeras") == stem("enfermero") == stem("enfermera")
    assert stem("infirmieres") == stem("infirmier")
    assert stem("cocinera") == stem("cocinero")
    assert tokens("registered nurse registered nurse") == ["registered", "nurse"]


titles = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
latin = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçñü -/$#.,()0123456789", max_size=60)


@settings(max_examples=300, deadline=None)
@given(titles)
def test_fold_is_idempotent(s):
    assert fold(fold(s)) == fold(s)


@settings(max_examples=300, deadline=None)
@given(st.one_of(titles, latin))
def test_normalize_title_is_idempotent(s):
    once = normalize_title(s)
    assert normalize_title(once) == once


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[a-z]{1,12}", fullmatch=True))
def test_stem_is_idempotent(w):
    assert stem(stem(w)) == stem(w)


# --- employer, place and bracketed parts of a title (issue 13) ---------------------------------
from matcher.text import drop_parentheses, strip_employer  # noqa: E402


@pytest.mark.parametrize("raw,title", [
    ("Cashier at Walmart", "Cashier"),
    ("Nurse @ Baptist Health", "Nurse"),
    ("adjunct instructor: interior design, illinois institute of art", "adjunct instructor: interior design"),
    ("animal care specialist, all the best pet care", "animal care specialist"),
    ("Welder, Ford Motor Company, Louisville KY", "Welder"),
    ("Server | The Brown Hotel", "Server"),
    ("Engineer, Software", "Engineer, Software"),           # an inverted title, not an employer
    ("Registered Nurse, ICU", "Registered Nurse, ICU"),
    ("at home caregiver", "at home caregiver"),
])
def test_strip_employer(raw, title):
    assert strip_employer(raw) == title


@pytest.mark.parametrize("raw,title", [
    ("Support Specialist (Server Hardware)", "Support Specialist"),
    ("CNC Machinist- Injection Molding (32666)", "CNC Machinist- Injection Molding"),
    ("RN (ICU)", "RN (ICU)"),                               # one word would be left: kept whole
    ("Cook [Nights]", "Cook [Nights]"),
])
def test_drop_parentheses(raw, title):
    assert drop_parentheses(raw) == title


@given(st.text(max_size=80))
def test_title_parts_are_idempotent_and_never_empty_a_title(s):
    for f in (strip_employer, drop_parentheses):
        once = f(s)
        assert f(once) == once
        if re.search(r"[^\W\d_]", s):
            assert re.search(r"[^\W\d_]", once)
