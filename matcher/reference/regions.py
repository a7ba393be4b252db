"""Chinese administrative divisions: normalise a place name to (province, city)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text

MUNICIPALITIES = {"北京市", "上海市", "天津市", "重庆市"}


@dataclass(frozen=True)
class Place:
    province: str
    city: str | None


_INSTITUTION = re.compile(r"大学|学院|路|街|大道")  # 中山大学, 济南路: not the city


class Regions:
    """Lookup over ``cn_regions.csv`` (deep 1 province, 2 city, 3 district)."""

    def __init__(self, path: Path) -> None:
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        by_id = {r["id"]: r for r in rows}
        self._lookup: dict[str, Place] = {}
        self._compound: dict[str, Place | None] = {}
        provinces: dict[str, str] = {}
        for r in rows:
            if r["deep"] == "1":
                provinces[r["id"]] = r["name"]
        best: dict[str, int] = {}
        self._city_names: dict[str, str] = {}  # a city's full and short name -> its full name
        for r in rows:
            if r["deep"] == "2" or (r["deep"] == "1" and r["name"] in MUNICIPALITIES):
                for key in (r["name"], r["short_name"]):
                    if key and len(key) >= 2:
                        self._city_names.setdefault(key, r["name"])
        for r in rows:
            deep, name, short = int(r["deep"]), r["name"], r["short_name"]
            prov_id = r["id"][:2] + "0000"
            province = provinces.get(prov_id, "")
            if deep == 1:
                place = Place(name, name if name in MUNICIPALITIES else None)
            elif r["parent_id"] in provinces:
                place = Place(province, name)
            else:
                parent = by_id.get(r["parent_id"])
                if parent is not None and parent["deep"] == "2" and parent["parent_id"] in provinces:
                    place = Place(province, parent["name"])
                else:  # districts of municipalities hang under a missing xx0100 row
                    place = Place(province, province if province in MUNICIPALITIES else None)
            for key in (name, short):
                # a province wins over a city of the same name, a city over a district
                if key and deep < best.get(key, 99):
                    best[key] = deep
                    self._lookup[key] = place

    def resolve(self, name: str | None) -> Place | None:
        """The province and city of a place name (full or short, Traditional accepted), also of
        compound names such as "淄博市临淄区", "淄博高新区" or "山东省济南市": the longest leading
        part that names a place, refined by the rest when that part is a province."""
        if not name:
            return None
        key = normalize_text(name).replace(" ", "")
        if key in self._compound:
            return self._compound[key]
        place = self._simple(key) or self._leading(key)
        if len(self._compound) < 50_000:  # names come from user input too: keep the memo bounded
            self._compound[key] = place
        return place

    def _simple(self, key: str) -> Place | None:
        if key in self._lookup:
            return self._lookup[key]
        for suffix in ("市", "省", "地区", "区", "县"):
            if key.endswith(suffix) and key[: -len(suffix)] in self._lookup:
                return self._lookup[key[: -len(suffix)]]
        return None

    def _leading(self, key: str) -> Place | None:
        for cut in range(len(key) - 1, 1, -1):
            head = self._simple(key[:cut])
            if head is None:
                continue
            if head.city is None:  # a province: the rest may name one of its cities
                rest = self._simple(key[cut:]) or self._leading(key[cut:])
                if rest is not None and rest.province == head.province:
                    return rest
            return head
        return None

    def cities_in_text(self, text: str | None) -> list[str]:
        """The cities a free text names ("想在济南工作" → ["济南市"]; "青岛或烟台" → both), in
        order of mention; districts and provinces are left out (short district names are common
        words)."""
        if not text:
            return []
        s = normalize_text(text).replace(" ", "")
        longest = max((len(k) for k in self._city_names), default=0)
        found: list[str] = []
        i = 0
        while i < len(s):
            for n in range(min(longest, len(s) - i), 1, -1):
                city = self._city_names.get(s[i : i + n])
                if city is not None and not _INSTITUTION.match(s, i + n):
                    if city not in found:
                        found.append(city)
                    i += n - 1
                    break
            i += 1
        return found

    def city(self, name: str | None) -> str | None:
        place = self.resolve(name)
        return place.city if place else (normalize_text(name) if name else None)

    def province(self, name: str | None) -> str | None:
        place = self.resolve(name)
        return place.province if place else None


@lru_cache(maxsize=4)
def load_regions(path: Path) -> Regions:
    return Regions(path)


@dataclass(frozen=True)
class RegionScope:
    """A region of a report: a city (municipalities included) or a province."""

    name: str
    level: Literal["city", "province"]
    province: str

    def contains(self, place: Place | None) -> bool:
        if place is None:
            return False
        if self.level == "city":
            return place.city == self.name
        return place.province == self.name


def place_of(regions: Regions, name: str | None) -> Place | None:
    """The place of a name, compound names included ("淄博市临淄区", "淄博高新区")."""
    return regions.resolve(name)


def resolve_region(regions: Regions, name: str) -> RegionScope:
    """A report region from a city or province name ("淄博", "淄博市", "山东省")."""
    place = regions.resolve(name) if name else None
    if place is None:
        raise InvalidInput(f"未知地区：{name}（请填写城市或省份，如 淄博市、山东省）", [{"field": "region"}])
    if place.city is not None:
        return RegionScope(place.city, "city", place.province)
    return RegionScope(place.province, "province", place.province)
