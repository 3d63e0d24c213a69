"""Evolution tables and the alliance-to-partnership index: exact counts on a hand-made store, trends on real data."""

from __future__ import annotations

import pandas as pd
import pytest

from defdip.core.errors import DefdipError


def _row(frame, **keys):
    sel = frame
    for k, v in keys.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (keys, sel)
    return sel.iloc[0]


# ----------------------------------------------------------------------------- synthetic: exact counts

def test_started_and_in_force_by_decade(synthetic_store):
    from defdip.analysis.evolution import evolution

    ev = evolution(synthetic_store, by="decade")
    assert list(ev.columns[:5]) == ["period", "period_start", "period_label", "activity", "instrument"]
    # the ongoing pact started in the 1940s and is in force every decade to 2001 (its dataset's last year)
    pact = ev[ev["instrument"] == "alliance_treaty"]
    r = _row(pact, period=1940)
    assert (r.started, r.in_force) == (1, 1)
    for decade in (1950, 1960, 1970, 1980, 1990, 2000):
        r = _row(pact, period=decade)
        assert (r.started, r.in_force) == (0, 1)
    assert 2010 not in set(pact["period"])
    dca = ev[ev["instrument"] == "defence_cooperation_agreement"]
    r = _row(dca, period=1990)
    assert (r.started, r.in_force, r.bilateral, r.share_bilateral) == (3, 3, 3, 1.0)
    assert r.institutionalised == 1 and r.share_institutionalised == pytest.approx(1 / 3)
    r = _row(dca, period=2000)  # s-07 runs to 2000
    assert (r.started, r.in_force) == (0, 1)
    assert pd.isna(r.share_bilateral)
    r = _row(ev, period=1980, instrument="exercise")
    assert (r.started, r.bilateral, r.multilateral, r.share_multilateral) == (1, 0, 1, 1.0)


def test_bce_records_sort_and_fall_in_antiquity(synthetic_store):
    from defdip.analysis.evolution import evolution

    ev = evolution(synthetic_store, by="decade")
    assert ev["period_start"].is_monotonic_increasing
    # 481 BCE (decade -480) is the first period
    first = ev.iloc[0]
    assert first["period_start"] < 0 and first["activity"] == "agreements"
    # s-01 (481-404 BCE) is in force in every decade it spans, s-02 (446 BCE) only in its own
    bce = ev[(ev["instrument"] == "alliance_treaty") & (ev["period_start"] < 0)]
    assert bce["started"].sum() == 2
    assert bce["in_force"].max() == 2
    eras = evolution(synthetic_store, by="era")
    assert list(eras["period"].cat.categories)[:2] == ["antiquity", "medieval"]
    r = _row(eras, period="antiquity", instrument="alliance_treaty")
    assert (r.started, r.in_force, r.bilateral, r.multilateral, r.institutionalised) == (2, 2, 1, 1, 1)
    r = _row(eras, period="cold_war", instrument="alliance_treaty")  # the ongoing pact, started 1949
    assert (r.started, r.in_force) == (1, 1)
    r = _row(eras, period="post_cold_war", instrument="alliance_treaty")
    assert (r.started, r.in_force) == (0, 1)
    assert eras["period"].is_monotonic_increasing


def test_by_year_counts_and_bad_period(synthetic_store):
    from defdip.analysis.evolution import evolution

    ev = evolution(synthetic_store, by="year")
    r = _row(ev, period=-404, instrument="alliance_treaty")
    assert (r.started, r.in_force) == (0, 1)
    assert -403 not in set(ev.loc[ev["instrument"] == "alliance_treaty", "period"])
    r = _row(ev, period=1995, instrument="defence_cooperation_agreement")
    assert (r.started, r.in_force) == (0, 1)
    assert ev["period_label"].iloc[0] == "481 BCE"
    with pytest.raises(DefdipError, match="unknown period"):
        evolution(synthetic_store, by="century")


