"""The composable pipeline: the same columns as the one-call panels, its unit carried and checked, and the
README's example run as written on the real store."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from defdip.analysis import panels
from defdip.analysis import pipeline as dp
from defdip.core.errors import DefdipError

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    """The README's pipeline example, exactly as a reader copies it (the python block that composes a panel)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    found = [b for b in blocks if "dp.create_dyadyears" in b]
    assert len(found) == 1, "the README should hold one pipeline example"
    return found[0]


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> str:
    """Three states 1979-1991 and one DCA."""
    import duckdb

    path = tmp_path_factory.mktemp("pipe") / "tiny.duckdb"
    system = pd.DataFrame([(c, y) for y in range(1979, 1992) for c in (2, 200, 220)], columns=["ccode", "year"])
    dca = pd.DataFrame({"dcaid": ["d1"], "ccode1": [220], "ccode2": [2], "sign_year": [1988],
                        "end_year_estimate": [2010], "type": ["general"]})
    majors = pd.DataFrame({"ccode": [2], "styear": [1898], "endyear": [2016]})
    con = duckdb.connect(str(path))
    for name, frame in (("cow_system", system), ("dcad_agreement", dca), ("cow_majors", majors)):
        con.register("f", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM f")
        con.unregister("f")
    con.close()
    return str(path)


def test_pipeline_equals_one_call(tiny_store):
    for directed in (True, False):
        df = dp.add_majors(dp.add_dca(dp.create_dyadyears(tiny_store, directed=directed)))
        assert df.attrs["defdip"] == {"unit": "dyad_year", "system": "cow", "directed": directed,
                                      "store": tiny_store}
        one = panels.dyad_year(tiny_store, directed=directed, layers=list(dp.FAMILIES["dca"] + dp.FAMILIES["majors"]))
        pd.testing.assert_frame_equal(df, one)
    sy = dp.add_majors(dp.add_dca(dp.create_stateyears(tiny_store, from_year=1985, to_year=1990)))
    one = panels.state_year(tiny_store, from_year=1985, to_year=1990, layers=["dca_general", "dca_sector",
                                                                               "dca_any", "cowmaj"])
    pd.testing.assert_frame_equal(sy, one)
    assert sy.set_index(["ccode", "year"]).loc[(2, 1988), "dca_any"] == 1


def test_families_come_from_the_registry(tiny_store):
    """Every layer is in exactly one family; add_dd_index counts the DCA as the agreements component (no ATOP
    in this store), in both units."""
    names = [n for layers in dp.FAMILIES.values() for n in layers]
    assert sorted(names) == sorted(panels.LAYERS)
    df = dp.add_dd_index(dp.create_dyadyears(tiny_store, directed=False, from_year=1987, to_year=1988))
    idx = df.set_index(["ccode1", "ccode2", "year"])["dd_index"]
    assert idx[(2, 220, 1987)] == 0 and idx[(2, 220, 1988)] == 1
    sy = dp.add_dd_index(dp.create_stateyears(tiny_store, from_year=1988, to_year=1988)).set_index("ccode")
    assert sy.loc[2, "dd_index"] == 1 and sy.loc[200, "dd_index"] == 0
    assert dp.add_events.__doc__ and "ev_contacts" in dp.add_events.__doc__


def test_filtered_frame_keeps_its_rows(tiny_store):
    df = dp.create_dyadyears(tiny_store, from_year=1979, to_year=1991)
    df = df[df.ccode1 == 2]
    out = dp.add_dca(df)
    assert len(out) == len(df) and (out.ccode1 == 2).all()
    assert pd.isna(out.set_index(["ccode2", "year"]).loc[(220, 1979), "dca_any"])  # before DCAD: NA
    assert out.set_index(["ccode2", "year"]).loc[(220, 1988), "dca_any"] == 1


def test_refusals(tiny_store):
    sy = dp.create_stateyears(tiny_store)
    with pytest.raises(DefdipError, match="carries no defdip unit"):
        dp.add_dca(pd.DataFrame(sy.to_dict("list")))  # attrs dropped: not a frame made by the pipeline
    with pytest.raises(DefdipError, match="add_peace_years adds dyad-year columns; this frame is state-year"):
        dp.add_peace_years(sy)
    with pytest.raises(DefdipError, match="the frame is empty"):
        dp.add_dca(sy.iloc[0:0])
    with pytest.raises(DefdipError, match="unknown layer"):
        dp.add_layers(sy, ["no_such_layer"])


def test_readme_example_runs(full_store, monkeypatch, capsys, tmp_path):
    import runpy

    monkeypatch.setenv("DEFDIP_STORE", str(full_store))
    script = tmp_path / "readme_example.py"
    script.write_text(readme_example())
    scope = runpy.run_path(str(script))
    fit, data = scope["fit"], scope["data"]
    assert fit.mle_retvals["converged"]
    assert len(data) > 300_000 and data.gmlmidonset.sum() > 500
    assert fit.params["land"] > 1  # contiguous dyads fight far more often: the classic finding
    assert fit.params["log_capdist"] < 0 and fit.params["t"] < 0
    assert "gmlmidonset" in capsys.readouterr().out
