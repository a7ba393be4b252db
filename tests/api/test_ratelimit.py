"""Failed sign-ins are limited per client address and per key prefix (API keys and the web form).

Keys are 190 random bits, so the limits are not what makes guessing hopeless; they keep a
flood of wrong keys (300 in under a second before) from costing a database look-up each and
from probing at full speed, and they must never lock out valid keys used from elsewhere.
"""

from __future__ import annotations

import socket
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from matcher.core.settings import Settings
from matcher.domain.auth import new_key
from matcher.domain.ratelimit import AuthThrottle, client_id

PROBLEM = "application/problem+json"
ATTACKER = ("203.0.113.7", 40000)
VICTIM = ("198.51.100.20", 40001)


def wrong_key(prefix: str | None = None) -> str:
    """A well-formed key that matches nothing (random prefix unless given)."""
    key, random_prefix, _ = new_key()
    return f"tm_{prefix or random_prefix}_{key[-32:]}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def app_keys(service, settings):
    """An app with the default limits and two valid keys, its lifespan running."""
    keys = {"admin": service.store.create_key("admin")[0], "seeker": service.store.create_key("seeker")[0]}
    app = create_app(settings, service)
    with TestClient(app, client=VICTIM):
        yield app, keys


def assert_429(r) -> int:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == 429 and body["title"] and body["type"].endswith("/429")
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60
    assert f"请 {wait} 秒后再试" in body["detail"] and "尝试次数过多" in body["detail"]
    return wait


# -- the policy object -------------------------------------------------------------------------


def test_policy_counts_failures_per_client_and_per_prefix():
    t = AuthThrottle(per_client="3/minute", per_key="5/minute")
    key = wrong_key("AAAAAAAA")
    for _ in range(3):
        assert t.retry_after("10.0.0.1", key) is None
        t.failed("10.0.0.1", key)
    wait = t.retry_after("10.0.0.1", wrong_key())  # any key from that client
    assert wait is not None and 1 <= wait <= 60
    assert t.retry_after("10.0.0.2", wrong_key()) is None  # another client
    t.failed("10.0.0.2", key)
    t.failed("10.0.0.3", key)  # 5 failures on the prefix from three clients
    assert t.retry_after("10.0.0.4", key) is not None
    assert t.retry_after("10.0.0.4", wrong_key("BBBBBBBB")) is None
    t.failed("10.0.0.5", "not-a-key")  # no prefix: counted per client only
    assert t.retry_after("10.0.0.5", "not-a-key") is None


def test_policy_window_passes():
    t = AuthThrottle(per_client="2/second", per_key="2/second")
    t.failed("10.0.0.1", wrong_key())
    t.failed("10.0.0.1", wrong_key())
    assert t.retry_after("10.0.0.1", wrong_key()) == 1
    time.sleep(1.1)
    assert t.retry_after("10.0.0.1", wrong_key()) is None


def test_policy_rejects_a_bad_limit_and_allows_off():
    with pytest.raises(ValueError, match="auth_failures_per_ip"):
        AuthThrottle(per_client="ten a minute")
    t = AuthThrottle(per_client="", per_key="")  # empty: that limit is off
    for _ in range(50):
        t.failed("10.0.0.1", wrong_key("AAAAAAAA"))
    assert t.retry_after("10.0.0.1", wrong_key("AAAAAAAA")) is None


