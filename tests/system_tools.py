"""Real system tools the suite drives (Debian's chromium, promtool), found or explained.

``make test`` installs them (target ``system-deps``). A developer without them gets a skip that names the package;
in CI (``CI`` set) a missing tool is a failure, so a green CI always means the check ran.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(binary: str, package: str) -> str:
    """The path of ``binary``; skips the test (fails under CI) when it is missing."""
    path = shutil.which(binary)
    if path is not None:
        return path
    reason = f"{binary} is not installed (Debian package {package}; `make system-deps` installs it)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
