"""A small synthetic store built through the real build path: a researcher's own records (the genealogy's YAML
format, ``defdip build --records``) beside the bundled genealogy, with no dataset at all.

The records are made up but shaped like the datasets' (an alliance a member left, exercises, a DCA, a visit, a
peacekeeping deployment, a dialogue forum whose members joined and left at different times), so the API, the
pages and the read layer can be tested on known answers without the real data. ``PARTNERS_2000S`` holds the
partner counts of the window 2000-2009 worked out by hand from the records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from conftest import write_store

from defdip.ingest.build import build
from defdip.ingest.genealogy import load_user_records

BIB = """@misc{synthetic_ledger_2024,
  author = {Nobody, A.},
  title = {A Ledger of Made-up Defence Engagements for Tests},
  year = {2024},
  note = {Synthetic records: no event here happened as written}
}
"""
CITE = ["synthetic_ledger_2024"]


def _record(rid: str, title: str, activity: str, instrument: str, start: int, parts: list[dict[str, Any]],
            **fields: Any) -> dict[str, Any]:
    return {"id": rid, "title": title, "activity": activity, "instrument": instrument, "start_year": start,
            "participants": parts, "sources": fields.pop("sources", CITE), **fields}


def _p(pid: str, role: str, **years: int) -> dict[str, Any]:
    return {"id": pid, "role": role, **years}


def records() -> list[dict[str, Any]]:
    """The synthetic records (user source), in the genealogy's YAML format."""
    members = [_p("USA", "member"), _p("UKG", "member"), _p("CAN", "member"), _p("FRN", "member", end_year=1966)]
    forum = [_p("UKG", "organiser"), _p("RUS", "participant", end_year=1999),
             _p("CHN", "participant", start_year=2003), _p("JPN", "participant", end_year=2001),
             _p("ROK", "participant", start_year=2005)]
    out = [
        _record("syn-north-pact-1949", "North Pact (synthetic)", "agreements", "alliance_treaty", 1949, members,
                ongoing=True, attributes={"defense": 1, "organ1": 1}),
        _record("syn-usa-ukg-exercise-1985", "Exercise Autumn Forge (synthetic)", "exercises", "exercise", 1985,
                [_p("USA", "participant"), _p("UKG", "participant")]),
        _record("syn-usa-jpn-dca-1992", "US-Japan defence cooperation (synthetic)", "agreements",
                "defence_cooperation_agreement", 1992, [_p("USA", "signatory"), _p("JPN", "signatory")],
                end_year=1999),
        _record("syn-usa-jpn-exercise-2001", "Exercise Keen Sword (synthetic 2001)", "exercises", "exercise", 2001,
                [_p("USA", "participant"), _p("JPN", "participant")], start_month=11),
        _record("syn-usa-jpn-exercise-2005", "Exercise Keen Sword (synthetic 2005)", "exercises", "exercise", 2005,
                [_p("USA", "participant"), _p("JPN", "participant")]),
        _record("syn-usa-ind-exercise-2003", "Exercise Malabar (synthetic)", "exercises", "exercise", 2003,
                [_p("USA", "participant"), _p("IND", "participant")]),
        _record("syn-rim-exercise-2006", "Rim of the Ocean (synthetic)", "exercises", "exercise", 2006,
                [_p("USA", "leader"), _p("JPN", "participant"), _p("AUL", "participant"), _p("CAN", "participant")]),
        _record("syn-ind-frn-dca-2006", "India-France defence cooperation (synthetic)", "agreements",
                "defence_cooperation_agreement", 2006, [_p("IND", "signatory"), _p("FRN", "signatory")],
                end_year=2016),
        _record("syn-usa-ind-visit-2004", "US defence secretary in New Delhi (synthetic)", "contacts", "visit", 2004,
                [_p("USA", "sender"), _p("IND", "receiver")], start_month=3, start_day=12, precision="day"),
        _record("syn-congo-mission-2005", "Peacekeeping in the Congo (synthetic)", "contacts", "deployment", 2005,
                [_p("IND", "contributor"), _p("PAK", "contributor"), _p("DRC", "host")],
                sub_activities=["peacekeeping"], end_year=2007),
        _record("syn-security-forum-1995", "Security dialogue forum (synthetic)", "contacts", "dialogue_forum", 1995,
                forum, end_year=2008),
        _record("syn-ukg-rus-posting-1890", "Military attaché in St Petersburg (synthetic)", "attaches", "posting",
                1890, [_p("UKG", "sender"), _p("RUS", "receiver")], end_year=1894),
        _record("syn-staff-course-2010", "Staff college course for foreign officers (synthetic)", "attaches",
                "training_programme", 2010, [_p("UKG", "host"), _p("IND", "participant"), _p("PAK", "participant")],
                sub_activities=["education_training"]),
        _record("syn-athens-sparta-446bce", "Thirty Years' Peace (synthetic)", "agreements", "alliance_treaty", -446,
                [_p("athens", "signatory"), _p("sparta", "signatory")], circa=True),
    ]
    for year in range(2011, 2016):  # an annual exercise series: enough rows to page through
        out.append(_record(f"syn-usa-aul-exercise-{year}", f"Exercise Southern Shield (synthetic {year})", "exercises",
                           "exercise", year, [_p("USA", "participant"), _p("AUL", "participant")]))
    return out


PARTNERS_2000S = {
    # polity: (state partners, partners in two-party engagements, engagements with a partner) in 2000-2009
    "USA": (5, 2, 6), "UKG": (5, 0, 2), "CAN": (4, 0, 2), "JPN": (4, 1, 4), "IND": (2, 2, 3), "FRN": (1, 1, 1),
    "AUL": (3, 0, 1), "CHN": (2, 0, 1), "ROK": (2, 0, 1),
}
"""Worked out by hand: France left the pact in 1966 and Russia the forum in 1999, so neither counts through
them; Japan (forum 2000-2001) and South Korea (2005-) never sat in the forum together, nor did Japan and China
(2003-); the Congo deployment ties no one (peacekeeping is left out); 2010 and later are outside the window."""


def write_records(folder: Path) -> Path:
    """The records (``records.yaml``) and their bibliography (``records.bib``) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "records.yaml").write_text(yaml.safe_dump(records(), sort_keys=False, allow_unicode=True),
                                         encoding="utf-8")
    (folder / "records.bib").write_text(BIB, encoding="utf-8")
    return folder


def build_store(root: Path) -> Path:
    """A store built by :func:`defdip.ingest.build.build` from the genealogy and the synthetic records only."""
    empty = root / "no-sources"
    empty.mkdir(parents=True, exist_ok=True)
    path = root / "synthetic.duckdb"
    build(path, empty, records=[write_records(root / "records")])
    return path


def records_only_store(root: Path) -> Path:
    """The synthetic records alone (validated as the build validates them, written with its schema), for
    answers that the genealogy's records would blur."""
    engagements = load_user_records(write_records(root / "records"))
    return write_store(root / "records-only.duckdb", engagements)
