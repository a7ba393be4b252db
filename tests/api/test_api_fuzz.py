"""Fuzzing the OpenAPI document with schemathesis: no input may produce a 5xx.

Every operation gets generated requests (valid and invalid) as an administrator, whose key
reaches every route. Bounded by TALENTMATCH_FUZZ_EXAMPLES per operation (``make fuzz`` raises
it); runs on SQLite and, when TALENTMATCH_TEST_PG_URL is set, on PostgreSQL, whose text and
integer columns are stricter (NUL bytes, 32-bit ids).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from api.app import create_app
from matcher.core.settings import Settings
from matcher.domain.schemas import Enterprise
from matcher.wiring import build_service
from tests.conftest import demand, talent

EXAMPLES = int(os.environ.get("TALENTMATCH_FUZZ_EXAMPLES", "15"))
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]
_KEY: dict[str, str] = {}


@pytest.fixture
def fuzz_app(db_url, tmp_path, fake_encoder):
    from matcher.core.settings import PROJECT_ROOT

    settings_ = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                         database_url=db_url)
    svc = build_service(settings_, encoder=fake_encoder)
    ent = svc.store.add_enterprise(Enterprise(name="淄博测试科技有限公司", city="淄博市"))
    svc.add("demand", [demand(enterprise_id=ent.id, enterprise_name=None), demand(title="PLC电气工程师")])
    svc.add("talent", [talent(), talent(name="李四", consent=False)])
    _KEY["admin"] = svc.store.create_key("admin")[0]
    app = create_app(settings_, svc)
    with TestClient(app):  # runs the lifespan: indexes loaded, app.state.service set
        yield app
    svc.close()


def _operations() -> list[tuple[str, str]]:
    spec = create_app(Settings(encoder="fake")).openapi()  # the document needs no database
    return [(method.upper(), path) for path, ops in spec["paths"].items() for method in ops]


@pytest.mark.parametrize("method, path", _operations(), ids=lambda v: str(v))
def test_no_server_errors(fuzz_app, method, path):
    operation = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)[path][method]
    headers = {"Authorization": f"Bearer {_KEY['admin']}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    fuzz()
