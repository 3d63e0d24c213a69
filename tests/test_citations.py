"""The bibliography: parsing references.bib, printing BibTeX, and helpful errors for unknown keys."""

from __future__ import annotations

import pytest

from defdip.core.citations import (
    all_entries,
    bibliography,
    cite,
    entry_fields,
    format_reference,
    keys_in,
    parse_bibtex,
    references,
)
from defdip.core.codebook import codebook
from defdip.core.errors import DefdipError
from defdip.present.export import bibtex_for_store, cite_sources, dataset_texts

SAMPLE = r"""
% a comment line with an @ sign: @misc{not_an_entry, is ignored because it closes below}
@comment{ anything {nested} here }
@string{ iir = {International Relations} }
@article{alpha_2001,
  author = {Smith, Jane and {Org Name}},
  title  = {On {NATO} and {ASEAN}: a \{tricky\} title},
  journal = "Journal of " # iir,
  year   = 2001
}
@Book( beta_1999,
  title = {Parenthesised entry},
  year = {1999}
)
"""

PAPER_KEYS = ["khalid_ahmed_2024", "forster_2004", "langdon_gardiner_1920", "larsen_1940", "richardson_2012",
              "vagts_1967", "kupchan_2020", "freke_1854", "erdkamp_2011", "southern_2007", "phang_2011",
              "bunson_2014", "martin_2013", "archer_ferris_2002", "kinne_2018", "bisley_2014", "blaxland_2014",
              "nato_2023", "un_2023", "cheyre_2013", "drab_2018", "koerner_2006", "masland_radway_1957", "clem_2018"]


def test_parse_bibtex_handles_comments_strings_nesting_and_parentheses():
    entries = parse_bibtex(SAMPLE)
    assert list(entries) == ["alpha_2001", "beta_1999"]
    assert entries["alpha_2001"].startswith("@article{alpha_2001,") and entries["alpha_2001"].endswith("}")
    assert "year   = 2001" in entries["alpha_2001"]
    assert entries["beta_1999"].startswith("@Book( beta_1999") and entries["beta_1999"].endswith(")")


def test_parse_bibtex_rejects_duplicates_and_unclosed_entries():
    with pytest.raises(DefdipError, match="defined twice"):
        parse_bibtex("@misc{a, title={x}}\n@book{a, title={y}}")
    with pytest.raises(DefdipError, match="line 2.*never closed"):
        parse_bibtex("\n@misc{a, title={x}")
    with pytest.raises(DefdipError, match="no citation key"):
        parse_bibtex("@misc{title={x}}")


def test_entry_fields():
    fields = entry_fields(parse_bibtex(SAMPLE)["alpha_2001"])
    assert fields["ENTRYTYPE"] == "article" and fields["ID"] == "alpha_2001"
    assert fields["author"] == "Smith, Jane and {Org Name}"
    assert fields["title"] == r"On {NATO} and {ASEAN}: a \{tricky\} title"
    assert fields["year"] == "2001"
    paper = entry_fields(bibliography()["khalid_ahmed_2024"])
    assert paper["doi"] == "10.26619/1647-7251.15.1.1" and paper["pages"] == "3--20"


def test_bibliography_holds_the_paper_and_its_references():
    bib = bibliography()
    assert len(bib) >= 150
    for key in PAPER_KEYS:
        assert key in bib, key
    for entry in codebook().activities + codebook().sub_activities + codebook().cottey_forster:
        assert set(entry["citations"]) <= set(bib), entry["id"]
    # returned dict is a copy: callers cannot damage the cache
    bib.pop("khalid_ahmed_2024")
    assert "khalid_ahmed_2024" in bibliography()


def test_every_entry_has_author_or_editor_title_and_a_date_or_publisher():
    for key, entry in bibliography().items():
        f = entry_fields(entry)
        assert f["ID"] == key
        assert f.get("title"), key
        assert f.get("author") or f.get("editor"), key
        assert f.get("year") or f.get("howpublished") or f.get("publisher") or f.get("institution"), key
        if "doi" in f:
            assert f["doi"].startswith("10."), key


def test_cite_returns_entries_in_order_once():
    out = cite(["vagts_1967", "khalid_ahmed_2024", "vagts_1967"])
    assert out.startswith("@book{vagts_1967,") and out.endswith("}\n")
    assert out.count("@") == 2 and out.index("vagts_1967") < out.index("khalid_ahmed_2024")
    assert parse_bibtex(out).keys() == {"vagts_1967", "khalid_ahmed_2024"}
    assert cite([]) == ""


def test_cite_unknown_key_names_it_and_suggests_close_keys():
    with pytest.raises(DefdipError) as info:
        cite(["khalid_ahmed_2024", "khalid_ahmed_2042"])
    msg = str(info.value)
    assert "'khalid_ahmed_2042'" in msg and "did you mean" in msg and "khalid_ahmed_2024" in msg
    with pytest.raises(DefdipError, match="unknown citation key 'zzzz'$"):
        cite(["zzzz"])


