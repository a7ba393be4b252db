"""The talent import as one batch (issue 17): one coder call for the file's distinct texts, one
bulk write with its audit and change-log rows, and the behaviour of the row-at-a-time path kept
(row-level reports, all or nothing, external ids, coding stored only when settled, indexes in
step). Runs on SQLite and, with TALENTMATCH_TEST_PG_URL, on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from matcher.core.errors import ImportRejected
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import OccupationCandidate
from matcher.ingest.importer import read_records
from matcher.storage.tables import AuditRow, ChangeRow, TalentRow
from matcher.wiring import build_service
from models.encoders import FakeEncoder


def _profile(i: int, **kw: Any) -> dict[str, Any]:
    base = {"external_id": f"T-{i:03d}", "name": f"求职者{i}", "education": "本科", "city": "淄博",
            "skills": ["Python", "数据分析"], "desired_occupations": ["4-04-05-01"],
            "summary": f"第{i}号求职者，熟悉数据分析", "consent": True}
    base.update(kw)
    return base


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _import(svc: Any, path: Path, **kw: Any) -> dict[str, Any]:
    result = read_records(path, "talents")
    return svc.import_rows("talents", result.records, result.errors,
                           headers={t: h for h, t in result.columns.items()}, **kw)  # as the CLI does


class _CountingCoder:
    """Stands in for the occupation coder: records its calls; ``known`` texts come back with a
    confidence (settled at >= 0.5), others with none found."""

    def __init__(self, known: dict[str, tuple[str, float]]) -> None:
        self.known = known
        self.calls: list[list[str]] = []

    def code(self, texts: list[str], top_k: int = 1, context: Any = None) -> list[list[OccupationCandidate]]:
        self.calls.append(list(texts))
        out = []
        for t in texts:
            if t in self.known:
                code, conf = self.known[t]
                out.append([OccupationCandidate(code=code, name="x", score=1.0, confidence=conf)])
            else:
                out.append([])
        return out


@pytest.fixture
def svc(db_url: str, tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url)
    s = build_service(settings, encoder=FakeEncoder(64))
    yield s
    s.close()


def _count(svc: Any, q: Any) -> int:
    with svc.store.session() as s:
        return int(s.scalar(q) or 0)


def test_a_bad_row_in_the_middle_writes_nothing_and_is_reported_by_row(svc, tmp_path):
    rows = [_profile(i) for i in range(1, 8)]
    rows[3] = _profile(4, desired_occupations=["9-99-99-99"])  # an unknown code: line 4
    rows[5] = _profile(6, external_id="T-002")  # the same external id as line 2
    path = _jsonl(tmp_path / "t.jsonl", rows)
    with pytest.raises(ImportRejected) as exc:
        _import(svc, path)
    assert [(e.row, e.field) for e in exc.value.errors] == [(4, "desired_occupations"), (6, "external_id")]
    assert "未知职业编码" in exc.value.errors[0].reason and "第 2 行重复" in exc.value.errors[1].reason
    # nothing half-written: no record, no audit row, no change-log row, no enterprise
    assert svc.store.count("talent") == 0
    assert _count(svc, select(func.count()).select_from(AuditRow)) == 0
    assert _count(svc, select(func.count()).select_from(ChangeRow)) == 0
    # the same errors with --skip-invalid, and the five good rows written
    report = _import(svc, path, skip_invalid=True)
    assert [(e.row, e.field) for e in report["errors"]] == [(4, "desired_occupations"), (6, "external_id")]
    assert len(report["ids"]) == 5 and svc.store.count("talent") == 5


def test_ids_audit_and_change_log_follow_the_file(svc, tmp_path):
    rows = [_profile(i) for i in range(1, 31)]
    report = _import(svc, _jsonl(tmp_path / "t.jsonl", rows))
    ids = report["ids"]
    assert len(ids) == 30 and ids == sorted(ids)
    stored = svc.store.get_many("talent", ids)
    assert [stored[i].external_id for i in ids] == [r["external_id"] for r in rows]  # ids in file order
    with svc.store.session() as s:
        audit = s.execute(select(AuditRow.action, AuditRow.resource, AuditRow.resource_id)).all()
        changes = s.execute(select(ChangeRow.kind, ChangeRow.record_id, ChangeRow.version)).all()
        owners = set(s.scalars(select(TalentRow.external_owner)))
        versions = set(s.scalars(select(TalentRow.version)))
    assert sorted(audit) == sorted(("create", "talent", str(i)) for i in ids)
    assert sorted(changes) == sorted(("talent", i, 1) for i in ids)
    assert owners == {"staff"} and versions == {1}


def test_a_repeated_import_duplicates_nothing(svc, tmp_path):
    rows = [_profile(i) for i in range(1, 6)]
    path = _jsonl(tmp_path / "t.jsonl", rows)
    first = _import(svc, path)
    with pytest.raises(ImportRejected) as exc:  # the external ids are the importer's already
        _import(svc, path)
    assert [e.row for e in exc.value.errors] == [1, 2, 3, 4, 5]
    assert all("已被人才档案" in e.reason for e in exc.value.errors)
    report = _import(svc, path, skip_invalid=True)
    assert report["ids"] == [] and svc.store.count("talent") == 5
    assert sorted(svc.store.text_hashes("talent")) == sorted(first["ids"])


def test_the_coder_is_called_once_for_the_distinct_texts_and_only_settled_codes_are_stored(svc, tmp_path):
    coder = _CountingCoder({"数据分析师": ("4-04-05-01", 0.9), "什么都想做": ("2-02-10-01", 0.3)})
    svc.preparer.coder = lambda: coder
    rows = [_profile(i, desired_occupations=["数据分析师", "什么都想做"]) for i in range(1, 41)]
    rows[7] = _profile(8, desired_occupations=["数据分析师", "完全没听过的工作"])
    report = _import(svc, _jsonl(tmp_path / "t.jsonl", rows))
    assert len(coder.calls) == 1
    assert sorted(coder.calls[0]) == sorted(["数据分析师", "什么都想做", "完全没听过的工作"])
    stored = svc.store.get_many("talent", report["ids"])
    # the settled code replaces its text; an unsure one (0.3) or none keeps the wish as written
    assert stored[report["ids"][0]].desired_occupations == ["4-04-05-01", "什么都想做"]
    assert stored[report["ids"][7]].desired_occupations == ["4-04-05-01", "完全没听过的工作"]


def test_indexes_are_in_step_after_an_import(svc, tmp_path, db_url):
    svc.ensure_index("talent")  # a loaded side takes the import at once
    settings = Settings(data_dir=tmp_path / "other", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url)
    other = build_service(settings, encoder=FakeEncoder(64))  # another process on the same database
    try:
        other.ensure_index("talent")
        rows = [_profile(i) for i in range(1, 21)] + [_profile(21, status="inactive")]
        report = _import(svc, _jsonl(tmp_path / "t.jsonl", rows))
        searchable = set(report["ids"][:20])
        assert set(svc.ensure_index("talent").hashes) == searchable
        assert other.indexes.poll() == 21  # the change log names every new record
        assert set(other.ensure_index("talent").hashes) == searchable
        # the vectors were cached by the import: a later reconcile encodes nothing again
        fresh = build_service(Settings(data_dir=tmp_path / "third", reference_dir=PROJECT_ROOT / "data",
                                       encoder="fake", database_url=db_url), encoder=FakeEncoder(64))
        try:
            assert set(fresh.ensure_index("talent").hashes) == searchable
            assert fresh.cached.encoded == 0
        finally:
            fresh.close()
    finally:
        other.close()


def test_vector_cache_writes_once_per_text(svc):
    from matcher.storage.tables import EmbeddingRow

    texts = [f"文本{i}" for i in range(50)]
    svc.cached.passages(texts)
    svc.cached.passages(texts + ["新的一条"])
    assert _count(svc, select(func.count()).select_from(EmbeddingRow)) == 51
    assert svc.cached.encoded == 51


def test_startup_reads_the_head_revision_without_alembic():
    from matcher.storage.migrations import _quick_head, head_revision

    assert _quick_head() == head_revision()


def test_a_new_database_is_stamped_at_the_head(db_url):
    from matcher.storage.migrations import head_revision, schema_state
    from matcher.storage.store import Store

    store = Store(db_url)  # an empty database: created and stamped without Alembic's command
    try:
        with store.engine.connect() as conn:
            assert schema_state(conn) == ("current", head_revision())
        Store(db_url).close()  # and a second start finds it current
    finally:
        store.close()


def test_the_shared_tokenizer_is_the_derived_default_one():
    from matcher.retrieval.lexical import default_tokenizer
    from matcher.retrieval.shared import SharedModels

    words = ["数字孪生工程师", "工业互联网", "PLC编程"]
    mine = SharedModels().tokenizer(words)
    derived = default_tokenizer().derive(words)
    assert mine.fingerprint() == derived.fingerprint() and mine.words == derived.words
    text = "熟悉PLC编程与工业互联网平台的数字孪生工程师，负责数据分析"
    assert mine.tokenize(text) == derived.tokenize(text)


def test_the_quick_head_leaves_anything_unusual_to_alembic(tmp_path, monkeypatch):
    from matcher.storage import migrations

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "__init__.py").write_text("")
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision: str | None = "a"\n')
    monkeypatch.setattr(migrations, "HERE", tmp_path)
    migrations._quick_head.cache_clear()
    try:
        assert migrations._quick_head() == "b"
        (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')  # two heads
        migrations._quick_head.cache_clear()
        assert migrations._quick_head() is None
        (versions / "c.py").write_text('revision = "c"\ndown_revision = ("a", "b")\n')  # a merge
        migrations._quick_head.cache_clear()
        assert migrations._quick_head() is None
    finally:
        monkeypatch.undo()
        migrations._quick_head.cache_clear()


def test_the_command_reports_the_rows_and_writes_nothing_unless_told(tmp_path, monkeypatch, capsys):
    from matcher.storage.store import Store
    from tests.conftest import run_cli

    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    rows = [_profile(i) for i in range(1, 6)]
    rows[2] = _profile(3, desired_occupations=["9-99-99-99"])
    path = _jsonl(tmp_path / "t.jsonl", rows)
    code, _out, err = run_cli(monkeypatch, capsys, "import", "talents", str(path))
    assert code != 0 and "第 3 行" in err and "未知职业编码" in err
    store = Store(f"sqlite:///{tmp_path / 'var' / 'talentmatch.db'}")
    try:
        assert store.count("talent") == 0
    finally:
        store.close()
    code, out, err = run_cli(monkeypatch, capsys, "import", "talents", str(path), "--skip-invalid")
    assert code == 0 and "已导入 4 条人才档案（文件共 5 行）" in out and "第 3 行" in err
