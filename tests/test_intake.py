import pytest

from matcher.errors import InputError, MissingColumnsError
from matcher.intake import NotesExtractor, parse_row, resolve_columns


def test_columns_resolve_by_synonym_and_map():
    cols = resolve_columns(["Client ID", "Job Title", "Degree", "Notes"])
    assert cols["client_id"] == "Client ID" and cols["previous_title"] == "Job Title" and cols["credential"] == "Degree"
    cols = resolve_columns(["cid", "ocupacion", "titulo"], {"cid": "client_id", "ocupacion": "previous_title",
                                                            "titulo": "credential"})
    assert cols["previous_title"] == "ocupacion"


def test_all_missing_required_columns_are_reported_at_once():
    with pytest.raises(MissingColumnsError) as e:
        resolve_columns(["foo", "bar"])
    assert e.value.missing == ["client_id", "previous_title", "credential"]
    with pytest.raises(InputError):
        resolve_columns(["a"], {"a": "not_a_field"})


def test_invalid_values_become_messages_not_errors():
    cols = resolve_columns(["client_id", "previous_title", "credential", "english_level", "years_experience",
                            "budget_usd", "zip", "needs_income_now"])
    rec = parse_row({"client_id": "C1", "previous_title": "Welder", "credential": "", "english_level": "fluent-ish",
                     "years_experience": "ten", "budget_usd": "-500", "zip": "4021", "needs_income_now": "maybe"}, cols)
    assert rec.english_level is None and rec.years_experience == 10 and rec.budget_usd == 0 and rec.zip == ""
    assert rec.needs_income_now is False
    text = " ".join(rec.messages)
    for word in ("fluent-ish", "ten", "-500", "4021", "maybe"):
        assert word in text


@pytest.fixture(scope="module")
def notes():
    return NotesExtractor()


@pytest.mark.parametrize("text,passed", [
    ("USMLE Step 1 passed, studying for Step 2 CK.", ("USMLE Step 1",)),
    ("H-4 EAD. USMLE Step 1 and Step 2 CK passed, applying to residency.", ("USMLE Step 1", "USMLE Step 2 CK")),
    ("Passed NCLEX-RN in 2024 but license lapsed", ("NCLEX",)),
    ("Step 1 scheduled January.", ()),
    ("Preparing for NCLEX", ()),
])
def test_passed_exams(notes, text, passed):
    assert set(notes.extract(text).passed) == set(passed)


def test_english_years_titles_credentials_from_notes(notes):
    f = notes.extract("IELTS 6.5. Worked 12 years as ICU nurse in Manila.")
    assert f.english_level == "B2" and f.years_experience == 12 and f.titles == ("ICU nurse",)
    f = notes.extract("worked as pharmacist for 10 years in Aleppo, B.Pharm")
    assert f.titles == ("pharmacist",) and f.credentials == ("B.Pharm",)
    assert notes.extract("English about B1.").english_level == "B1"
    assert notes.extract("").passed == ()


def test_notes_fill_empty_columns_only(notes):
    cols = resolve_columns(["client_id", "previous_title", "credential", "notes"])
    f = notes.extract("worked as pharmacist for 10 years in Aleppo, B.Pharm")
    rec = parse_row({"client_id": "C", "previous_title": "", "credential": "", "notes": "x"}, cols, f)
    assert rec.previous_title == "pharmacist" and rec.credential == "B.Pharm" and rec.sources["previous_title"] == "notes"
    rec = parse_row({"client_id": "C", "previous_title": "Chemist", "credential": "", "notes": "x"}, cols, f)
    assert rec.previous_title == "Chemist"
