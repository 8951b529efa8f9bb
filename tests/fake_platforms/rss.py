"""RSS 2.0 / Atom documents as real feeds publish them, and a feed that answers conditional GETs."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from fakeapi import Reply


def rfc822(at: datetime) -> str:
    return at.strftime("%a, %d %b %Y %H:%M:%S +0000")


def rss_doc(items: list[str], language: str = "nl-NL") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:slash="http://purl.org/rss/1.0/modules/slash/">'
        f"<channel><title>Fietsblog</title><link>https://blog.example/</link><language>{language}</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def rss_item(n: int, at: datetime | None, **parts: str) -> str:
    fields = {
        "title": f"Acme fiets {n}",
        "link": f"https://blog.example/{n}",
        "guid": f"https://blog.example/?p={n}",
        "description": f"<![CDATA[<p>Review <b>{n}</b> &amp; more</p>]]>",
        "dc:creator": "Anna",
        **({"pubDate": rfc822(at)} if at else {}),
        **parts,
    }
    return "<item>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if v != "-") + "</item>"


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Acme News</title><id>urn:uuid:feed</id><updated>2026-11-03T11:00:00Z</updated>
  <author><name>Redaktion</name></author>
  <entry>
    <title type="html">Acme &lt;em&gt;rocks&lt;/em&gt;</title>
    <link rel="alternate" href="https://news.example/a1"/><link rel="edit" href="https://news.example/edit/a1"/>
    <id>tag:news.example,2026:a1</id>
    <published>2026-11-03T11:30:00+01:00</published><updated>2026-11-03T11:45:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
      <p>Das <strong>Rad</strong> ist gut.</p></div></content>
  </entry>
  <entry>
    <title>Zweiter</title><link href="https://news.example/a2"/><id>tag:news.example,2026:a2</id>
    <updated>2026-11-03T11:50:00Z</updated><author><name>Jo</name></author>
    <summary>Kurz &amp; knapp</summary>
  </entry>
</feed>"""


class ConditionalFeed:
    """Answers 304 when the client's validators match the current document, else the document and validators."""

    def __init__(self, body: bytes) -> None:
        self.body, self.version = body, 1

    def update(self, body: bytes) -> None:
        self.body, self.version = body, self.version + 1

    def __call__(self, request: web.Request) -> Reply:
        etag, modified = f'"v{self.version}"', f"Tue, 03 Nov 2026 1{self.version}:00:00 GMT"
        if request.headers.get("If-None-Match") == etag or request.headers.get("If-Modified-Since") == modified:
            return Reply(304, b"")
        return Reply(200, self.body, {"ETag": etag, "Last-Modified": modified}, content_type="application/rss+xml")
