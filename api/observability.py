"""Request ids, metrics and JSON logs.

- Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token, else a new one.
  It is echoed in the response header, carried by every log line of the request and written in
  problem responses' bodies (``request_id``), so a user's error report finds the log lines.
- ``/metrics`` (Prometheus text format): requests and latencies per route template (never the
  raw path), and, read when scraped, index sizes, records in the database, whether each side's
  index is in step and how many changes from other processes were applied.
- Logs are JSON lines (``JsonFormatter``; ``talentmatch serve`` installs it). The access line
  names the route template, status and duration: no path parameters, no query string, no body,
  so no personal data (a profile's name or phone never reaches a log).
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["JsonFormatter", "RequestContext", "current_request_id", "install_observability"]

REQUEST_ID: ContextVar[str | None] = ContextVar("talentmatch_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
access_log = logging.getLogger("talentmatch.access")


def current_request_id() -> str | None:
    return REQUEST_ID.get()


class Metrics:
    """The app's own registry (several apps in one process, as in tests, do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("talentmatch_http_requests", "HTTP requests by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("talentmatch_http_request_duration_seconds", "HTTP request duration",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))


class ServiceCollector:
    """Gauges read from the live service when scraped."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self):  # type: ignore[no-untyped-def]
        svc = getattr(self.app.state, "service", None)
        if svc is None:
            return
        indexed = GaugeMetricFamily("talentmatch_index_records", "Records in the loaded index", labels=["side"])
        stored = GaugeMetricFamily("talentmatch_database_searchable_records", "Searchable records in the database",
                                   labels=["side"])
        in_step = GaugeMetricFamily("talentmatch_index_in_step", "1 when the side's index matches the database",
                                    labels=["side"])
        try:
            status = svc.index_status()
        except Exception:  # the database away: no index gauges this scrape
            status = {}
        for side, s in status.items():
            indexed.add_metric([side], s["indexed"])
            stored.add_metric([side], s["database"])
            in_step.add_metric([side], 1.0 if s["in_step"] else 0.0)
        yield indexed
        yield stored
        yield in_step
        jobs = GaugeMetricFamily("talentmatch_jobs", "Jobs by state (queued = the queue depth)", labels=["state"])
        try:
            from matcher.fair.jobs import job_counts

            depth = job_counts(svc)
        except Exception:
            depth = {}
        for state in ("queued", "running", "done", "failed"):
            jobs.add_metric([state], depth.get(state, 0))
        yield jobs
        encoded = CounterMetricFamily("talentmatch_encoder_passages",
                                      "Passages sent to the encoder (not from the embedding cache); rate() is "
                                      "the encoder's throughput")
        encoded.add_metric([], getattr(getattr(svc, "cached", None), "encoded", 0))
        yield encoded
        applied = CounterMetricFamily("talentmatch_index_changes_applied",
                                      "Records re-checked from the change log (other processes' writes)")
        applied.add_metric([], getattr(svc.indexes, "applied", 0))
        yield applied


class RequestContext:
    """Pure ASGI middleware: request id, access log line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                given = value.decode("latin-1")
                break
        request_id = given if _SANE_ID.match(given) else uuid.uuid4().hex
        REQUEST_ID.set(request_id)  # per request: each request runs in its own context
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            if template != "/metrics":
                self.metrics.requests.labels(method, template, str(status)).inc()
                self.metrics.latency.labels(method, template).observe(elapsed)
            access_log.info("request", extra={"http": {"method": method, "route": template, "status": status,
                                                       "ms": round(elapsed * 1000, 1)}})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and ``http`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            out["request_id"] = request_id
        if hasattr(record, "http"):
            out["http"] = record.http
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__  # the type only: a message may quote input
            out["trace"] = "".join(traceback.format_tb(record.exc_info[2]))
        return json.dumps(out, ensure_ascii=False)


def _stamp_request_ids() -> None:
    """Every log record remembers the request it was made in (formatted later, or elsewhere)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    factory.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def install_observability(app: FastAPI) -> None:
    """The request context middleware (add it last: outermost) and ``/metrics``."""
    _stamp_request_ids()
    metrics = Metrics()
    metrics.registry.register(ServiceCollector(app))
    app.state.metrics = metrics

    @app.get("/metrics", tags=["ops"], summary="Prometheus 指标（请只在内网开放）", include_in_schema=True)
    def prometheus_metrics(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(RequestContext, metrics=metrics)
