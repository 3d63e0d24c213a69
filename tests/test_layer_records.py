"""The layers of a researcher's own records: counts worked out by hand from hand-written records, direction from
the roles, NA outside the records' years, a clear refusal without records, and the whole road from a news text
through `defdip code` and `defdip build --records` to a panel cell."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from defdip.analysis import panels
from defdip.analysis import pipeline as dp
from defdip.cli import app
from defdip.core.errors import StoreError
from defdip.ingest import build as store_mod

USA, JPN, IND, DRV, UKG, FRN = 2, 740, 750, 816, 200, 220

RECORDS = """\
- id: mine-visit-2016
  title: US defence secretary visits New Delhi
  activity: contacts
  instrument: visit
  start_year: 2016
  participants:
    - {id: USA, role: sender}
    - {id: IND, role: host}
  sources: [mine_2016]
- id: mine-dialogue-2016
  title: India-US defence policy group
  activity: contacts
  instrument: dialogue_forum
  start_year: 2016
  participants:
    - {id: USA, role: participant}
    - {id: IND, role: participant}
  sources: [mine_2016]
- id: mine-attache-in-2016
  title: India posts a defence attache to Hanoi
  activity: attaches
  instrument: posting
  start_year: 2016
  participants:
    - {id: IND, role: sender}
    - {id: DRV, role: receiver}
  sources: [mine_2016]
- id: mine-attache-out-2016
  title: Vietnam posts a defence attache to New Delhi
  activity: attaches
  instrument: posting
  start_year: 2016
  participants:
    - {id: DRV, role: sender}
    - {id: IND, role: receiver}
  sources: [mine_2016]
- id: mine-exercise-2016
  title: A trilateral naval exercise observed by NATO
  activity: exercises
  instrument: exercise
  start_year: 2016
  participants:
    - {id: IND, role: participant}
    - {id: JPN, role: participant}
    - {id: USA, role: participant}
    - {id: nato, role: observer}
  sources: [mine_2016]
- id: mine-equipment-2015
  title: Maritime patrol aircraft for India
  activity: agreements
  instrument: equipment_transfer
  start_year: 2015
  end_year: 2017
  participants:
    - {id: USA, role: supplier}
    - {id: IND, role: recipient}
  sources: [mine_2016]