def test_partnership_index_exact(synthetic_store):
    from defdip.analysis.evolution import partnership_index

    idx = partnership_index(synthetic_store, by="decade")
    r = _row(idx, period=1940)
    assert r.new_defence_pacts == 1 and r.allied_dyads == 3
    r = _row(idx, period=1990)
    assert (r.new_defence_pacts, r.new_dcas, r.new_exercises) == (0, 3, 1)
    # allied: USA-UKG, USA-FRN, UKG-FRN; partners: USA-JPN (DCA, exercise), UKG-JPN (DCA); USA-UKG is allied
    assert (r.allied_dyads, r.partnership_dyads) == (3, 2)
    assert r.partnership_share == pytest.approx(2 / 5)
    assert pd.isna(r.partnership_ratio)  # no new pact in the 1990s
    r = _row(idx, period=1980)  # the 1985 exercise ties three allies: no partnership dyad
    assert (r.new_exercises, r.partnership_dyads) == (1, 0)
    # antiquity: pacts counted, DCA/exercise columns NA (outside the coverage of any DCA or exercise data)
    bce = idx[idx["period_start"] < 0]
    assert bce["new_defence_pacts"].sum() == 1
    assert bce["new_dcas"].isna().all() and bce["partnership_dyads"].isna().all()


def test_partnership_window_is_five_years(synthetic_store):
    from defdip.analysis.evolution import partnership_index

    idx = partnership_index(synthetic_store, by="year").set_index("period")
    # USA-JPN: DCA 1992-1999, exercise 1995 (counts 1995-1999), so a partner in 1999, not in 2000;
    # UKG-JPN: DCA 1998-2000
    assert idx.loc[1999, "partnership_dyads"] == 2
    assert idx.loc[2000, "partnership_dyads"] == 1
    assert idx.loc[1991, "partnership_dyads"] == 0  # USA-UKG DCA, but allies


def test_charts_render(synthetic_store, tmp_path):
    from defdip.analysis.evolution import evolution, partnership_index
    from defdip.present.charts import activity_evolution, partnership_shift, save_chart

    for by in ("decade", "era"):
        save_chart(activity_evolution(evolution(synthetic_store, by=by)), tmp_path / f"ev-{by}.html")
        save_chart(partnership_shift(partnership_index(synthetic_store, by=by)), tmp_path / f"pi-{by}.html")
    out = save_chart(activity_evolution(evolution(synthetic_store, by="decade")), tmp_path / "ev.svg")["svg"]
    assert out.read_text().lstrip().startswith("<svg")
    with pytest.raises(DefdipError, match="png"):
        save_chart(activity_evolution(evolution(synthetic_store)), tmp_path / "x.gif")


def test_missing_store_is_a_clear_error(tmp_path):
    from defdip.analysis.evolution import evolution

    with pytest.raises(DefdipError, match="no store"):
        evolution(tmp_path / "absent.duckdb")


# ----------------------------------------------------------------------------- real data

@pytest.mark.shared
def test_real_evolution_covers_all_activities(full_store):
    from defdip.analysis.evolution import evolution

    ev = evolution(full_store, by="era")
    assert set(ev["activity"]) >= {"agreements", "exercises", "contacts", "attaches"}
    assert ev["period"].iloc[0] == "antiquity"
    assert ev["share_bilateral"].dropna().between(0, 1).all()


@pytest.mark.shared
def test_real_dcas_rise_after_1991(full_store):
    from defdip.analysis.evolution import partnership_index

    idx = partnership_index(full_store, by="decade").set_index("period")
    assert idx.loc[2000, "new_dcas"] > idx.loc[1980, "new_dcas"]
    assert idx.loc[1990, "new_dcas"] + idx.loc[2000, "new_dcas"] > 2 * idx.loc[1980, "new_dcas"]
    assert idx.loc[2000, "partnership_dyads"] > idx.loc[1980, "partnership_dyads"]
    assert pd.isna(idx.loc[1900, "new_dcas"])  # before any DCA data: NA, never 0


# ----------------------------------------------------------------------------- each instance once (issue 8.8)

