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


@pytest.mark.parametrize("text,passed,planned,failed", [
    ("USMLE Step 1 passed, studying for Step 2 CK.", ("USMLE-1",), ("USMLE-2CK",), ()),
    ("H-4 EAD. USMLE Step 1 and Step 2 CK passed, applying to residency.", ("USMLE-1", "USMLE-2CK"), (), ()),
    ("Passed NCLEX-RN in 2024 but license lapsed", ("NCLEX-RN",), (), ()),
    ("Step 1 scheduled January.", (), ("USMLE-1",), ()),
    ("Preparing for NCLEX", (), ("NCLEX-RN",), ()),
    # the sample intake's notes that the first extractor read as passed (issue 8)
    ("Pharmacist Baghdad 7 years. Interested in FPGEC / FPGEE.", (), ("FPGEC-CERT", "FPGEE"), ()),
    ("COREN-SP registered. CGFNS CES in progress.", (), ("CGFNS-CES",), ()),
    ("Roads and bridges projects. Wants FE exam and PE pathway.", (), ("FE", "PE"), ()),
    ("Truck driver 9 years. Wants CDL-A. Has KY driver's license.", (), ("CDL-A",), ()),
    ("Passed Step 1 in 2023, ECFMG pending. English about B1.", ("USMLE-1",), ("ECFMG-CERT",), ()),
    ("Did not pass NCLEX-RN in March; retaking in June.", (), (), ("NCLEX-RN",)),
    ("Failed Step 1 once.", (), (), ("USMLE-1",)),
    ("IELTS 7.0 overall.", ("IELTS",), (), ()),
    ("Aprobó el Paso 1 del USMLE.", ("USMLE-1",), (), ()),
    ("Ten years of work experience as an engineer.", (), (), ()),   # 'experience' holds 'pe' but is no PE
])
def test_exam_status_from_notes(notes, text, passed, planned, failed):
    f = notes.extract(text)
    assert (set(f.passed), set(f.planned), set(f.failed)) == (set(passed), set(planned), set(failed))


def test_sample_intake_passed_exams_are_true_ones(notes):
    """In the sample intake only notes that say an exam was passed (or give a test score) count."""
    import pandas as pd
    from pathlib import Path

    d = pd.read_csv(Path(__file__).parents[1] / "examples" / "intake_sample.csv", dtype=str, keep_default_na=False)
    passed = sorted(i for n in d["notes"] for i in notes.extract(n).passed)
    assert passed == ["IELTS", "IELTS", "NCLEX-RN", "USMLE-1", "USMLE-1", "USMLE-1", "USMLE-2CK"]


def test_exams_passed_column_and_notes_merge(notes):
    from matcher.exams import ExamIdentifiers

    cols = resolve_columns(["client_id", "previous_title", "credential", "notes", "exams_passed"])
    f = notes.extract("Passed NCLEX-RN in 2024. Wants CGFNS evaluation.")
    rec = parse_row({"client_id": "C", "previous_title": "nurse", "credential": "", "notes": "x",
                     "exams_passed": "IELTS; Banana exam"}, cols, f, exams=ExamIdentifiers())
    assert rec.passed == ("IELTS", "NCLEX-RN") and rec.planned == ("CGFNS-CES",)
    assert any("not known as exam identifiers" in m for m in rec.messages)
    assert "Banana" not in " ".join(rec.messages)   # client text is not echoed


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