"""

BIB = "@misc{mine_2016,\n  title = {My reading of the 2015-2017 defence press},\n  year = {2017}\n}\n"


@pytest.fixture(scope="module")
def records_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("records-layers")
    (root / "mine").mkdir()
    (root / "mine" / "records.yaml").write_text(RECORDS, encoding="utf-8")
    (root / "mine" / "records.bib").write_text(BIB, encoding="utf-8")
    (root / "none").mkdir()
    path = root / "s.duckdb"
    store_mod.build(path, root / "none", records=[root / "mine"])
    # a state system for the panel's nodes: these states in every year (a test store, not COW's dates)
    system = pd.DataFrame([(c, y) for y in range(2010, 2019) for c in (USA, UKG, FRN, JPN, IND, DRV)],
                          columns=["ccode", "year"])
    con = duckdb.connect(str(path))
    try:
        con.register("f", system)
        con.execute("CREATE TABLE cow_system AS SELECT * FROM f")
        # the pipeline's populations ask for COW majors
        con.execute("CREATE TABLE cow_majors AS SELECT 2 AS ccode, 1898 AS styear, 2016 AS endyear")
    finally:
        con.close()
    return path


NAMES = [f"records_{n}" for n in ("contacts", "attaches", "exercises", "agreements", "all")]


def _cells(frame: pd.DataFrame, a: int, b: int, year: int) -> dict[str, object]:
    row = frame[(frame.ccode1 == a) & (frame.ccode2 == b) & (frame.year == year)]
    assert len(row) == 1, (a, b, year)
    return {k: (None if pd.isna(v) else int(v)) for k, v in row.iloc[0].items()
            if k not in ("ccode1", "ccode2", "year")}


def test_non_directed_counts_each_record_once(records_store: Path) -> None:
    u = panels.dyad_year(records_store, from_year=2014, to_year=2018, layers=NAMES)
    usa_ind = _cells(u, USA, IND, 2016)
    # a visit (sender -> host) and a dialogue (participants): two contacts, one of them directed
    assert (usa_ind["records_contacts"], usa_ind["records_contacts_sent"]) == (2, 1)
    assert (usa_ind["records_exercises"], usa_ind["records_exercises_sent"]) == (1, 0)
    assert (usa_ind["records_all"], usa_ind["records_all_sent"]) == (3, 1)
    # attachés posted both ways: two records, each directed; the two directions are summed, not maxed
    ind_drv = _cells(u, IND, DRV, 2016)
    assert (ind_drv["records_attaches"], ind_drv["records_attaches_sent"]) == (2, 2)
    assert _cells(u, JPN, IND, 2016)["records_exercises"] == 1  # a multilateral exercise: every pair of states
    assert _cells(u, USA, JPN, 2016)["records_exercises"] == 1
    # the equipment transfer counts in the year it started; inside the records' years no record reads 0
    assert (_cells(u, USA, IND, 2015)["records_agreements"], _cells(u, USA, IND, 2015)["records_agreements_sent"]) \
        == (1, 1)
    assert _cells(u, USA, IND, 2017)["records_agreements"] == 0
    assert set(_cells(u, UKG, FRN, 2016).values()) == {0}
    # outside 2015-2017 (first start year to last end year) nothing is known: NA, never 0
    for year in (2014, 2018):
        assert u.loc[u.year == year, [c for n in NAMES for c in panels.LAYERS[n].columns]].isna().all().all()


def test_directed_panels_keep_the_roles_direction(records_store: Path) -> None:
    d = panels.dyad_year(records_store, directed=True, from_year=2016, to_year=2016, layers=NAMES)
    there, back = _cells(d, USA, IND, 2016), _cells(d, IND, USA, 2016)
    assert (there["records_contacts"], there["records_contacts_sent"]) == (2, 1)  # the US visited India
    assert (back["records_contacts"], back["records_contacts_sent"]) == (2, 0)
    assert _cells(d, IND, DRV, 2016)["records_attaches_sent"] == 1
    assert _cells(d, DRV, IND, 2016)["records_attaches_sent"] == 1
    assert _cells(d, JPN, IND, 2016)["records_exercises"] == _cells(d, IND, JPN, 2016)["records_exercises"] == 1


def test_state_years_count_partners(records_store: Path) -> None:
    s = panels.state_year(records_store, from_year=2016, to_year=2016, layers=["records_all", "records_attaches"])
    india = s.set_index("ccode").loc[IND]
    assert (india["records_all"], india["records_all_sent"], india["records_attaches"]) == (3, 2, 1)
    assert s.set_index("ccode").loc[UKG, "records_all"] == 0
    # the pipeline's add_records merges the same columns
    frame = dp.add_records(dp.create_dyadyears(records_store, directed=False, from_year=2016, to_year=2016))
    assert frame.set_index(["ccode1", "ccode2", "year"]).loc[(IND, DRV, 2016), "records_attaches"] == 2


def test_without_user_records_the_layers_refuse(genealogy_store: Path) -> None:
    assert not set(NAMES) & set(panels.available_layers(genealogy_store))
    with pytest.raises(StoreError, match="layer 'records_attaches' has no data: the store holds no records of the "
                                         "'user' source; add your records with `defdip build --records"):
        panels.dyad_year(genealogy_store, layers=["records_attaches"])


def test_the_layers_are_one_family_of_ties() -> None:
    assert panels.families()["records"] == tuple(NAMES)
    assert set(NAMES) <= {lay.name for lay in panels.layers(role="tie", unit="state_year")}
    assert all(panels.LAYERS[n].source == "user" and "NA outside" in panels.LAYERS[n].description for n in NAMES)


# ------------------------------------------------------------------- the worked example of docs/text.md

NEWS = textwrap.dedent("""\
    ---
    title: Malabar opens in the Bay of Bengal
    date: 2017-07-12
    url: https://example.org/news/malabar-2017
    ---
    The navies of India, Japan and the United States began the Malabar exercise in the Bay of Bengal on 10 July 2017.

    India and Japan did not sign the proposed defence equipment agreement.

    Vietnam appointed a new defence attaché to New Delhi last month.
    """)


def _run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.shared
def test_from_text_to_record_to_panel(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFDIP_SOURCES", str(shared_data))
    monkeypatch.chdir(tmp_path)
    Path("malabar-2017.md").write_text(NEWS, encoding="utf-8")
    out = _run("code", "malabar-2017.md", "-o", "review.yaml")
    assert "2 records, 1 flagged" in " ".join(out.split())
    assert "# [negated: not an event] agreements (IND:signatory, JPN:signatory)" in Path("review.yaml").read_text()
    _run("build", "--records", "review.yaml", "--only", "state_system", "--store", "coded.duckdb")
    layers = "records_exercises,records_attaches,records_agreements"
    _run("panel", "dyad-year", "--from", "2016", "--to", "2018", "-c", "India", "-l", layers, "-o", "dyad.csv",
         "--store", "coded.duckdb")
    panel = pd.read_csv("dyad.csv")
    cells = panel.set_index(["ccode1", "ccode2", "year"])
    assert cells.loc[(USA, IND, 2017), "records_exercises"] == cells.loc[(JPN, IND, 2017), "records_exercises"] == 1
    assert (cells.loc[(IND, DRV, 2017), "records_attaches"], cells.loc[(IND, DRV, 2017), "records_attaches_sent"]) \
        == (1, 1)
    assert cells.loc[(JPN, IND, 2017), "records_agreements"] == 0  # the negated agreement never became a record
    tied = panel[(panel.year == 2017) & (panel[layers.split(",")].sum(axis=1) > 0)]
    assert sorted(zip(tied.ccode1, tied.ccode2)) == [(USA, IND), (JPN, IND), (IND, DRV)]
    assert panel.loc[panel.year != 2017, layers.split(",")].isna().all().all()  # the records span 2017 only
    assert "doc_malabar_2017_md" in Path("CITATION.bib").read_text()  # the coded document is cited
    cited = _run("cite", "--layers", "records_attaches", "--store", "coded.duckdb")  # as ps_cite would print
    assert "{doc_malabar_2017_md," in cited and "{khalid_ahmed_2024," in cited
    assert _run("cite", "doc_malabar_2017_md", "--store", "coded.duckdb").startswith("@")
    _run("panel", "dyad-year", "--directed", "--from", "2017", "--to", "2017", "-c", "Vietnam", "-l",
         "records_attaches", "-o", "directed.csv", "--store", "coded.duckdb")
    directed = pd.read_csv("directed.csv").set_index(["ccode1", "ccode2", "year"])
    assert directed.loc[(DRV, IND, 2017), "records_attaches_sent"] == 1  # Vietnam sent, India received
    assert directed.loc[(IND, DRV, 2017), "records_attaches_sent"] == 0
