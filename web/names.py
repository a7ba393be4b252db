"""Codes as users read them: chains and occupations are typed and shown by name and stored as
codes; cities are checked against the region table."""

from __future__ import annotations

from typing import Any

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text
from matcher.service import MatchService
from web.common import split_list


def chain_names(s: MatchService) -> dict[str, str]:
    """Chain id -> chain name."""
    return {cid: c.name for cid, c in s.chain_book.all().items()}


def chain_sectors(s: MatchService) -> dict[str, list[str]]:
    """Sector (新一代信息技术, 高端装备 ...) -> the ids of its chains."""
    out: dict[str, list[str]] = {}
    for cid, c in s.chain_book.all().items():
        if c.parent_sector:
            out.setdefault(c.parent_sector, []).append(cid)
    return out


def chain_choices(s: MatchService) -> list[str]:
    """What the chain fields suggest: every chain name, then every sector name."""
    names = sorted(set(chain_names(s).values()))
    return names + sorted(set(chain_sectors(s)) - set(names))


def _sector(s: MatchService, value: str) -> list[str] | None:
    key = normalize_text(value).removesuffix("产业链").removesuffix("产业")
    for sector, ids in chain_sectors(s).items():
        if sector == key or sector.removesuffix("产业") == key:
            return ids
    return None


def _unknown_chain(s: MatchService, value: str) -> str:
    examples = "、".join(list(chain_names(s).values())[:4])
    return f"未知产业链：{value}（请从下拉提示中选择，如 {examples}）"


def resolve_chain_list(s: MatchService, values: list[str]) -> tuple[list[str], str | None]:
    """Chain ids for what a seeker typed: ids, chain names, or a sector name, which stands for
    every chain of the sector. The second item is the message for the first unknown value."""
    ids: list[str] = []
    for v in values:
        try:
            found = [s.resolve_chain(v)]
        except InvalidInput:
            found = _sector(s, v) or []
            if not found:
                return [], _unknown_chain(s, v)
        ids += [c for c in found if c and c not in ids]
    return ids, None


def resolve_one_chain(s: MatchService, value: str | None) -> str | None:
    """A chain id for an enterprise or a post (one chain): a sector name is refused with the
    chains it holds."""
    if not value:
        return None
    try:
        return s.resolve_chain(value)
    except InvalidInput:
        sector = _sector(s, value)
        if sector:
            names = chain_names(s)
            raise InvalidInput(f"“{value}”是产业类别，请选择其中一条产业链："
                               + "、".join(names[c] for c in sector),
                               [{"field": "chain_id"}]) from None
        raise InvalidInput(_unknown_chain(s, value), [{"field": "chain_id"}]) from None


def city_error(s: MatchService, value: str | None) -> str | None:
    """Why a city name is not a place of the region table (None when it is one, or empty)."""
    if not value or not value.strip():
        return None
    place = s.reference.regions.resolve(value)
    if place is None or (place.city is None and not value.endswith("省")):
        return f"未知城市：{value}（请填写地级市名称，如 淄博市、济南市）"
    if place.city is None:
        return f"请填写到地级市（如 {place.province} 的 济南市、淄博市），而不是整个省"
    return None


def occupation_name(s: MatchService, code: str | None) -> str | None:
    return s.reference.taxonomy.name(code) if code else None


def shown_values(s: MatchService, values: dict[str, Any]) -> dict[str, Any]:
    """Form values with stored codes replaced by names (chains, desired occupations)."""
    names = chain_names(s)
    out = dict(values)
    if out.get("chain_id"):
        out["chain_id"] = names.get(out["chain_id"], out["chain_id"])
    if out.get("desired_chains"):
        out["desired_chains"] = "、".join(names.get(c, c) for c in _split(out["desired_chains"]))
    if out.get("desired_occupations"):
        out["desired_occupations"] = "、".join(occupation_name(s, c) or c for c in _split(out["desired_occupations"]))
    return out


def _split(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in str(value).split("、") if v]


def check_form(s: MatchService, values: dict[str, Any], *, cities: tuple[str, ...] = (),
               city_lists: tuple[str, ...] = (), chain: str | None = None,
               chain_list: str | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """(field -> error, field -> stored value) for the places and chains of a posted form:
    every city must be in the region table, chains are given by name (or id, or a sector for a
    seeker's list) and stored as ids."""
    errors: dict[str, str] = {}
    stored: dict[str, Any] = {}
    for f in cities:
        if (e := city_error(s, values.get(f))):
            errors[f] = e
    for f in city_lists:
        for v in split_list(values.get(f)):
            if (e := city_error(s, v)):
                errors[f] = e
                break
    if chain and values.get(chain, "").strip():
        try:
            stored[chain] = resolve_one_chain(s, values[chain].strip())
        except InvalidInput as exc:
            errors[chain] = exc.detail
    if chain_list:
        ids, e = resolve_chain_list(s, split_list(values.get(chain_list)))
        if e:
            errors[chain_list] = e
        else:
            stored[chain_list] = ids
    return errors, stored
