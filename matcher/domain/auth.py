"""API keys, roles and personal-data masking.

A key reads ``tm_<prefix>_<secret>``. Only the prefix (to find the row) and the SHA-256 of the
whole key are stored; keys are 190 bits of randomness, so a fast hash is the right tool (a slow
password hash buys nothing against brute force here and costs every request). Comparison is in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

KEY_RE = re.compile(r"^tm_([A-Za-z0-9]{8})_([A-Za-z0-9]{32})$")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class Role(StrEnum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    ENTERPRISE = "enterprise"
    SEEKER = "seeker"


ROLE_LABELS = {Role.ADMIN: "管理员", Role.ORGANISER: "活动组织方", Role.ENTERPRISE: "企业", Role.SEEKER: "求职者"}
STAFF = frozenset({Role.ADMIN, Role.ORGANISER})


@dataclass(frozen=True)
class Principal:
    """Who is acting: an API key's role and scope, or the local operator (CLI)."""

    role: Role | str
    key_id: int | None = None
    enterprise_id: int | None = None
    talent_id: int | None = None
    label: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def owns_enterprise(self, enterprise_id: int | None) -> bool:
        return self.role == Role.ENTERPRISE and enterprise_id is not None and self.enterprise_id == enterprise_id

    def owns_talent(self, talent_id: int | None) -> bool:
        return self.role == Role.SEEKER and talent_id is not None and self.talent_id == talent_id


# the local operator: CLI commands and scripts run with the machine owner's authority
OPERATOR = Principal(role="operator", label="cli")


def _random(n: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(n))


def new_key() -> tuple[str, str, str]:
    """A fresh key: (plain key, prefix, hash). The plain key is shown once and never stored."""
    prefix, secret = _random(8), _random(32)
    key = f"tm_{prefix}_{secret}"
    return key, prefix, hash_key(key)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_key(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    m = KEY_RE.match(key.strip())
    return m.group(1) if m else None


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key.strip()), stored_hash)


# -- masking -----------------------------------------------------------------------------------


def mask_name(name: str | None) -> str | None:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    if not name:
        return name
    name = name.strip()
    return name[0] + "*" * max(1, len(name) - 1)


def mask_phone(phone: str | None) -> str | None:
    """13812345678 → 138****5678; other numbers keep only their last four digits."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]
