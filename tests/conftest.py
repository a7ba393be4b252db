"""Shared fixtures: a fake deterministic encoder, a fresh store per test, PostgreSQL by URL."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    # several test processes share the cores: one OpenMP/BLAS thread each (set before numpy,
    # faiss, scikit-learn or torch load, and inherited by the processes the tests start).
    # Two processes each spinning two OpenMP threads on two cores made scikit-learn's
    # gradient boosting 20-30x slower (a 2 s test took 65 s)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from matcher.core.settings import PROJECT_ROOT, Settings  # noqa: E402
from matcher.domain.schemas import DemandEntry, TalentProfile  # noqa: E402
from models.encoders import FakeEncoder  # noqa: E402

PG_URL = os.environ.get("TALENTMATCH_TEST_PG_URL")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake")


@pytest.fixture(scope="session")
def fake_encoder() -> FakeEncoder:
    return FakeEncoder(128)


def _pg_store_url() -> Iterator[str]:
    """A throwaway PostgreSQL schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"tm_{uuid.uuid4().hex[:12]}"
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)  # type: ignore[union-attr]
    admin = create_engine(base)
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"  # type: ignore[operator]
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every store test runs on SQLite and, when TALENTMATCH_TEST_PG_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL case skipped: set TALENTMATCH_TEST_PG_URL (CI sets it) to run it")
    yield from _pg_store_url()


@pytest.fixture
def service(settings: Settings, fake_encoder: FakeEncoder):
    from matcher.wiring import build_service

    svc = build_service(settings, encoder=fake_encoder)
    svc.load_chain_registries()
    yield svc
    svc.close()


def demand(**kw) -> DemandEntry:
    base = dict(title="大数据开发工程师", enterprise_name="淄博测试科技有限公司", city="淄博",
                required_skills=["Python", "Spark"], education="本科")
    base.update(kw)
    return DemandEntry.model_validate(base)


def talent(**kw) -> TalentProfile:
    base = dict(name="张三", phone="13812345678", education="本科", major="计算机科学与技术",
                skills=["Python", "Spark"], city="淄博", consent=True)
    base.update(kw)
    return TalentProfile.model_validate(base)


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``talentmatch ARGS`` in-process through its real entry point: (exit code, stdout, stderr)."""
    import matcher.cli.main as cli

    monkeypatch.setattr(sys, "argv", ["talentmatch", *args])
    code = 0
    try:
        cli.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