@pytest.fixture(scope="module")
def curated_store(tmp_path_factory):
    from conftest import FRN, JPN, UKG, USA, _eng, write_store

    gdr, tha = ("GDR", 265), ("THI", 800)
    pact = {"defense": 1}
    recs = [
        _eng("atop-1", "agreements", "alliance_treaty", 1949, [USA, UKG, FRN], ongoing=True, attributes=pact,
             source="atop"),
        # the curated record of the same treaty, one year apart: counts once, as ATOP's record
        _eng("nato", "agreements", "alliance_treaty", 1950, [USA, UKG], ongoing=True, attributes=pact,
             source="genealogy"),
        _eng("atop-2", "agreements", "alliance_treaty", 1960, [FRN, UKG], end=1961, attributes=pact, source="atop"),
        # a curated pact no dataset holds: counts
        _eng("us-japan", "agreements", "alliance_treaty", 1951, [USA, JPN], end=1952, attributes=pact,
             source="genealogy"),
        _eng("dcad-1", "agreements", "defence_cooperation_agreement", 1992, [UKG, JPN], end=1999, source="dcad"),
        _eng("uk-japan", "agreements", "defence_cooperation_agreement", 1992, [UKG, JPN], source="genealogy"),
        _eng("mme-1", "exercises", "exercise", 1982, [USA, tha], source="mme"),
        _eng("mme-2", "exercises", "exercise", 1982, [USA, UKG], source="mme"),
        # the same name: linked; another name with the same states and year: not linked
        _eng("cobra-gold", "exercises", "exercise", 1982, [USA, tha], source="genealogy"),
        _eng("able-archer", "exercises", "exercise", 1982, [USA, UKG], source="genealogy"),
        # an exercise with a state that ends in 1990: a partner in 1988-1990 only, not in the window after
        _eng("mme-3", "exercises", "exercise", 1988, [gdr, JPN], source="mme"),
        _eng("mme-4", "exercises", "exercise", 1996, [FRN, UKG], source="mme"),
    ]
    titles = {"mme-1": "Cobra Gold 82", "mme-2": "Readex 2-82", "cobra-gold": "Exercise Cobra Gold",
              "able-archer": "Exercise Able Archer"}
    recs = [r.model_copy(update={"title": titles[r.id]}) if r.id in titles else r for r in recs]
    # a curated trend, dated to a decade inside DCAD's years: no instance, no dyads
    trend = _eng("dca-spread", "agreements", "defence_cooperation_agreement", 1995, [USA, FRN, JPN], ongoing=True,
                 source="genealogy").model_copy(update={"precision": "decade", "circa": True})
    return write_store(tmp_path_factory.mktemp("curated") / "c.duckdb", [*recs, trend])


def test_curated_records_link_to_the_dataset_record(curated_store):
    from defdip.analysis.evolution import load_engagements
    from defdip.store.series import connection

    with connection(curated_store) as con:
        frame = load_engagements(con).set_index("id")
    assert frame.loc["nato", "same_as"] == "atop-1"
    assert frame.loc["uk-japan", "same_as"] == "dcad-1"
    assert frame.loc["cobra-gold", "same_as"] == "mme-1"
    assert pd.isna(frame.loc["able-archer", "same_as"]) and pd.isna(frame.loc["us-japan", "same_as"])
    assert frame.loc["dca-spread", "trend"] and not frame["trend"].drop("dca-spread").any()
    assert frame.loc[["atop-1", "dcad-1", "mme-1"], "same_as"].isna().all()  # datasets link to nothing


def test_index_counts_each_instance_once(curated_store):
    from defdip.analysis.evolution import evolution, partnership_index

    idx = partnership_index(curated_store, by="decade").set_index("period")
    assert idx.loc[1940, "new_defence_pacts"] == 1  # ATOP's NATO, not the curated copy
    assert idx.loc[1950, "new_defence_pacts"] == 1  # the curated pact no dataset holds
    assert idx.loc[1990, "new_dcas"] == 1  # DCAD's record; the curated copy and the trend are not instances
    assert idx.loc[1980, "new_exercises"] == 4  # mme-1..3 and the unlinked curated exercise
    ev = evolution(curated_store, by="decade")
    dca = ev[(ev["instrument"] == "defence_cooperation_agreement") & (ev["period"] == 1990)]
    assert dca["started"].sum() == 1


def test_index_dyads_exist_in_their_years(curated_store):
    from defdip.analysis.evolution import index_dyads, partnership_index
    from defdip.store.series import connection

    with connection(curated_store) as con:
        _, partners, _ = index_dyads(con)
    gdr = partners[(partners["a"] == "GDR") | (partners["b"] == "GDR")]
    assert sorted(gdr["year"]) == [1988, 1989, 1990]  # the five-year window stops when the GDR ends
    # the trend ties no one: FRN-JPN and USA-JPN only through real instances
    assert partners[(partners["a"] == "FRN") & (partners["b"] == "JPN")].empty
    years = partnership_index(curated_store, by="year").set_index("period")
    assert years.loc[1991, "partnership_dyads"] == 0 and years.loc[1992, "partnership_dyads"] == 1


