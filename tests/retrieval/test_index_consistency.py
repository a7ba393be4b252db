"""One truth across processes: each server applies the database's change log to its indexes;
status reports what is saved before any repair; an unreadable token file is rebuilt, not a crash."""

from __future__ import annotations

import logging
import time

import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.storage.changes import GAP_SECONDS, ChangeCursor
from matcher.wiring import build_service
from tests.conftest import demand, run_cli, talent


def _service(db_url, data_dir, fake_encoder=None):
    settings = Settings(data_dir=data_dir, reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url)
    return build_service(settings, encoder=fake_encoder)  # None: the encoder the CLI builds


@pytest.fixture
def pair(db_url, tmp_path, fake_encoder):
    """Two services (two servers: own index directories) on one database."""
    a = _service(db_url, tmp_path / "a", fake_encoder)
    b = _service(db_url, tmp_path / "b", fake_encoder)
    for svc in (a, b):
        svc.ensure_index("demand")
        svc.ensure_index("talent")
    yield a, b
    a.close()
    b.close()


def test_two_services_see_each_others_writes_after_a_poll(pair):
    a, b = pair
    [tid] = a.add("talent", [talent(name="王一", skills=["Python", "Spark"])])
    [did] = b.add("demand", [demand(title="数据分析师")])
    assert not b.index_status()["talent"]["in_step"]  # the truth before the poll
    assert b.indexes.poll() >= 1 and a.indexes.poll() >= 1
    for svc in (a, b):
        status = svc.index_status()
        assert status["talent"]["in_step"] and status["demand"]["in_step"], status
        assert status["talent"]["indexed"] == 1 and status["demand"]["indexed"] == 1
    assert [m.id for m in b.match_demand(did, top_k=5)] == [tid]  # b finds a's talent
    # a change and a delete travel too
    a.update("talent", tid, talent(name="王一", skills=["Java"], city="济南"))
    b.indexes.poll()
    assert b.indexes.ensure("talent").hashes == a.indexes.ensure("talent").hashes
    a.update("talent", tid, talent(name="王一", status="inactive"))  # leaves the searchable set
    b.indexes.poll()
    assert b.index_status()["talent"]["indexed"] == 0 and b.index_status()["talent"]["in_step"]
    a.delete("demand", did)
    b.indexes.poll()
    assert b.index_status()["demand"] == {**b.index_status()["demand"], "indexed": 0, "in_step": True}
    assert b.indexes.poll() == 0  # nothing new


