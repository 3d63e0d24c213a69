"""Errors defdip raises for bad input: each names what was wrong and where."""


class DefdipError(Exception):
    """Base class for errors shown to users as one clear line."""


class RecordError(DefdipError):
    """A record that cannot be accepted, located by file, record and field."""

    def __init__(self, file: str, record: str | int | None, field: str | None, message: str):
        self.file = str(file)
        self.record = record
        self.field = field
        self.message = message
        where = self.file
        if record is not None:
            where += f", record {record}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class SourceFormatError(DefdipError):
    """A source file that does not have the layout its source module expects."""


class StoreError(DefdipError):
    """The store is missing, stale or lacks a table a command needs."""
