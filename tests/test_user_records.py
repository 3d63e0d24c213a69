"""A researcher's own records go through the same validation as the genealogy, and nothing half-written lands."""

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from defdip.core.errors import DefdipError, RecordError
from defdip.ingest import build as store_mod
from defdip.ingest.genealogy import load_user_records

RECORDS = Path(__file__).resolve().parent / "fixtures" / "user_records"


def test_user_records_enter_the_store_with_their_citations(tmp_path):
    empty = tmp_path / "none"
    empty.mkdir()
    path = tmp_path / "s.duckdb"
    report = store_mod.build(path, empty, records=[RECORDS])
    assert {"source": "user", "engagements": 2} in [{"source": r.source, "engagements": r.engagements}
                                                   for r in report.sources]
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT e.id, p.version, p.citations FROM engagements e JOIN provenance p "
                           "ON p.engagement_id = e.id WHERE p.source = 'user' ORDER BY 1").fetchall()
        bib = con.execute("SELECT bibtex FROM sources WHERE id = 'user'").fetchone()[0]
    finally:
        con.close()
    assert rows == [("user-attache-course-2019", "local", ["forster_2004"]),
                    ("user-pakistan-turkey-1954-agreement", "local", ["user_turkey_pakistan_1954"])]
    assert "user_turkey_pakistan_1954" in bib


@pytest.mark.parametrize("old,new,field", [
    ("activity: agreements", "activity: alliances", "activity"),
    ("start_year: 1954", "start_year: 0", "start_year"),
    ("{id: TUR, role: signatory}", "{id: Turkiye-typo, role: signatory}", "participants.1.id"),
    ("sources: [user_turkey_pakistan_1954]", "sources: [nobody_1999]", "sources"),
    ("start_year: 2019", "start_year: 2019\n  end_year: 2010", "end_year"),
    ("start_year: 2019", "start_year: 99999", "start_year"),
    ("{id: PAK, role: signatory}", "{id: PAK, role: signatory, end_year: 99999}", "participants.0.end_year"),
    ("start_year: 1954", "start_year: 1940", "participants.0.id"),  # Pakistan did not exist yet
])
def test_bad_user_record_is_rejected_and_previous_store_kept(tmp_path, genealogy_store, old, new, field):
    folder = tmp_path / "mine"
    shutil.copytree(RECORDS, folder)
    text = (folder / "records.yaml").read_text()
    assert old in text
    (folder / "records.yaml").write_text(text.replace(old, new, 1))
    target = tmp_path / "store.duckdb"
    shutil.copy(genealogy_store, target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(RecordError) as info:
        store_mod.build(target, tmp_path / "nothing", records=[folder])
    assert info.value.file == "records.yaml" and info.value.field == field
    assert info.value.record in ("user-pakistan-turkey-1954-agreement", "user-attache-course-2019")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def _mine(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    shutil.copytree(RECORDS, folder)
    return folder


def test_an_id_taken_by_the_genealogy_names_both_files(tmp_path):
    folder = _mine(tmp_path)
    text = (folder / "records.yaml").read_text()
    (folder / "records.yaml").write_text(text.replace("id: user-attache-course-2019", "id: north-atlantic-treaty"))
    with pytest.raises(RecordError) as info:
        load_user_records(folder)
    err = info.value
    assert (err.file, err.record, err.field) == ("records.yaml", "north-atlantic-treaty", "id")
    assert "defdip/data/genealogy/agreements.yaml" in str(err) and "\n" not in str(err)


@pytest.mark.parametrize("name", ["records.yaml", "records.bib"])
def test_bytes_that_are_not_utf8_name_the_file(tmp_path, genealogy_store, name):
    folder = _mine(tmp_path)
    path = folder / name
    path.write_bytes(path.read_text(encoding="utf-8").replace("Pakistan", "Pakist\u00e1n").encode("cp1252"))
    target = tmp_path / "store.duckdb"
    shutil.copy(genealogy_store, target)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(RecordError) as info:
        store_mod.build(target, tmp_path / "nothing", records=[folder])
    assert info.value.file == name and str(info.value).startswith(f"{name}: not UTF-8 text (byte ")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before


def test_an_empty_records_file_or_folder_is_one_clear_error(tmp_path):
    folder = _mine(tmp_path)
    (folder / "records.yaml").write_text("# to be written\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"^records.yaml: holds no records"):
        load_user_records(folder)
    (folder / "records.yaml").write_text("[]\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"^records.yaml: holds no records"):
        load_user_records(folder / "records.yaml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DefdipError) as info:
        load_user_records(empty)
    assert str(info.value) == f"{empty}: no *.yaml records files in this folder"


def test_broken_bibtex_names_its_file_and_line(tmp_path):
    folder = _mine(tmp_path)
    (folder / "more.bib").write_text("@misc{only_one,\n  title = {never closed}\n", encoding="utf-8")
    with pytest.raises(DefdipError, match=r"^more.bib, line 1: @misc entry is never closed$"):
        load_user_records(folder)
