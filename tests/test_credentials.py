import pytest

from matcher.credentials import DISCLAIMER, CredentialNormalizer, credentials_to_frame, normalize_country


@pytest.fixture(scope="module")
def cn(taxonomy):
    return CredentialNormalizer(taxonomy=taxonomy)


@pytest.mark.parametrize("text,country,isced,target,service", [
    ("Licenciatura en Enfermería", "MX", 6, "29-1141.00", "cgfns"),
    ("Título de Médico Cirujano", "CU", 7, "29-1215.00", "ecfmg"),
    ("Doctor en Medicina", "VE", 7, "29-1215.00", "ecfmg"),
    ("MBBS", "IN", 7, "29-1215.00", "ecfmg"),
    ("BDS", "IN", 7, "29-1021.00", None),
    ("B.Pharm", "IN", 6, "29-1051.00", "nabp_fpgec"),
    ("Diplôme d'État d'infirmier", "CD", 6, "29-1141.00", "cgfns"),
    ("Специалист, лечебное дело", "RU", 7, "29-1215.00", "ecfmg"),
    ("Técnico en Enfermería", "GT", None, "29-2061.00", "cgfns"),
    ("Diplom-Ingenieur", "SY", 7, None, "ncees_credentials"),
    ("HND Mechanical Engineering", "NG", 5, None, None),
])
def test_known_credentials(cn, text, country, isced, target, service):
    r = cn.normalize(text, country)
    assert r.status == "matched", r.explanation
    if isced is not None:
        assert r.isced_level == isced
    if target:
        assert target in r.target_onet_codes[:3], r.target_onet_codes
    if service:
        assert service in r.evaluation_services
    assert r.us_equivalent and r.disclaimer == DISCLAIMER and DISCLAIMER in r.explanation
    assert r.sources and all(s.startswith("http") for s in r.sources)


def test_level_decides_technical_or_professional_targets(cn):
    tech = cn.normalize("Técnico en Enfermería", "GT")
    lic = cn.normalize("Licenciada en Enfermería", "GT")
    assert tech.isced_level < 6 <= lic.isced_level
    assert tech.target_onet_codes[0] != "29-1141.00" and lic.target_onet_codes[0] == "29-1141.00"


def test_type_without_field_is_partial(cn):
    r = cn.normalize("Бакалавр", "UA")
    assert r.status == "partial" and r.credential_type == "bachelor" and r.isced_level == 6
    assert "naces" in r.evaluation_services


@pytest.mark.parametrize("bad", ["", None, "12345", "???"])
def test_garbage_is_no_match(cn, bad):
    r = cn.normalize(bad, "MX")
    assert r.status == "no_match" and r.target_onet_codes == ()


def test_country_names_and_codes():
    assert normalize_country("Cuba") == "CU"
    assert normalize_country("méxico") == "MX"
    assert normalize_country("DR Congo") == "CD"
    assert normalize_country("ua") == "UA"
    assert normalize_country(None) == "" and normalize_country("Atlantis") == ""


def test_frame_columns(cn):
    df = credentials_to_frame(cn.normalize_many(["MBBS", ""], ["IN", ""]))
    assert list(df.columns) == ["credential_type", "isced_level", "us_equivalent", "field", "target_onet_codes",
                                "evaluation_services", "status", "explanation", "data_version"]
    assert df.loc[1, "status"] == "no_match"


def test_credential_data_is_sourced(taxonomy):
    import pandas as pd
    root = taxonomy.root / "credentials"
    for name in ("credentials.csv", "fields.csv", "services.csv"):
        df = pd.read_csv(root / name, dtype=str, keep_default_na=False)
        assert df["source_url"].str.startswith("http").all(), name
        assert df["as_of"].str.match(r"^\d{4}-\d{2}-\d{2}$").all(), name
    cred = pd.read_csv(root / "credentials.csv", dtype=str, keep_default_na=False)
    countries = set("|".join(cred["countries"]).split("|"))
    for c in "CU MX GT VE CO HT CD BI SY IQ SD AF UA RU IN PH NG GH KE SO NP VN BR".split():
        assert c in countries, c
    fields = pd.read_csv(root / "fields.csv", dtype=str, keep_default_na=False)
    for col in ("target_onet_higher", "target_onet_technical"):
        for codes in fields[col]:
            assert all(c in taxonomy.titles for c in codes.split("|") if c)


def test_credentials_cli_file_and_text(tmp_path, capsys):
    import pandas as pd

    from matcher.cli import main
    from matcher.io import read_table, write_table

    src = write_table(pd.DataFrame({"id": ["1", "2", "3"], "cred": ["MBBS", "", "Licenciatura en Enfermería"],
                                    "pais": ["India", "", "MX"]}), tmp_path / "c.xlsx")
    out = tmp_path / "o.jsonl"
    assert main(["credentials", str(src), "-c", "cred", "--country-column", "pais", "-o", str(out),
                 "--no-progress"]) == 0
    df = read_table(out)
    assert list(df["id"]) == ["1", "2", "3"]
    assert df.loc[0, "target_onet_codes"].startswith("29-12") and df.loc[1, "status"] == "no_match"
    assert df.loc[2, "isced_level"] == "6" and "Preliminary orientation" in df.loc[2, "explanation"]
    assert main(["credentials", "--text", "B.Pharm", "--country", "IN"]) == 0
    assert "29-1051.00" in capsys.readouterr().out


@pytest.mark.parametrize("text,country,cred_id,isced,first_target", [
    # issue 13: the Arabic MBBCh is a first professional medical degree, not a plain bachelor's
    ("بكالوريوس الطب والجراحة", "SY", "en-mbchb", 7, "29-1215.00"),
    ("Título de Doctor en Medicina", "CU", "es-doctor-medicina", 7, "29-1215.00"),
    # a Mexican técnico in welding reaches welders (technical level), not engineering technicians
    ("Técnico en Soldadura", "MX", "mx-bachillerato-tecnologico", 3, "51-4121.00"),
    # the Philippine Doctor of Medicine (graduate-entry, like the US MD)
    ("Doctor of Medicine", "PH", "ph-md", 7, "29-1215.00"),
])
def test_credentials_seen_wrong_on_the_external_set(cn, text, country, cred_id, isced, first_target):
    r = cn.normalize(text, country)
    assert (r.status, r.credential_id, r.isced_level) == ("matched", cred_id, isced)
    assert r.target_onet_codes[0] == first_target
