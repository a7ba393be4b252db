"""Checks of single values that users type into forms and API bodies: phone numbers, the
统一社会信用代码 (with its check character) and headcounts. Each check returns the value as
stored, or raises ValueError with a Chinese message that is shown next to the field."""

from __future__ import annotations

import re

# -- 统一社会信用代码 (GB 32100-2015) -----------------------------------------------------------
# 18 characters from a 31-character set (digits and capitals without I, O, Z, S, V):
# 1 registration authority, 2 kind of organisation, 3–8 the administrative division code
# (GB/T 2260, digits), 9–17 the organisation code (GB 11714), 18 a check character: with the
# values of the set (0–30) and the weights 3^(i-1) mod 31 of positions 1–17,
# C18 = 31 − (Σ Ci·Wi mod 31), where 31 is written as 0.
CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CHARSET}]{{2}}\d{{6}}[{CREDIT_CHARSET}]{{10}}$")


def credit_check_char(first17: str) -> str:
    """The check character (position 18) of the first 17 characters of a credit code."""
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31]


def credit_code(value: str | None) -> str | None:
    """A 统一社会信用代码, upper-cased; its length, characters and check character are checked."""
    if value is None:
        return None
    code = value.strip().upper().replace(" ", "")
    if not code:
        return None
    if len(code) != 18:
        raise ValueError(f"统一社会信用代码应为 18 位（现为 {len(code)} 位）")
    if not _CREDIT_SHAPE.match(code):
        raise ValueError("统一社会信用代码含有无效字符（只用数字和除 I、O、Z、S、V 外的大写字母，第 3–8 位为数字）")
    if credit_check_char(code[:17]) != code[17]:
        raise ValueError("统一社会信用代码校验位不正确，请核对后重新输入")
    return code


# -- phone numbers ----------------------------------------------------------------------------
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?[2-9]\d{6,7}(?:-\d{1,6})?$")


def phone(value: str | None) -> str | None:
    """A mainland mobile number (11 digits from 13–19, an optional +86) or a landline with its
    area code (0533-1234567, an optional extension); spaces are dropped."""
    if value is None:
        return None
    text = re.sub(r"[\s()（）]", "", value.strip())
    if not text:
        return None
    if _MOBILE.match(text.replace("-", "")) or _LANDLINE.match(text):
        return text
    raise ValueError("电话号码格式不正确：手机号为 11 位（如 13812345678），座机需带区号（如 0533-1234567）")


# -- headcounts -------------------------------------------------------------------------------
MAX_HEADCOUNT = 9_999  # one post as a user writes it; catalogues and imports keep their own limit


def headcount(value: int | None) -> int | None:
    if value is not None and value > MAX_HEADCOUNT:
        raise ValueError(f"招聘人数不能大于 {MAX_HEADCOUNT}")
    return value
