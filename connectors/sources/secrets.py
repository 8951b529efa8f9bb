"""Credentials for sources: read from an environment variable or a secrets file, never from plain options.

Config models name *where* a secret lives (``<secret>_env``, ``<secret>_file``), not the secret itself, so a
connector's options can be logged and committed. Values are held as :class:`pydantic.SecretStr`, whose ``repr``
and ``str`` show ``**********``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr


def read_secret(env_var: str | None, file: Path | None) -> SecretStr | None:
    """The secret from ``file`` (first line, stripped) when given, else from ``env_var``; ``None`` if neither is set.

    A named file that cannot be read is a configuration error (``ValueError``), not a silent fallback.
    """
    if file is not None:
        try:
            value = file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ValueError(f"cannot read secrets file {file}: {error.strerror}") from None
        return SecretStr(value) if value else None
    if env_var:
        value = os.environ.get(env_var, "").strip()
        return SecretStr(value) if value else None
    return None


def require_secret(what: str, env_var: str | None, file: Path | None) -> SecretStr:
    """Like :func:`read_secret`, but a missing secret is a ``ValueError`` naming where it was looked for."""
    secret = read_secret(env_var, file)
    if secret is None:
        where = f"file {file}" if file is not None else f"environment variable {env_var}"
        raise ValueError(f"{what} is not set: expected it in {where}")
    return secret
