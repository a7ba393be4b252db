"""Limits on failed authentication: per client address and per key prefix.

Policy (one object per app, shared by the API's key check and the web sign-in form):

- Only *failed* attempts count: a presented key that is malformed, unknown, revoked or wrong.
  A request without any key is not an attempt and is not counted.
- Each failure counts against the client (its address; IPv6 grouped by /64, since one host
  usually holds a whole /64) and, when the key is well formed, against its 8-character prefix
  (``tm_<prefix>_…``), which catches one key guessed from many addresses.
- Before a key is checked, a client or prefix over its limit is refused with the time until its
  oldest counted failure leaves the window (moving window). It is refused even when the key is
  right: answering a correct guess would leave the limit useless against guessing. So a client
  that keeps failing locks out only itself, and a prefix stays locked while someone keeps failing
  on it (the price of knowing a key's prefix, which only its holder and administrators see;
  random prefixes almost never name a real key); every other key, from any other client, keeps
  working.
- Check and record are separate calls, so a burst of concurrent requests may overshoot a limit by
  the number in flight.
- The counters live in ``memory://`` (one process) or a shared store such as Redis
  (``TALENTMATCH_RATELIMIT_STORAGE_URL`` or ``TALENTMATCH_REDIS_URL``), needed when several
  workers or hosts serve the API. If that store is unreachable the limiter fails open, logs, and
  leaves the store alone for a few seconds: a limiter outage must not take authentication down
  with it, nor slow every request down.

Built on the ``limits`` library (imported when a throttle is made, to keep CLI start-up fast).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from matcher.domain.auth import parse_key

if TYPE_CHECKING:
    from matcher.core.settings import Settings

log = logging.getLogger("talentmatch.ratelimit")

DEFAULT_PER_CLIENT = "10/minute"
DEFAULT_PER_KEY = "10/minute"
RETRY_STORAGE_AFTER = 5.0  # seconds without limiting after the store failed, before trying it again


def client_id(host: str | None) -> str:
    """The identity a client's failures count against: its address, an IPv6 address by /64."""
    if not host:
        return "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class AuthThrottle:
    """Failed-authentication limits per client and per key prefix (see the module docstring).

    ``per_client`` and ``per_key`` use the ``limits`` notation, several limits separated by
    ``;`` (``"10/minute;100/hour"``); an empty string turns that limit off.
    """

    def __init__(self, storage_url: str = "memory://", per_client: str = DEFAULT_PER_CLIENT,
                 per_key: str = DEFAULT_PER_KEY, namespace: str = "talentmatch") -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        def items(value: str, setting: str, scope: str) -> list[Any]:
            if not value.strip():
                return []
            try:
                parsed = parse_many(value)
            except ValueError:
                raise ValueError(f"TALENTMATCH_{setting.upper()} ({setting}) is not a rate limit such as "
                                 f"'10/minute' or '10/minute;100/hour': {value!r}") from None
            return [type(i)(i.amount, i.multiples, namespace=f"{namespace}:auth-fail:{scope}") for i in parsed]

        self.per_client = items(per_client, "auth_failures_per_ip", "client")
        self.per_key = items(per_key, "auth_failures_per_key", "key")
        options: dict[str, Any] = {"wrap_exceptions": True}
        if storage_url.split(":", 1)[0] in ("redis", "rediss"):
            # a store that does not answer must not hold requests for long (see _unavailable)
            options.update(socket_connect_timeout=1.0, socket_timeout=1.0)
        self.storage = storage_from_string(storage_url, **options)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self._lock = threading.Lock()
        self._last_warning = 0.0
        self._down_until = 0.0  # after a storage error, skip the store for a while (fail open fast)

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthThrottle:
        return cls(settings.ratelimit_storage(), settings.auth_failures_per_ip, settings.auth_failures_per_key,
                   settings.ratelimit_namespace)

    def _checks(self, client: str | None, key: str) -> list[tuple[Any, str]]:
        checks = [(item, client_id(client)) for item in self.per_client]
        prefix = parse_key(key)
        if prefix is not None:
            checks += [(item, prefix) for item in self.per_key]
        return checks

    def retry_after(self, client: str | None, key: str) -> int | None:
        """Seconds until ``client`` may try ``key`` again, or None if it may try now."""
        from limits.errors import StorageError

        if self._down():
            return None
        blocked, wait = False, 0.0
        try:
            for item, ident in self._checks(client, key):
                if not self.limiter.test(item, ident):
                    blocked = True
                    reset = self.limiter.get_window_stats(item, ident).reset_time
                    wait = max(wait, reset - time.time())
        except StorageError as exc:
            self._unavailable(exc)
            return None
        return max(1, math.ceil(wait)) if blocked else None

    def failed(self, client: str | None, key: str) -> None:
        """Count one failed attempt with ``key`` from ``client``."""
        from limits.errors import StorageError

        if self._down():
            return
        try:
            for item, ident in self._checks(client, key):
                self.limiter.hit(item, ident)
        except StorageError as exc:
            self._unavailable(exc)

    def _down(self) -> bool:
        return time.monotonic() < self._down_until

    def _unavailable(self, exc: Exception) -> None:
        with self._lock:  # one warning a minute, not one per request
            now = time.monotonic()
            self._down_until = now + RETRY_STORAGE_AFTER
            if now - self._last_warning < 60 and self._last_warning:
                return
            self._last_warning = now
        log.warning("rate-limit storage unavailable, failed sign-ins are not being limited: %s", exc)


def throttle_of(app: Any) -> AuthThrottle:
    """The app's throttle (``app.state.auth_throttle``), made from the environment if missing."""
    found = getattr(app.state, "auth_throttle", None)
    if found is None:
        from matcher.core.settings import load_settings

        found = app.state.auth_throttle = AuthThrottle.from_settings(load_settings())
    return found
