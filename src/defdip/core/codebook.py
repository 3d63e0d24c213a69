"""The codebook: activities, sub-activities and instruments every record is coded with."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Codebook:
    version: str
    activities: list[dict[str, Any]]
    sub_activities: list[dict[str, Any]]
    cottey_forster: list[dict[str, Any]]
    instruments: list[dict[str, Any]]
    roles: list[str] = field(default_factory=list)

    # computed once: every record validated in a build asks for these
    @cached_property
    def activity_ids(self) -> list[str]:
        return [a["id"] for a in self.activities]

    @cached_property
    def sub_activity_ids(self) -> list[str]:
        return [a["id"] for a in self.sub_activities]

    @cached_property
    def instrument_ids(self) -> list[str]:
        return [i["id"] for i in self.instruments]

    @cached_property
    def id_sets(self) -> dict[str, frozenset[str]]:
        """Membership tests for validation: activity, sub_activity, instrument, role."""
        return {"activity": frozenset(self.activity_ids), "sub_activity": frozenset(self.sub_activity_ids),
                "instrument": frozenset(self.instrument_ids), "role": frozenset(self.roles)}

    def entry(self, entry_id: str) -> dict[str, Any]:
        """Any codebook entry by id."""
        for group in (self.activities, self.sub_activities, self.cottey_forster, self.instruments):
            for item in group:
                if item["id"] == entry_id:
                    return item
        raise KeyError(entry_id)

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for tables and exports, one per entry, tagged with their kind."""
        out = []
        for kind, group in (
            ("activity", self.activities),
            ("sub_activity", self.sub_activities),
            ("cottey_forster", self.cottey_forster),
            ("instrument", self.instruments),
        ):
            for item in group:
                out.append({"kind": kind, **item})
        return out


@lru_cache(maxsize=1)
def codebook() -> Codebook:
    """The bundled codebook."""
    text = resources.files("defdip").joinpath("data/codebook.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    return Codebook(
        version=str(raw["version"]),
        activities=raw["activities"],
        sub_activities=raw["sub_activities"],
        cottey_forster=raw["cottey_forster"],
        instruments=raw["instruments"],
        roles=raw["roles"],
    )