def test_cite_sources_and_export_bibtex():
    assert "khalid_ahmed_2024" in cite_sources(["genealogy"])
    assert "kinne_dcad_2020" in cite_sources(["dcad"])
    with pytest.raises(DefdipError, match="unknown source"):
        cite_sources(["nosuchsource"])
    text = bibtex_for_store(["genealogy", "dcad"], ["kinne_2018", "kinne_dcad_2020", "not_a_key"])
    entries = parse_bibtex(text)
    assert set(entries) == {"khalid_ahmed_2024", "kinne_dcad_2020", "kinne_2018"}
    assert "% citation keys not found in the bibliography: not_a_key" in text


def test_parse_and_format_bibtex() -> None:
    text = """@article{kinne_2018, author = {Kinne, Brandon J. and Other, A.}, title = {Defense {Cooperation}
    Agreements}, journal = {Journal of Conflict Resolution}, volume = {62}, number = {4}, pages = {799--837},
    year = 2018, doi = {10.1177/0022002716669809}}
    @misc{natural_earth, author = {{Natural Earth}}, title = {Admin 0}, howpublished = {\\url{https://x.org}}}"""
    entries = parse_bibtex(text)
    assert list(entries) == ["kinne_2018", "natural_earth"]
    assert keys_in(text) == ["kinne_2018", "natural_earth"]
    assert entry_fields(entries["kinne_2018"])["year"] == "2018"
    formatted = format_reference(entries["kinne_2018"])
    assert "Kinne, Brandon J.; Other, A. (2018). Defense Cooperation Agreements." in formatted
    assert "62(4), pp. 799–837" in formatted and "https://doi.org/10.1177/0022002716669809" in formatted
    assert "Natural Earth" in format_reference(entries["natural_earth"])


def test_references_from_the_bibliography_datasets_and_extra_texts() -> None:
    entries = all_entries(dataset_texts())
    assert "khalid_ahmed_2024" in entries and "leeds_atop_2002" in entries  # a reference and a dataset
    assert "leeds_atop_2002" not in all_entries()  # the core resolves against the texts it is given only
    extra = "@misc{only_here, author = {A, B}, title = {<Extra>}, year = 2020}"
    refs = references(["khalid_ahmed_2024", "only_here", "khalid_ahmed_2024", "no_such_key"], [extra])
    assert [r["key"] for r in refs] == ["khalid_ahmed_2024", "only_here", "no_such_key"]
    assert refs[0]["found"] and refs[0]["bibtex"] == bibliography()["khalid_ahmed_2024"]
    assert refs[1]["text"] == "A, B (2020). &lt;Extra&gt;." and refs[1]["bibtex"] == extra
    assert refs[2] == {"key": "no_such_key", "found": False, "text": None, "bibtex": None}


def test_every_key_the_package_uses_resolves_and_cites() -> None:
    """Sources' and layers' keys, the genealogy's and the codebook's: `defdip cite KEY` works for each."""
    from defdip.analysis.validate import used_keys
    from defdip.core.citations import unresolved_keys

    used = used_keys()
    assert {"source:atop", "source:geopko", "genealogy", "codebook"} <= set(used)
    assert any(name.startswith("layer:") for name in used)
    keys = set().union(*used.values())
    assert {"leeds_atop_2002", "dorazio_2013_jme", "cil_geopko_2020", "khalid_ahmed_2024"} <= keys
    assert unresolved_keys(keys, dataset_texts()) == []
    entries = parse_bibtex(cite(sorted(keys), dataset_texts()))
    assert set(entries) == keys


def test_each_source_bibtex_defines_its_own_citation_keys() -> None:
    from defdip.ingest.sources import all_sources

    for sid, source in all_sources().items():
        assert set(source.citation_keys) <= set(keys_in(source.bibtex)), sid


def test_cite_finds_dataset_entries_and_unresolved_keys_lists_the_rest() -> None:
    from defdip.core.citations import unresolved_keys

    out = cite(["leeds_atop_2002", "khalid_ahmed_2024"], dataset_texts())
    assert list(parse_bibtex(out)) == ["leeds_atop_2002", "khalid_ahmed_2024"]
    extra = "@misc{stored_only, author = {A, B}, title = {T}, year = 2020}"
    assert "stored_only" in cite(["stored_only"], [extra])
    keys = ["leeds_atop_2002", "zz_missing", "stored_only", "zz_missing"]
    assert unresolved_keys(keys, [extra, *dataset_texts()]) == ["zz_missing"]
    assert unresolved_keys(keys, [extra]) == ["leeds_atop_2002", "zz_missing"]  # a dataset's key needs its text
    with pytest.raises(DefdipError, match="unknown citation key 'stored_only'"):
        cite(["stored_only"])
