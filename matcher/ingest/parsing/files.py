"""Reading small UTF-8 and JSON files (mappings, query sets, registries) with Chinese reasons."""

from __future__ import annotations

from pathlib import Path

from matcher.core.errors import InvalidInput


def read_utf8(path: Path | str, what: str = "文件") -> str:
    """A UTF-8 text file (a BOM is allowed), or InvalidInput saying what is wrong; ``-`` reads stdin."""
    import sys

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what}不存在：{path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"这是一个目录，不是{what}：{path}") from None
    except OSError as exc:
        raise InvalidInput(f"无法读取{what}：{Path(path).name}（{exc.strerror or exc}）") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {Path(path).name} 不是 UTF-8 编码的文本") from None


def read_json_file(path: Path | str, what: str = "JSON 文件") -> object:
    """The JSON value of a UTF-8 file, or InvalidInput with the line and column of a syntax error."""
    import json

    try:
        return json.loads(read_utf8(path, what))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what}不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None
