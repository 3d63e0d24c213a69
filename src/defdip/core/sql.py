"""SQL text defdip builds itself: the one way an identifier (a table or column name) is spliced into a query.

Values always go in as parameters; identifiers cannot, so each is quoted here: doubled inner quotes inside
double quotes, which DuckDB and Spark SQL both read as a plain identifier whatever characters it holds.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (``ev_dyad_day`` -> ``"ev_dyad_day"``; ``a"b`` -> ``"a""b"``)."""
    if not name:
        raise ValueError("an SQL identifier cannot be empty")
    return '"' + name.replace('"', '""') + '"'