@pytest.mark.shared
def test_real_index_dyads_stay_in_the_state_system(full_store):
    from defdip.analysis.evolution import index_dyads
    from defdip.store.series import ccode_ids, connection

    with connection(full_store) as con:
        allied, partners, _ = index_dyads(con)
        ids = {v[0]: k for k, v in ccode_ids(con).items()}
        system = set(con.execute("SELECT ccode, year FROM cow_system").fetchall())
        last = con.execute("SELECT max(year) FROM cow_system").fetchone()[0]
    for dyads in (allied, partners):
        inside = dyads[(dyads["year"] >= 1816) & (dyads["year"] <= last)]
        assert len(inside) > 1000
        out = [(a, b, y) for a, b, y in zip(inside["a"], inside["b"], inside["year"])
               if (ids.get(a), y) not in system or (ids.get(b), y) not in system]
        assert out == []


# ----------------------------------------------------------------------------- coverage edges (8.10)

def test_coverage_windows_and_note(curated_store):
    from defdip.analysis.evolution import coverage_note, coverage_windows

    cov = coverage_windows(curated_store).set_index("source")
    assert set(cov.index) == {"atop", "dcad", "mme"}  # curated records are no dataset
    assert (cov.loc["dcad", "first_year"], cov.loc["dcad", "last_year"]) == (1992, 1999)
    assert cov.loc["mme", "records"] == 4 and cov.loc["mme", "scope"] == "all states"
    note = coverage_note(coverage_windows(curated_store), ["exercises"])
    assert note.startswith("Coverage: mme 1982-1996") and "dcad" not in note


def test_map_window_ends_where_half_the_datasets_reach(curated_store, tmp_path):
    from conftest import UKG, USA, _eng, write_store

    from defdip.store.series import connection, map_window

    with connection(curated_store) as con:
        # last starts: atop 1960, dcad 1992, mme 1996 (the genealogy is no dataset): the middle one ends it
        assert map_window(con) == (1983, 1992)
    curated_only = write_store(tmp_path / "g.duckdb", [
        _eng("g-1", "agreements", "alliance_treaty", 1815, [USA, UKG], source="genealogy"),
        _eng("g-2", "contacts", "visit", 1820, [USA, UKG], source="genealogy")])
    with connection(curated_only) as con:
        assert map_window(con) == (1811, 1820)  # no dataset: the store's last start


def test_series_read_only_through_the_store_handle(curated_store):
    from defdip.store.queries import open_store
    from defdip.store.series import connection, polity_pairs, store_path

    with open_store(curated_store) as reader, connection(reader) as con:
        assert con is reader.con and store_path(con) == str(curated_store)
        pairs = polity_pairs(con, ids=["mme-3", "atop-2"])
    assert sorted(zip(pairs["engagement_id"], pairs["a"], pairs["b"])) == [("atop-2", "FRN", "UKG"),
                                                                           ("mme-3", "GDR", "JPN")]
    assert pairs.set_index("engagement_id").loc["atop-2", ["first", "last"]].tolist() == [1960, 1961]


@pytest.mark.shared
def test_real_series_stop_where_their_data_end(full_store):
    from defdip.analysis.evolution import coverage_windows, partnership_index

    cov = coverage_windows(full_store).set_index("source")
    assert cov.loc["ru_exercises", "scope"] == "RUS only" and cov.loc["un_pko", "first_year"] >= 2010
    idx = partnership_index(full_store, by="year").set_index("period")
    mme_end = int(cov.loc[["mme", "jme"], "last_year"].max())
    after = idx.loc[idx.index > mme_end]
    # Russia's own exercise list does not continue the world's exercise series
    assert after["new_exercises"].isna().all() and after["partnership_dyads"].isna().all()
    assert idx.loc[mme_end, "new_exercises"] > 100
    assert idx.loc[idx.index > int(cov.loc["atop", "last_year"]), "new_defence_pacts"].isna().all()
