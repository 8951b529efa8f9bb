"""The storage layer's exceptions: every one is a ``StorageError``, so callers can catch the family."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of everything the storage layer raises on purpose."""


class StorageUnavailableError(StorageError):
    """The database cannot be opened or reached (embedded path locked, server down, bad URL)."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date safely (e.g. an applied migration file was edited)."""


class WriteError(StorageError):
    """A batch was not durably written and rolled up; retry the same batch (same dedup token), commit nothing.

    ``stage`` says how far it got: ``"insert"`` (the rows may or may not be stored: the retry's dedup token
    makes that safe) or ``"rollup"`` (the rows are stored, the rollups of their minutes are not yet refreshed).
    """

    def __init__(self, message: str, stage: str) -> None:
        super().__init__(message)
        self.stage = stage


class ReadOnlyViolation(StorageError):  # noqa: N818 - reads as what happened; the family name says "error"
    """A statement given to the read-only query path is not a single read-only statement."""


class QueryError(StorageError):
    """ClickHouse rejected a read-only query (syntax, unknown table, readonly refusal, timeout); message is its own."""
