"""The storage layer's exceptions: every one is a ``StorageError``, so callers can catch the family."""

from __future__ import annotations

import re
import struct


class StorageError(Exception):
    """Base class of everything the storage layer raises on purpose."""


class StorageUnavailableError(StorageError):
    """The database cannot be opened or reached (embedded path locked, server down, bad URL)."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date safely (e.g. an applied migration file was edited)."""


class WriteError(StorageError):
    """A batch was not durably written and rolled up; commit nothing.

    ``stage`` says how far it got: ``"insert"`` (the rows may or may not be stored: the retry's dedup token
    makes that safe) or ``"rollup"`` (the rows are stored, the rollups of their minutes are not yet refreshed).
    ``permanent``: the database refused the data itself (see :func:`is_permanent`): retrying the same rows will
    fail the same way, so the caller splits the batch to find the rows to dead-letter. Otherwise (server down, disk
    full, too many parts, timeouts) retry the SAME batch with the SAME dedup token until it works.
    """

    def __init__(self, message: str, stage: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.stage = stage
        self.permanent = permanent


class ReadOnlyViolation(StorageError):  # noqa: N818 - reads as what happened; the family name says "error"
    """A statement given to the read-only query path is not a single read-only statement."""


class QueryError(StorageError):
    """ClickHouse rejected a read-only query (syntax, unknown table, readonly refusal, timeout); message is its own."""


# ClickHouse error codes that mean "this data cannot be stored as it is", whatever the server's state.
PERMANENT_CODES = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        38,  # CANNOT_PARSE_DATE
        41,  # CANNOT_PARSE_DATETIME
        53,  # TYPE_MISMATCH
        69,  # ARGUMENT_OUT_OF_BOUND
        70,  # CANNOT_CONVERT_TYPE
        72,  # CANNOT_PARSE_NUMBER
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        190,  # SIZES_OF_ARRAYS_DONT_MATCH
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
    }
)
_TOO_MANY_PARTS = 252  # permanent only as "too many partitions for single INSERT block"; "too many parts" waits
_CODE = re.compile(r"Code: (\d+)\.")


def clickhouse_code(exc: BaseException) -> int | None:
    """The ClickHouse error code of ``exc`` (clickhouse-connect sets ``code`` for chDB; the HTTP driver only
    writes it into the message)."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    match = _CODE.search(str(exc))
    return int(match.group(1)) if match else None


def is_permanent(exc: BaseException) -> bool:
    """Whether an insert failed because of the rows themselves, so that retrying them can never succeed.

    Looks through the exception chain. Any ``OSError`` (disk full, file too large, connection refused) makes it
    transient even if a data error is also in the chain: the operator can fix those. Values our serializer cannot
    encode (``ValueError``/``OverflowError``/``TypeError``/``struct.error`` before the request is sent) are permanent.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(e, OSError) for e in chain):
        return False
    for e in chain:
        code = clickhouse_code(e)
        if code in PERMANENT_CODES:
            return True
        if code == _TOO_MANY_PARTS and "partitions for single insert block" in str(e).lower():
            return True
        if code is not None:
            return False
    return any(isinstance(e, ValueError | OverflowError | TypeError | struct.error) for e in chain)
