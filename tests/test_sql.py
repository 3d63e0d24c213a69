"""The one identifier quoting: any name, quotes and spaces included, round-trips through DuckDB as itself."""

from __future__ import annotations

import duckdb
import pytest

from defdip.core.sql import quote_identifier


@pytest.mark.parametrize("name", ["ev_dyad_day", "odd name", 'a"b', "select", "Ünicode"])
def test_a_quoted_identifier_names_exactly_that_table(name: str) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE {quote_identifier(name)} AS SELECT 1 AS x")
        assert name in {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert con.execute(f"SELECT x FROM {quote_identifier(name)}").fetchone() == (1,)
    finally:
        con.close()


def test_an_empty_identifier_is_refused() -> None:
    with pytest.raises(ValueError):
        quote_identifier("")
