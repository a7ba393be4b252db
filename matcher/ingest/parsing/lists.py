"""Lists of items typed in one cell."""

from __future__ import annotations

import re

from matcher.ingest.parsing.cells import cell_text, is_blank

_SLASH_TERMS = re.compile(
    r"(?<![A-Za-z0-9+#])(TCP/IP|CI/CD|C/C\+\+|B/S|C/S|I/O|UI/UX|PL/SQL|A/B|GB/T)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LIST_SEPARATORS = set("、,，;；|｜/／\n\r\t")
_SPLIT = re.compile("[" + re.escape("".join(sorted(_LIST_SEPARATORS))) + "]")
_OPEN = "(（[【{《"
_CLOSE = ")）]】}》"


def parse_list(value: object) -> list[str]:
    """A list of items separated by 、，,;；/｜| or line breaks (not inside brackets); items are
    stripped, empties and duplicates dropped, a trailing "等" removed. Words such as 及/和 are
    not separators. Known slashed terms (TCP/IP, C/C++, CI/CD, B/S ...) stay whole. Lists given
    as JSON arrays are accepted."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items: list[str] = []
        for v in value:
            if isinstance(v, list | tuple | dict):
                raise ValueError("列表中的每一项应为文本")
            items.extend(parse_list(v))
        return _dedupe(items)
    text = cell_text(value)
    if is_blank(text):
        return []
    protected: list[str] = []

    def _protect(m: re.Match[str]) -> str:
        protected.append(m.group(0))
        return f"\x00{len(protected) - 1}\x00"

    text = _SLASH_TERMS.sub(_protect, text)
    if not any(ch in text for ch in _OPEN):
        items = _SPLIT.split(text)
    else:  # do not split inside brackets
        items = []
        depth = 0
        current: list[str] = []
        for ch in text:
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            if ch in _LIST_SEPARATORS and depth == 0:
                items.append("".join(current))
                current = []
            else:
                current.append(ch)
        items.append("".join(current))
    out = []
    for item in items:
        if protected:
            item = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], item)
        item = item.strip().strip("。.")
        if item:
            out.append(item)
    if len(out) >= 2 and out[-1].endswith("等") and len(out[-1]) > 1:
        out[-1] = out[-1].removesuffix("等等").removesuffix("等").strip()
    return _dedupe([o for o in out if o and not is_blank(o)])


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out

