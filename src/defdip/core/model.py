"""The engagement: one instance of a defence-diplomacy activity, from any source.

Every record in the store, curated or ingested, passes through :class:`Engagement`,
so the codebook, the calendar rules and the provenance rules hold everywhere.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from defdip.core import dates
from defdip.core.codebook import codebook
from defdip.core.errors import RecordError

Precision = Literal["day", "month", "year", "decade", "century"]


class Participant(BaseModel):
    """A polity taking part in an engagement, in a role."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = ""
    role: str
    ccode: int | None = None
    start_year: int | None = None
    end_year: int | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in codebook().id_sets["role"]:
            raise ValueError(f"unknown role {value!r}; expected one of {', '.join(codebook().roles)}")
        return value


class Provenance(BaseModel):
    """Where a record comes from: source, version, the source's own record id, citations."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1)
    version: str = Field(min_length=1)
    record_id: str = Field(min_length=1)
    citations: list[str] = Field(min_length=1)


class Engagement(BaseModel):
    """One instance of an activity; years are signed historical years (no year 0)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    summary: str = ""
    activity: str
    sub_activities: list[str] = Field(default_factory=list)
    instrument: str
    start_year: int
    start_month: int | None = None
    start_day: int | None = None
    end_year: int | None = None
    end_month: int | None = None
    end_day: int | None = None
    precision: Precision = "year"
    circa: bool = False
    ongoing: bool = False
    participants: list[Participant] = Field(min_length=1)
    attributes: dict[str, Any] = Field(default_factory=dict)
    provenance: list[Provenance] = Field(min_length=1)
    match_key: str | None = Field(default=None, exclude=True)
    """Set by a source when the same event may come from another source too; equal keys merge."""

    @field_validator("activity")
    @classmethod
    def _known_activity(cls, value: str) -> str:
        if value not in codebook().id_sets["activity"]:
            raise ValueError(f"unknown activity {value!r}; expected one of {', '.join(codebook().activity_ids)}")
        return value

    @field_validator("sub_activities")
    @classmethod
    def _known_sub_activities(cls, value: list[str]) -> list[str]:
        known = codebook().id_sets["sub_activity"]
        for item in value:
            if item not in known:
                raise ValueError(
                    f"unknown sub-activity {item!r}; expected one of {', '.join(codebook().sub_activity_ids)}")
        return sorted(set(value))

    @field_validator("instrument")
    @classmethod
    def _known_instrument(cls, value: str) -> str:
        if value not in codebook().id_sets["instrument"]:
            raise ValueError(f"unknown instrument {value!r}; expected one of {', '.join(codebook().instrument_ids)}")
        return value

    @field_validator("start_year", "end_year")
    @classmethod
    def _no_year_zero(cls, value: int | None) -> int | None:
        return None if value is None else dates.check_year(value)

    @model_validator(mode="after")
    def _dates_in_order(self) -> Engagement:
        try:
            dates.check_month_day(self.start_year, self.start_month, self.start_day)
        except ValueError as exc:
            raise ValueError(f"start_year: {exc}") from None
        if self.end_year is not None:
            try:
                dates.check_month_day(self.end_year, self.end_month, self.end_day)
            except ValueError as exc:
                raise ValueError(f"end_year: {exc}") from None
            # compare at the precision both dates share: 14 May to "May" is not backwards
            both_months = self.start_month is not None and self.end_month is not None
            both_days = both_months and self.start_day is not None and self.end_day is not None
            start = dates.sort_key(self.start_year, self.start_month if both_months else None,
                                   self.start_day if both_days else None)
            end = dates.sort_key(self.end_year, self.end_month if both_months else None,
                                 self.end_day if both_days else None)
            if end < start:
                raise ValueError(
                    f"end_year: end ({dates.format_year(self.end_year)}) is before start "
                    f"({dates.format_year(self.start_year)})"
                )
        return self

    @property
    def sources(self) -> list[str]:
        return sorted({p.source for p in self.provenance})

    @property
    def citations(self) -> list[str]:
        return sorted({key for p in self.provenance for key in p.citations})

    def as_record(self) -> dict[str, Any]:
        """The flat JSON shape used by `genealogy --format json`, exports and the API."""
        data = self.model_dump(mode="json")
        data["participants"] = [
            {k: v for k, v in p.items() if v not in (None, {}) or k in ("id", "name", "role")}
            for p in data["participants"]
        ]
        data["sources"] = self.citations
        data["datasets"] = self.sources
        return data


def first_error_field(exc: ValidationError) -> tuple[str, str]:
    """The dotted field path and message of a pydantic error, for RecordError."""
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if not loc and ": " in msg:  # whole-record checks put the field first
        loc, msg = msg.split(": ", 1)
    return loc, msg


def make_engagement(data: dict[str, Any], file: str, record: str | int) -> Engagement:
    """Validate ``data`` as an Engagement or raise RecordError naming file, record and field."""
    try:
        return Engagement.model_validate(data)
    except ValidationError as exc:
        loc, msg = first_error_field(exc)
        raise RecordError(file, record, loc or None, msg) from None
