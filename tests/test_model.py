import pytest

from defdip.core.codebook import codebook
from defdip.core.errors import RecordError
from defdip.core.model import make_engagement


def record(**over):
    base = dict(id="delian-league", title="Delian League", activity="agreements", instrument="alliance_treaty",
                start_year=-478, end_year=-404, participants=[dict(id="athens", role="leader")],
                provenance=[dict(source="genealogy", version="1.0", record_id="delian-league",
                                 citations=["larsen_1940"])])
    base.update(over)
    return base


def test_valid_record_round_trips():
    eng = make_engagement(record(sub_activities=["interoperability", "interoperability"]), "g.yaml", "delian-league")
    assert eng.start_year == -478 and eng.sub_activities == ["interoperability"]
    rec = eng.as_record()
    assert rec["sources"] == ["larsen_1940"]
    assert rec["participants"][0] == {"id": "athens", "name": "", "role": "leader"}


@pytest.mark.parametrize("over,field", [
    (dict(activity="alliances"), "activity"),
    (dict(sub_activities=["parades"]), "sub_activities"),
    (dict(instrument="handshake"), "instrument"),
    (dict(start_year=0), "start_year"),
    (dict(end_year=-500), "end_year"),
    (dict(start_month=2, start_day=30, start_year=1990, end_year=None), "start_year"),
    (dict(participants=[]), "participants"),
    (dict(participants=[dict(id="athens", role="king")]), "participants.0.role"),
    (dict(provenance=[dict(source="genealogy", version="1", record_id="x", citations=[])]), "provenance.0.citations"),
])
def test_bad_records_name_file_record_and_field(over, field):
    with pytest.raises(RecordError) as info:
        make_engagement(record(**over), "genealogy/agreements.yaml", "delian-league")
    err = info.value
    assert err.file == "genealogy/agreements.yaml" and err.record == "delian-league" and err.field == field
    assert "genealogy/agreements.yaml, record delian-league, field" in str(err)


def test_codebook_has_table1_ids_and_ten_cottey_forster_activities():
    cb = codebook()
    assert cb.activity_ids == ["contacts", "attaches", "exercises", "agreements"]
    assert cb.sub_activity_ids == ["interoperability", "education_training", "peacekeeping", "hadr", "military_events"]
    assert len(cb.cottey_forster) == 10
    assert {e["activity"] for e in cb.cottey_forster} <= set(cb.activity_ids)
    for inst in cb.instruments:
        assert inst["activity"] in cb.activity_ids
    for entry in cb.activities + cb.sub_activities:
        assert entry["definition"] and entry["examples"] and entry["citations"]


def test_codebook_citations_resolve():
    from defdip.core.citations import bibliography

    bib = bibliography()
    cb = codebook()
    for entry in cb.activities + cb.sub_activities + cb.cottey_forster:
        for key in entry["citations"]:
            assert key in bib, f"{entry['id']} cites unknown key {key}"
