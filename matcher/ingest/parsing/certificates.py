"""数字技术工程师 certificates: their grades and (direction, grade) lists."""

from __future__ import annotations

import re

from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import CertGrade, DigitalCert
from matcher.ingest.parsing.cells import BLANKS, NO_REQUIREMENT, cell_text, normalized
from matcher.ingest.parsing.lists import parse_list

_CERT_GRADES = {
    "初级": CertGrade.JUNIOR,
    "初": CertGrade.JUNIOR,
    "中级": CertGrade.INTERMEDIATE,
    "中": CertGrade.INTERMEDIATE,
    "高级": CertGrade.SENIOR,
    "高": CertGrade.SENIOR,
}


def parse_cert_grade(value: object) -> CertGrade | None:
    """A 数字技术工程师 certificate grade: 初级/中级/高级, tolerating "中级证书", "中级及以上",
    "专业技术等级（中级）"; 不限/无/空 → None."""
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in NO_REQUIREMENT:
        return None
    core = re.sub(r"数字技术工程师|专业技术等级|等级|证书|及以上|或以上|以上|[()]", "", s)
    if core in _CERT_GRADES:
        return _CERT_GRADES[core]
    raise ValueError("无法识别的证书等级，应为 初级、中级 或 高级")


_CERT_NOISE = re.compile(
    r"数字技术工程师|专业技术等级证书|专业技术等级|培育项目|证书|工程技术人员|方向|[-:()\[\]【】]"
)
_GRADE_RE = re.compile(r"(初|中|高)级")


def parse_digital_certs(value: object) -> list[DigitalCert]:
    """数字技术工程师 certificates: "数字技术工程师（大数据）中级；人工智能初级" →
    [大数据/中级, 人工智能/初级]. Items are split like :func:`parse_list`; each needs a grade
    (初级/中级/高级) and a direction; "大数据工程技术人员（中级）" gives direction 大数据.
    JSON input may also give objects {"direction": ..., "grade": ...}."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list | tuple):
        certs: list[DigitalCert] = []
        for item in value:
            if isinstance(item, DigitalCert):
                certs.append(item)
            elif isinstance(item, dict):
                direction = normalize_text(cell_text(item.get("direction")))
                grade = parse_cert_grade(item.get("grade"))
                if not direction or grade is None:
                    raise ValueError("数字技术工程师证书应包含方向（direction）和等级（grade）")
                certs.append(DigitalCert(direction=direction, grade=grade))
            else:
                certs.extend(parse_digital_certs(item))
        return _dedupe_certs(certs)
    certs = []
    for item in parse_list(normalize_text(cell_text(value))):
        grades = _GRADE_RE.findall(item)
        if not grades:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”缺少等级（初级、中级或高级）")
        if len(set(grades)) > 1:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”含有多个等级，请分开填写")
        direction = _CERT_NOISE.sub(" ", _GRADE_RE.sub(" ", item))
        direction = re.sub(r"\s+", "", direction).strip("·.,")
        if not direction:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”缺少方向（如 大数据、人工智能）")
        if len(direction) > 40:
            raise ValueError(f"数字技术工程师证书方向过长“{_shown(direction)}”")
        certs.append(DigitalCert(direction=direction, grade=_CERT_GRADES[grades[0] + "级"]))
    return _dedupe_certs(certs)


def _dedupe_certs(certs: list[DigitalCert]) -> list[DigitalCert]:
    seen: set[tuple[str, str]] = set()
    out: list[DigitalCert] = []
    for cert in certs:
        key = (cert.direction, cert.grade.value)
        if key not in seen:
            seen.add(key)
            out.append(cert)
    return out


def _shown(value: object) -> str:
    text = cell_text(value)
    return text if len(text) <= 40 else text[:40] + "…"