def test_a_following_server_catches_up_without_being_asked(pair):
    a, b = pair
    stop = b.indexes.follow(0.05)
    try:
        ids = a.add("talent", [talent(name=f"人{i}") for i in range(30)])
        deadline = time.monotonic() + 60
        while not b.index_status()["talent"]["in_step"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.index_status()["talent"]["in_step"]
        assert set(b.indexes.ensure("talent").hashes) == set(ids)
    finally:
        stop.set()


def _until(cond, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.05)
    return cond()


def test_on_postgresql_a_notification_wakes_the_other_server(pair, db_url):
    """Polling once an hour: only the NOTIFY of a's write transaction can bring it to b in time."""
    import threading

    a, b = pair
    if not db_url.startswith("postgresql"):
        assert b.store.listen_changes(lambda: None, threading.Event()) is False  # SQLite: polling alone
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite servers poll")
    stop = b.indexes.follow(3600)
    try:
        [first] = a.add("talent", [talent(name="先到者")])
        # b's first read of the log comes after it LISTENs: from here on it listens
        assert _until(lambda: first in b.indexes.ensure("talent").hashes)
        applied = b.indexes.applied
        ids = a.add("talent", [talent(name=f"后到者{i}") for i in range(3)])
        assert _until(lambda: set(ids) <= set(b.indexes.ensure("talent").hashes)), b.index_status()
        assert b.indexes.applied > applied and b.index_status()["talent"]["in_step"]
    finally:
        stop.set()


def test_a_cursor_asks_again_for_skipped_numbers_until_they_come_or_age():
    c = ChangeCursor(10)
    c.advance([11, 14], now=0.0)  # 12 and 13 were handed out but not committed yet
    assert c.last == 14 and set(c.gaps) == {12, 13}
    c.advance([13], now=1.0)  # committed late
    assert set(c.gaps) == {12}
    c.advance([], now=GAP_SECONDS + 1)  # a rolled-back transaction's number: forgotten
    assert c.gaps == {} and c.last == 14


def test_a_truncated_token_file_is_reported_then_rebuilt(tmp_path, monkeypatch, capsys, caplog):
    data = tmp_path / "var"
    svc = _service(None, data)
    svc.add("talent", [talent(name=f"人{i}", skills=["Python", f"技能{i}"]) for i in range(20)])
    svc.ensure_index("talent")
    svc.ensure_index("demand")
    svc.close()  # saves the indexes and their token lists
    tokens = data / "indexes" / "talent" / "bm25-tokens.npz"
    blob = tokens.read_bytes()
    tokens.write_bytes(blob[: len(blob) // 2])

    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(data))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    code, out, err = run_cli(monkeypatch, capsys, "index", "status")  # the truth, nothing repaired
    assert code == 0 and "Traceback" not in out + err
    assert '"in_step": false' in out and "bm25-tokens.npz" in out and "index sync" in out
    assert tokens.read_bytes() == blob[: len(blob) // 2]  # status did not touch it

    with caplog.at_level(logging.WARNING):
        again = _service(None, data)
        side = again.ensure_index("talent")  # a start: a warning, then the token lists again
    assert any("token cache" in r.message for r in caplog.records)
    assert again.index_status()["talent"]["in_step"] and len(side.lexical) == 20
    assert side.lexical.search(again.tokenizer.tokenize("Python 技能7"), 3)  # BM25 answers from the rebuilt lists
    again.close()
    code, out, _ = run_cli(monkeypatch, capsys, "index", "status")
    assert code == 0 and '"in_step": false' not in out


def test_a_restart_loads_the_saved_bm25_index_instead_of_building_it(db_url, tmp_path, fake_encoder, monkeypatch):
    """After a save, a new service over the same files reads the BM25 index built from the same
    token lists (no build) and ranks free text exactly as the first; after a write by another
    process it builds again."""
    from matcher.retrieval import lexical

    first = _service(db_url, tmp_path / "a", fake_encoder)
    first.add("talent", [talent(name=f"人{i}", skills=["Python", "Spark"] if i % 2 else ["Java"]) for i in range(12)])
    first.sync()
    want = [(m.id, m.score) for m in first.match_text("熟悉Python和Spark", side="talents", top_k=5)]
    assert (first.settings.index_dir() / "talent" / "bm25" / "key.json").exists()
    builds = []
    real = lexical._Built.build
    monkeypatch.setattr(lexical._Built, "build", classmethod(lambda cls, *a: builds.append(1) or real(*a)))
    second = _service(db_url, tmp_path / "a", fake_encoder)
    assert [(m.id, m.score) for m in second.match_text("熟悉Python和Spark", side="talents", top_k=5)] == want
    assert builds == []
    first.add("talent", [talent(name="新人", skills=["Python"])])
    third = _service(db_url, tmp_path / "a", fake_encoder)
    third.match_text("熟悉Python", side="talents", top_k=5)
    assert builds  # the saved index is behind the database: built from the token lists
    for svc in (first, second, third):
        svc.close()


def test_a_change_committed_late_below_the_last_number_still_reaches_cached_lists(pair, db_url, tmp_path,
                                                                                fake_encoder):
    """PostgreSQL hands out change numbers before commit, so a write can commit a number below one
    already read. A cached ranking keyed by the last number would not see it: once a poll applies
    it (a change that moves no index, here an entry's years of experience), the lists are ranked
    again, as a fresh server ranks them."""
    from sqlalchemy import func, select, update

    from matcher.storage.tables import ChangeRow

    a, b = pair
    [tid] = a.add("talent", [talent(name="王一", skills=["Python", "Spark"], experience_years=2)])
    dids = a.add("demand", [demand(title="数据分析师", required_skills=["Python"]),
                            demand(title="大数据开发工程师", required_skills=["Spark"])])
    b.indexes.poll()

    def shown(svc) -> list[tuple[int, float]]:
        return [(m.id, round(m.score, 6)) for m in svc.match_talent(tid, top_k=5)]

    with a.store.session(write=True) as s:  # a number handed out but not yet committed: a gap
        top = s.scalar(select(func.max(ChangeRow.seq)))
        s.add(ChangeRow(seq=top + 2, kind="talent", record_id=tid, version=a.store.get_versioned("talent", tid)[1]))
    b.indexes.poll()
    before = shown(b)  # ranked and kept under the last number, top + 2
    assert sorted(i for i, _ in before) == sorted(dids)
    a.update("demand", dids[0], demand(title="数据分析师", required_skills=["Python"], min_experience_years=10))
    with a.store.session(write=True) as s:  # the write commits late, under the missing number
        s.execute(update(ChangeRow).where(ChangeRow.seq == top + 3).values(seq=top + 1))
    assert b.store.last_change() == top + 2  # the key's number did not move
    b.indexes.poll()
    fresh = _service(db_url, tmp_path / "fresh", fake_encoder)
    try:
        want = shown(fresh)
    finally:
        fresh.close()
    assert want != before  # the change matters to this talent's list
    assert shown(b) == want


def _saved_side(tmp_path):
    """A data directory whose talent index (20 records) and token lists are saved."""
    data = tmp_path / "var"
    svc = _service(None, data)
    svc.add("talent", [talent(name=f"人{i}", skills=["Python", f"技能{i}"]) for i in range(20)])
    svc.ensure_index("talent")
    svc.ensure_index("demand")
    svc.close()
    return data, data / "indexes" / "talent"


def _status(data, verify: bool) -> dict:
    from matcher.retrieval.encoders import build_encoder
    from matcher.retrieval.saved import saved_status
    from matcher.storage.peek import RecordHashes

    settings = Settings(data_dir=data, reference_dir=PROJECT_ROOT / "data", encoder="fake")
    encoder = build_encoder(settings.encoder, settings.encoder_model)
    records = RecordHashes(settings.db_url())
    try:
        return saved_status(settings, records, encoder.name, encoder.dim, verify=verify)["talent"]
    finally:
        records.close()


def test_the_quick_status_reads_manifests_and_sizes_and_verify_reads_the_bytes(tmp_path):
    """``index status`` looks at the manifests and the files' sizes; ``--verify`` also checks the
    checksums, the ids in the index and every token array. Both agree on a sound index."""
    import json

    data, side = _saved_side(tmp_path)
    quick, full = _status(data, False), _status(data, True)
    assert quick == full and quick["in_step"] and quick["indexed"] == 20 and quick["problem"] is None
    manifest = json.loads((side / "manifest.json").read_text(encoding="utf-8"))
    index_file = side / manifest["files"]["index.faiss"]["name"]
    blob = index_file.read_bytes()

    # the same size, other bytes: only the checksum sees it
    index_file.write_bytes(blob[:-8] + bytes(8))
    assert _status(data, False)["in_step"]
    full = _status(data, True)
    assert not full["in_step"] and "checksum" in full["problem"]

    # truncated: the size says so at once
    index_file.write_bytes(blob[: len(blob) // 2])
    for verify in (False, True):
        got = _status(data, verify)
        assert not got["in_step"] and "wrong size" in got["problem"], (verify, got)

    # gone
    index_file.unlink()
    assert "missing" in _status(data, False)["problem"]


def test_the_quick_status_sees_a_manifest_whose_ids_and_count_disagree(tmp_path):
    import json

    data, side = _saved_side(tmp_path)
    path = side / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["hashes"].pop(next(iter(manifest["hashes"])))
    path.write_text(json.dumps(manifest), encoding="utf-8")
    for verify in (False, True):
        got = _status(data, verify)
        assert got["problem"] == "编号映射与向量不一致" and not got["in_step"], verify


def test_index_status_verify_from_the_shell(tmp_path, monkeypatch, capsys):
    data, side = _saved_side(tmp_path)
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(data))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    index_file = next(side.glob("*index.faiss"))
    blob = index_file.read_bytes()
    index_file.write_bytes(blob[:-8] + bytes(8))
    code, out, _ = run_cli(monkeypatch, capsys, "index", "status")
    assert code == 0 and '"in_step": false' not in out
    code, out, err = run_cli(monkeypatch, capsys, "index", "status", "--verify")
    assert code == 0 and "Traceback" not in out + err
    assert '"in_step": false' in out and "checksum" in out and "index sync" in out
