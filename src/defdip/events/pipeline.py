"""The filter-map-aggregate pipeline, described once as SQL both engines run (DuckDB and Spark SQL).

Inputs (tables or views): ``events`` (the common events table), ``mapping`` (events_mapping.csv) and
``actors`` (source, code, year -> ccode). Only portable SQL is used (no DuckDB-only FILTER clauses or
GROUP BY ALL) so that Spark SQL and DuckDB compute the same thing from the same text.

Unit of the layers: the directed dyad-day. One story reported by fifty outlets, or coded as both
"make a visit" and "host a visit", is one event-day of that layer for that (actor 1 state, actor 2 state,
day); the raw number of events and the sum of their sources are kept beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from defdip.core.errors import DefdipError
from defdip.core.sql import quote_identifier
from defdip.events.mapping import LAYERS
from defdip.events.read import parquet_glob

QUALIFYING = """
SELECT e.source, e.event_date, e.year, e.month, a.ccode AS c1, b.ccode AS c2, m.layer, e.sources
FROM events e
JOIN mapping m ON m.scheme = e.scheme AND m.code = e.code AND (m.mode = '' OR m.mode = e.mode)
JOIN actors a ON a.source = e.source AND a.code = e.a1 AND a.year = e.year
JOIN actors b ON b.source = e.source AND b.code = e.a2 AND b.year = e.year
WHERE e.defence AND a.ccode <> b.ccode
"""
"""Defence filter (a military/defence actor or context on either side), mapping and actor resolution."""

DYAD_DAY = f"""
SELECT layer, c1, c2, event_date, year, month, CAST(count(*) AS BIGINT) AS events,
       CAST(sum(sources) AS BIGINT) AS sources
FROM ({QUALIFYING}) q
GROUP BY layer, c1, c2, event_date, year, month
"""

_COUNTS = ", ".join(f"CAST(sum(CASE WHEN layer = '{name}' THEN 1 ELSE 0 END) AS BIGINT) AS {name}" for name in LAYERS)
_RAW = ", ".join(f"CAST(sum(CASE WHEN layer = '{name}' THEN events ELSE 0 END) AS BIGINT) AS {name}_events"
                 for name in LAYERS)

DYAD_YEAR = f"SELECT c1, c2, year, {_COUNTS}, {_RAW} FROM dyad_day GROUP BY c1, c2, year"
"""Directed dyad-year counts of event-days per layer, with the raw event counts."""

DYAD_MONTH = f"SELECT c1, c2, year, month, {_COUNTS} FROM dyad_day GROUP BY c1, c2, year, month"
"""The monthly directed dyad series."""

COVERAGE = """
WITH per_file AS (SELECT source, file, year, count(*) AS n FROM events GROUP BY source, file, year),
totals AS (SELECT file, sum(n) AS total FROM per_file GROUP BY file)
SELECT p.year, p.source, CAST(sum(p.n) AS BIGINT) AS events, CAST(count(*) AS BIGINT) AS files
FROM per_file p JOIN totals t ON t.file = p.file
WHERE p.n * 10 >= t.total
GROUP BY p.year, p.source
"""
"""Years the loaded files cover (the layers are NA in every other year): a year is covered when some file
has at least a tenth of its events dated in it, so that a stray old event in a 2019 file (GDELT codes
events by the date a story mentions) does not make that old year look covered."""

STEPS = (("dyad_day", DYAD_DAY), ("dyad_year", DYAD_YEAR), ("dyad_month", DYAD_MONTH), ("coverage", COVERAGE))
ORDER = {"dyad_day": ["layer", "c1", "c2", "event_date"], "dyad_year": ["c1", "c2", "year"],
         "dyad_month": ["c1", "c2", "year", "month"], "coverage": ["year", "source"]}


def run_duckdb(events: Any, mapping: Any, actors: Any) -> dict[str, pd.DataFrame]:
    """The pipeline on DuckDB over Arrow tables/DataFrames, or over a folder of parquet events files (read by
    DuckDB as it goes, so memory does not grow with the events): a dict of step name -> pandas DataFrame."""
    con = duckdb.connect()
    try:
        if isinstance(events, Path):
            con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({parquet_glob(events)})")
        else:
            con.register("events", events)
        con.register("mapping", mapping)
        con.register("actors", actors)
        out = {}
        for name, sql in STEPS:  # each step a DuckDB table the next reads; only the results become pandas
            con.execute(f"CREATE TEMP TABLE {quote_identifier(name)} AS {sql}")
            out[name] = con.execute(f"SELECT * FROM {quote_identifier(name)} ORDER BY {', '.join(ORDER[name])}").df()
        return out
    finally:
        con.close()


def spark_session(master: str | None = None) -> Any:
    """A Spark session (local mode by default; ``master`` may be a cluster URL or ``sc://`` Connect address)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DefdipError("--engine spark needs PySpark: pip install 'defdip[spark]' (and Java 17)") from None
    builder = SparkSession.builder.appName("defdip-events")
    if master and master.startswith("sc://"):
        builder = builder.remote(master)
    else:
        builder = builder.master(master or "local[1]").config("spark.sql.shuffle.partitions", "2") \
            .config("spark.ui.enabled", "false")
    return builder.getOrCreate()


def run_spark(events: Any, mapping: Any, actors: Any, master: str | None = None) -> dict[str, pd.DataFrame]:
    """The same SQL on Spark; inputs are Arrow tables/DataFrames or paths of parquet files Spark can read."""
    spark = spark_session(master)

    def frame(value: Any) -> Any:
        if isinstance(value, str | Path):
            return spark.read.parquet(str(value))
        pdf = value.to_pandas() if hasattr(value, "to_pandas") and not isinstance(value, pd.DataFrame) else value
        return spark.createDataFrame(pdf)

    frame(events).createOrReplaceTempView("events")
    frame(mapping).createOrReplaceTempView("mapping")
    frame(actors).createOrReplaceTempView("actors")
    out = {}
    for name, sql in STEPS:
        result = spark.sql(sql)
        result.createOrReplaceTempView(name)
        out[name] = result.toPandas().sort_values(ORDER[name]).reset_index(drop=True)
    return out


def run(engine: str, events: Any, mapping: Any, actors: Any, master: str | None = None) -> dict[str, pd.DataFrame]:
    """Run the pipeline on the named engine."""
    if engine == "duckdb":
        return run_duckdb(events, mapping, actors)
    if engine == "spark":
        return run_spark(events, mapping, actors, master)
    raise DefdipError(f"unknown engine {engine!r}; use duckdb or spark")