def test_client_id_groups_ipv6_by_64_and_unwraps_mapped_ipv4():
    assert client_id("2001:db8:1:2:aaaa::1") == client_id("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_id("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_id("192.0.2.1") == "192.0.2.1"
    assert client_id(None) == "unknown" and client_id("testclient") == "testclient"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("TALENTMATCH_AUTH_FAILURES_PER_IP", "20/minute;200/hour")
    monkeypatch.setenv("TALENTMATCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    s = Settings()
    assert s.auth_failures_per_ip == "20/minute;200/hour" and s.auth_failures_per_key == "10/minute"
    assert s.ratelimit_storage() == "redis://127.0.0.1:6379/3"
    assert Settings(ratelimit_storage_url="memory://").ratelimit_storage() == "memory://"
    monkeypatch.delenv("TALENTMATCH_REDIS_URL")
    assert Settings().ratelimit_storage() == "memory://"


# -- the API -----------------------------------------------------------------------------------


def test_api_flood_of_wrong_keys_gets_429_with_retry_after(app_keys):
    app, keys = app_keys
    attacker = TestClient(app, client=ATTACKER)
    statuses = []
    for i in range(300):
        h = bearer(wrong_key()) if i % 2 else {"X-API-Key": wrong_key()}  # both ways of passing a key
        r = attacker.get("/v1/me", headers=h)
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert_429(r)
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429] * 290
    # the blocked client is refused even with a valid key until the window passes (otherwise the
    # limit would still tell a guesser when a guess is right) ...
    assert_429(attacker.get("/v1/me", headers=bearer(keys["admin"])))
    # ... while valid keys from other clients keep working
    victim = TestClient(app, client=VICTIM)
    assert victim.get("/v1/me", headers=bearer(keys["admin"])).status_code == 200
    assert victim.get("/v1/me", headers=bearer(keys["seeker"])).status_code == 200


def test_api_blocked_client_gets_in_again_after_the_window(service, settings):
    key = service.store.create_key("admin")[0]
    app = create_app(settings.model_copy(update={"auth_failures_per_ip": "3/second"}), service)
    with TestClient(app, client=ATTACKER) as c:
        assert [c.get("/v1/me", headers=bearer(wrong_key())).status_code for _ in range(5)] == [401] * 3 + [429] * 2
        assert c.get("/v1/me", headers=bearer(key)).status_code == 429
        time.sleep(1.1)
        assert c.get("/v1/me", headers=bearer(key)).status_code == 200


def test_api_forwarded_headers_do_not_change_the_client(app_keys):
    """X-Forwarded-For is uvicorn's to apply (from trusted proxies only), never read by the app."""
    app, _ = app_keys
    c = TestClient(app, client=ATTACKER)
    codes = [c.get("/v1/me", headers={**bearer(wrong_key()), "X-Forwarded-For": f"192.0.2.{i}",
                                      "X-Real-IP": f"192.0.2.{i}"}).status_code for i in range(12)]
    assert codes == [401] * 10 + [429] * 2


def test_api_missing_keys_are_not_counted(app_keys):
    app, keys = app_keys
    c = TestClient(app, client=ATTACKER)
    assert {c.get("/v1/me").status_code for _ in range(30)} == {401}
    assert c.get("/v1/me", headers=bearer(keys["admin"])).status_code == 200


def test_api_per_prefix_limit_across_clients(app_keys):
    app, keys = app_keys
    victim_prefix = keys["seeker"].split("_")[1]
    for i in range(10):  # 10 clients, one wrong secret each, all on the seeker's prefix
        r = TestClient(app, client=(f"192.0.2.{i + 1}", 5000)).get("/v1/me", headers=bearer(wrong_key(victim_prefix)))
        assert r.status_code == 401
    fresh = TestClient(app, client=("192.0.2.100", 5000))
    assert_429(fresh.get("/v1/me", headers=bearer(wrong_key(victim_prefix))))
    # a prefix under attack is locked for its window, even with the right secret (documented policy)
    assert_429(fresh.get("/v1/me", headers=bearer(keys["seeker"])))
    # other keys are untouched, from the same client too
    assert fresh.get("/v1/me", headers=bearer(keys["admin"])).status_code == 200


def test_api_valid_keys_work_while_another_client_hammers_random_prefixes(app_keys):
    app, keys = app_keys
    attacker, victim = TestClient(app, client=ATTACKER), TestClient(app, client=VICTIM)
    for i in range(100):
        attacker.get("/v1/demands", headers=bearer(wrong_key()))
        if i % 10 == 0:
            assert victim.get("/v1/me", headers=bearer(keys["seeker"])).status_code == 200
    assert_429(attacker.get("/v1/demands", headers=bearer(wrong_key())))
    assert victim.get("/v1/demands", headers=bearer(keys["admin"])).status_code == 200


def test_limiter_state_is_per_app(service, settings):
    a, b = create_app(settings, service), create_app(settings, service)
    assert a.state.auth_throttle is not b.state.auth_throttle
    with TestClient(a, client=ATTACKER) as ca:
        for _ in range(11):
            ca.get("/v1/me", headers=bearer(wrong_key()))
        assert ca.get("/v1/me", headers=bearer(wrong_key())).status_code == 429
    with TestClient(b, client=ATTACKER) as cb:
        assert cb.get("/v1/me", headers=bearer(wrong_key())).status_code == 401


def test_unreachable_storage_fails_open(service, settings, caplog):
    """A limiter store that is down must not take authentication down with it (and says so)."""
    with socket.socket() as s:  # a loopback port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    key = service.store.create_key("admin")[0]
    app = create_app(settings.model_copy(update={"ratelimit_storage_url": f"redis://127.0.0.1:{port}/0"}), service)
    with TestClient(app, client=ATTACKER) as c:
        started = time.monotonic()
        assert c.get("/v1/me", headers=bearer(wrong_key())).status_code == 401
        assert c.get("/v1/me", headers=bearer(key)).status_code == 200
        assert time.monotonic() - started < 10
    assert "rate-limit storage unavailable" in caplog.text


# -- the web sign-in form ----------------------------------------------------------------------


def test_web_login_gives_429_after_the_limit(app_keys):
    app, keys = app_keys
    attacker = TestClient(app, client=ATTACKER, follow_redirects=False)
    statuses = []
    for _ in range(12):
        r = attacker.post("/login", data={"key": wrong_key(), "next": ""})
        statuses.append(r.status_code)
    assert statuses == [401] * 10 + [429] * 2
    assert r.headers["content-type"].startswith("text/html")
    wait = int(r.headers["retry-after"])
    assert 1 <= wait <= 60 and f"尝试次数过多，请 {wait} 秒后再试" in r.text
    assert "tm_session" not in r.headers.get("set-cookie", "")
    r = attacker.post("/login", data={"key": keys["seeker"]})
    assert r.status_code == 429  # the blocked client, even with a valid key
    # the API shares the counters: the client is blocked there too
    assert_429(attacker.get("/v1/me", headers=bearer(wrong_key())))
    victim = TestClient(app, client=VICTIM, follow_redirects=False)
    r = victim.post("/login", data={"key": keys["seeker"]})
    assert r.status_code == 303 and "tm_session" in r.headers["set-cookie"]


def test_web_login_failures_count_per_prefix(app_keys):
    app, keys = app_keys
    prefix = keys["seeker"].split("_")[1]
    for i in range(10):
        c = TestClient(app, client=(f"192.0.2.{i + 1}", 5000), follow_redirects=False)
        assert c.post("/login", data={"key": wrong_key(prefix)}).status_code == 401
    c = TestClient(app, client=("192.0.2.200", 5000), follow_redirects=False)
    assert c.post("/login", data={"key": keys["seeker"]}).status_code == 429
    assert c.post("/login", data={"key": keys["admin"]}).status_code == 303


# -- Redis storage -----------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379 (CI has one)")
def test_redis_storage_is_shared_between_apps(service, settings):
    """Two workers (two apps) on one Redis see the same failures; keys live under a namespace."""
    import redis

    namespace = f"tm-test-{uuid.uuid4().hex[:12]}"
    s = settings.model_copy(update={"redis_url": REDIS_URL, "ratelimit_namespace": namespace})
    key = service.store.create_key("admin")[0]
    one, two = create_app(s, service), create_app(s, service)
    r = redis.Redis.from_url(REDIS_URL)
    try:
        with TestClient(one, client=ATTACKER) as c1:
            assert [c1.get("/v1/me", headers=bearer(wrong_key())).status_code for _ in range(10)] == [401] * 10
        assert r.keys(f"*{namespace}*"), "the failures were not written to Redis"
        with TestClient(two, client=ATTACKER) as c2:
            assert_429(c2.get("/v1/me", headers=bearer(wrong_key())))
            assert_429(c2.get("/v1/me", headers=bearer(key)))
        with TestClient(two, client=VICTIM) as c3:
            assert c3.get("/v1/me", headers=bearer(key)).status_code == 200
    finally:
        stale = r.keys(f"*{namespace}*")
        if stale:
            r.delete(*stale)
        r.close()

