"""The occupation coder with the real default encoder and the shipped CSCO vectors."""

from __future__ import annotations

import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.encoders import build_encoder as create_encoder
from matcher.retrieval.occupation_coder import OccupationCoder
from models.paths import ARTIFACT_DIR

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def coder(tmp_path_factory):
    tax = Taxonomy.load(PROJECT_ROOT / "data" / "csco22_occupations.csv")
    c = OccupationCoder(tax, create_encoder("e5"), cache_dir=tmp_path_factory.mktemp("cache"))
    # the shipped artifact is current: nothing was encoded into the cache dir
    assert (ARTIFACT_DIR / c.artifact_name()).exists()
    return c


@pytest.mark.parametrize("title, code", [
    ("人工智能工程师", "2-02-38-01"),
    ("大数据开发工程师", "2-02-38-03"),
    ("Java开发工程师", "2-02-10-03"),
    ("工业机器人运维技师", "6-31-07-01"),
    ("焊工", "6-18-02-04"),
    ("嵌入式软件工程师", "2-02-10-06"),
])
def test_common_titles_in_top_3(coder, title, code):
    cands = coder.code([title], top_k=3)[0]
    assert code in [c.code for c in cands], cands


def test_traditional_and_order(coder):
    a, b = coder.code(["數據庫管理員", "数据库管理员"], top_k=5)
    assert [c.code for c in a] == [c.code for c in b]
    assert all(0 <= c.score <= 1 for c in a)
