"""Domain errors. The API maps them to problem responses; the CLI to messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass, field


class TalentMatchError(Exception):
    """Base class of every error this package raises on purpose."""

    status = 500
    title = "内部错误"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(TalentMatchError):
    status = 401
    title = "未认证"


class Forbidden(TalentMatchError):
    status = 403
    title = "无权限"


class RateLimited(TalentMatchError):
    """Too many failed attempts: wait ``retry_after`` seconds (sent as Retry-After)."""

    status = 429
    title = "请求过于频繁"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"尝试次数过多，请 {retry_after} 秒后再试")
        self.retry_after = retry_after


class NotFound(TalentMatchError):
    status = 404
    title = "未找到"


class InvalidInput(TalentMatchError):
    status = 422
    title = "输入无效"

    def __init__(self, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class Conflict(TalentMatchError):
    status = 409
    title = "冲突"


class PreconditionFailed(TalentMatchError):
    """The record changed since the version the caller saw (If-Match, a form's hidden version)."""

    status = 412
    title = "记录已被他人修改"


class QueueFull(TalentMatchError):
    """Too many jobs waiting: try again later."""

    status = 503
    title = "任务队列已满"


class IndexNotReady(TalentMatchError):
    status = 503
    title = "索引未就绪"


class WouldBlock(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """A call asked not to wait (``wait=False``) found a lock held: an index being updated, or
    every ranking slot taken. The caller makes the call again where waiting is harmless (a
    server: in a thread, not on its event loop)."""


class MissingDependency(TalentMatchError):
    status = 500
    title = "缺少依赖"


@dataclass
class RowError:
    """One bad cell or row of an import file (row numbers count the header as row 1)."""

    row: int
    field: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        shown = f"（值：{self.value}）" if self.value not in (None, "") else ""
        return f"第 {self.row} 行，字段 {self.field}：{self.reason}{shown}"


@dataclass
class ImportRejected(TalentMatchError):
    """An all-or-nothing import found bad rows; nothing was written."""

    errors: list[RowError] = field(default_factory=list)
    status = 422
    title = "导入被拒绝"

    def __post_init__(self) -> None:
        detail = f"文件中有 {len(self.errors)} 处错误，未导入任何记录"
        TalentMatchError.__init__(self, detail)
