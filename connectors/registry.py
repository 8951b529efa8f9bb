"""Source names → connector modules, imported only when asked for (a source's dependencies load with it).

Each module ``connectors.sources.<source>`` exposes ``SOURCE`` and ``build(name, options) -> Connector``
(see :mod:`connectors.sources`).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from connectors.base import Connector

SOURCES = (
    "hackernews",
    "rss",
    "discourse",
    "reddit",
    "mastodon",
    "bluesky",
    "x",
    "youtube",
    "webhook",
    "replay",
    "demo",
)
"""Every source luister knows, in the order ``luister connect --help`` lists them."""


class SourceError(ValueError):
    """An unknown source, one not available in this build, or options its ``build`` refused."""


def source_module(source: str) -> ModuleType:
    """The module of ``source``; raises :class:`SourceError` with a message fit for the command line."""
    if source not in SOURCES:
        raise SourceError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}")
    module_name = f"connectors.sources.{source}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise SourceError(f"source {source!r} is not available in this build") from None
        raise SourceError(f"source {source!r} needs the package {error.name!r}, which is not installed") from error
    if getattr(module, "SOURCE", None) != source or not callable(getattr(module, "build", None)):
        raise SourceError(f"{module_name} does not expose SOURCE = {source!r} and build(name, options)")
    return module


def available_sources() -> list[str]:
    """The known sources whose module can be imported here."""
    out = []
    for source in SOURCES:
        try:
            source_module(source)
        except SourceError:
            continue
        out.append(source)
    return out


def build_connector(source: str, name: str | None = None, options: Mapping[str, Any] | None = None) -> Connector:
    """A configured connector of ``source`` named ``name`` (default: the source's name)."""
    module = source_module(source)
    try:
        connector = module.build(name or source, dict(options or {}))
    except ValueError as error:  # pydantic's ValidationError is a ValueError
        raise SourceError(f"{source} {name or source}: {error}") from error
    if not isinstance(connector, Connector):
        raise SourceError(f"connectors.sources.{source}.build returned {type(connector).__name__}, not a Connector")
    return connector
