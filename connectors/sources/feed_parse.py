"""RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 documents to plain entries, with the standard library only. No I/O.

:func:`parse_feed` returns the feed's entries, each either a :class:`FeedEntry` or an :class:`EntryError` (with the
entry's XML for the dead-letter queue), or raises :class:`FeedError` when the document as a whole is unusable.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connectors.sources.common import from_iso, looks_like_html
from connectors.sources.html_text import html_to_text

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
SLASH = "{http://purl.org/rss/1.0/modules/slash/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
RSS1 = "{http://purl.org/rss/1.0/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class FeedError(Exception):
    """The body is no feed; ``reason`` is ``html_error_page``, ``not_xml`` or ``not_a_feed``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class FeedEntry:
    native_id: str
    """``guid`` / Atom ``id``; a hash of the link when the feed gives none."""
    title: str
    text: str
    """Title and body as plain text."""
    link: str | None
    author: str | None
    published: datetime | None
    lang: str | None
    comments: int | None


@dataclass(frozen=True, slots=True)
class EntryError:
    reason: str
    detail: str
    xml: bytes
    native_id: str | None


def parse_feed(body: bytes) -> tuple[str | None, list[FeedEntry | EntryError]]:
    """The feed's title and its entries in document order."""
    if looks_like_html(body):
        raise FeedError("html_error_page", "HTML page where a feed was expected")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise FeedError("not_xml", f"XML parse error: {error}") from None
    if root.tag == "rss":
        channel = root.find("channel")
        if channel is None:
            raise FeedError("not_a_feed", "rss without channel")
        return _text(channel, "title"), [_rss_item(i, _lang(channel)) for i in channel.findall("item")]
    if root.tag == f"{RDF}RDF":
        channel = root.find(f"{RSS1}channel")
        title = None if channel is None else _text(channel, f"{RSS1}title")
        return title, [_rss_item(i, None, ns=RSS1) for i in root.findall(f"{RSS1}item")]
    if root.tag == f"{ATOM}feed":
        feed_author = _text(root, f"{ATOM}author/{ATOM}name")
        lang = root.get(XML_LANG)
        return _text(root, f"{ATOM}title"), [_atom_entry(e, feed_author, lang) for e in root.findall(f"{ATOM}entry")]
    raise FeedError("not_a_feed", f"root element {root.tag!r} is not rss, rdf:RDF or atom:feed")


def _rss_item(item: ET.Element, lang: str | None, ns: str = "") -> FeedEntry | EntryError:
    link = _text(item, f"{ns}link")
    native = _text(item, "guid") or item.get(f"{RDF}about") or (_link_hash(link) if link else None)
    if native is None:
        return _error(item, "missing_field", "item has neither guid nor link", None)
    title = _text(item, f"{ns}title") or ""
    body = _text(item, f"{CONTENT}encoded") or _text(item, f"{ns}description") or ""
    when = _text(item, "pubDate")
    iso_when = _text(item, f"{DC}date")
    try:
        published = _rfc822(when) if when else from_iso(iso_when) if iso_when else None
    except (TypeError, ValueError, IndexError):
        return _error(item, "bad_value", f"unreadable date {when or iso_when!r}", native)
    author = _text(item, f"{DC}creator") or _text(item, "author")
    comments = _int(_text(item, f"{SLASH}comments"))
    return _entry(native, title, html_to_text(body), link, author, published, lang, comments)


def _atom_entry(entry: ET.Element, feed_author: str | None, feed_lang: str | None) -> FeedEntry | EntryError:
    link = _atom_link(entry)
    native = _text(entry, f"{ATOM}id") or (_link_hash(link) if link else None)
    if native is None:
        return _error(entry, "missing_field", "entry has neither id nor link", None)
    when = _text(entry, f"{ATOM}published") or _text(entry, f"{ATOM}updated")
    try:
        published = from_iso(when) if when else None
    except ValueError:
        return _error(entry, "bad_value", f"unreadable date {when!r}", native)
    content = entry.find(f"{ATOM}content")
    if content is None:
        content = entry.find(f"{ATOM}summary")
    title_el = entry.find(f"{ATOM}title")
    title = "" if title_el is None else _atom_text(title_el)
    body = "" if content is None else _atom_text(content)
    author = _text(entry, f"{ATOM}author/{ATOM}name") or feed_author
    lang = entry.get(XML_LANG) or feed_lang
    return _entry(native, title, body, link, author, published, lang, None)


def _entry(
    native: str,
    title: str,
    body: str,
    link: str | None,
    author: str | None,
    published: datetime | None,
    lang: str | None,
    comments: int | None,
) -> FeedEntry:
    title = html_to_text(title) if "<" in title or "&" in title else title.strip()
    text = f"{title}\n\n{body}" if title and body else title or body
    primary = lang.split("-")[0].split("_")[0].strip().lower() if lang else None
    return FeedEntry(native, title, text, link, author, published, primary or None, comments)


def _atom_text(element: ET.Element) -> str:
    kind = element.get("type", "text")
    if kind == "xhtml":
        return html_to_text(ET.tostring(element, encoding="unicode"))
    if kind == "html":
        return html_to_text(element.text or "")
    return (element.text or "").strip()


def _atom_link(entry: ET.Element) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return None


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _lang(channel: ET.Element) -> str | None:
    return _text(channel, "language")


def _rfc822(value: str) -> datetime:
    parsed = parsedate_to_datetime(value)
    # "-0000" means UTC with unknown local zone (RFC 5322); Python returns it naive.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _int(value: str | None) -> int | None:
    try:
        return max(int(value), 0) if value is not None else None
    except ValueError:
        return None


def _link_hash(link: str) -> str:
    return "urlhash:" + hashlib.blake2b(link.encode(), digest_size=12).hexdigest()


def _error(element: ET.Element, reason: str, detail: str, native: str | None) -> EntryError:
    return EntryError(reason, detail, ET.tostring(element, encoding="utf-8"), native)
