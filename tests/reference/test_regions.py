"""Place names to (province, city), compound names included."""

from __future__ import annotations

import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.reference.regions import load_regions

REGIONS = load_regions(PROJECT_ROOT / "data" / "cn_regions.csv")


@pytest.mark.parametrize("name, province, city", [
    ("淄博", "山东省", "淄博市"),
    ("淄博市", "山东省", "淄博市"),
    ("临淄区", "山东省", "淄博市"),
    ("淄博市临淄区", "山东省", "淄博市"),
    ("淄博高新区", "山东省", "淄博市"),
    ("淄博经开区", "山东省", "淄博市"),
    ("山东省济南市", "山东省", "济南市"),
    ("山东济南", "山东省", "济南市"),
    ("北京市海淀区", "北京市", "北京市"),
    ("山東省", "山东省", None),
])
def test_places(name, province, city):
    place = REGIONS.resolve(name)
    assert place is not None and (place.province, place.city) == (province, city)


@pytest.mark.parametrize("name", ["", "火星", "某某开发区"])
def test_unknown_places(name):
    assert REGIONS.resolve(name) is None
    assert REGIONS.city(name) == (name or None)
