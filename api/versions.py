"""Optimistic concurrency over HTTP: every talent, demand entry and enterprise has a version,
sent as a strong ``ETag`` ("3"); a write with ``If-Match`` changes only that version (412
otherwise). Without ``If-Match`` a PATCH still never loses a concurrent change: the service
merges it into the newest record (``MatchService.save``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response

from matcher.core.errors import PreconditionFailed

IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=200,
    description="上次读取时响应头 ETag 的值；记录此后被改过则返回 412，不做修改")]


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names; None for none or ``*``. A tag that cannot be a version of
    this record can never match: 412, as RFC 9110 says for any unmatched If-Match."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    if not tag.isascii() or not tag.isdigit() or len(tag) > 12:
        raise PreconditionFailed("If-Match 不是本记录的 ETag（应为响应头 ETag 的原值，如 \"3\"）")
    return int(tag)


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


class Versioned:
    """A record source (``svc.get``) that remembers the version of the last record it read, so a
    route's access check and its ETag come from one read."""

    def __init__(self, svc: Any) -> None:
        self._svc = svc
        self.version = 0

    def get(self, kind: str, record_id: int) -> Any:
        model, self.version = self._svc.get_versioned(kind, record_id)
        return model
