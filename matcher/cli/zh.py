"""Click's and Typer's own words (usage, panel titles, the usual errors) in Chinese.

Both libraries look their texts up through ``gettext`` at the moment they print them (Typer's
panel titles once, at import); this module swaps that lookup for a table of the texts a user
of ``talentmatch`` meets. A text not in the table is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

TEXTS: dict[str, str] = {
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Positional arguments": "参数",
    "Commands": "命令",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Show this message and exit.": "显示本帮助并退出。",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "Missing command.": "缺少子命令。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是目录。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "file": "文件",
    "directory": "目录",
    "path": "路径",
    "required": "必填",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "(dynamic)": "（动态）",
    "(deprecated) ": "（已弃用）",
    "deprecated": "已弃用",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "unknown error": "未知错误",
    "Value must be an iterable.": "取值应为多个值。",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个值。",
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Got unexpected extra arguments ({args})": "多余的参数（{args}）",
    "Did you mean {possibility}?": "是否要输入 {possibility}？",
    "(Possible options: {possibilities})": "（可能的选项：{possibilities}）",
    "Error: {e.message}": "错误：{e.message}",
}

# messages that arrive already formatted (from type conversion): pattern -> Chinese
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Missing (?:option|parameter) (.+?)\.?"), r"缺少选项 \1"),
    (re.compile(r"Missing argument (.+?)\.?"), r"缺少参数 \1"),
    (re.compile(r"No such option: (.+)"), r"没有选项 \1"),
    (re.compile(r"No such command (.+?)\.?"), r"没有命令 \1"),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)"), r"多余的参数（\1）"),
    (re.compile(r"Option (.+?) requires an argument\.?"), r"选项 \1 需要一个值"),
    (re.compile(r"(.+) is not one of (.+?)\.?"), r"\1 不是可选值，应为 \2 之一"),
    (re.compile(r"(.+) is not a valid choice\.?.*"), r"\1 不是可选值"),
    (re.compile(r"Input should be a valid integer.*"), "应为整数"),
    (re.compile(r"Input should be a valid number.*"), "应为数字"),
    (re.compile(r"Input should be a valid boolean.*"), "应为 true 或 false"),
    (re.compile(r"Input should be greater than or equal to (\S+)"), r"不能小于 \1"),
    (re.compile(r"Input should be less than or equal to (\S+)"), r"不能大于 \1"),
    (re.compile(r"Input should be (.+)"), r"取值应为 \1"),
]


def zh(text: str) -> str:
    text = text.removeprefix("Value error, ")
    if text in TEXTS:
        return TEXTS[text]
    for pattern, repl in PATTERNS:
        if m := pattern.fullmatch(text):
            return m.expand(repl)
    return text


_INVALID = re.compile(r"Invalid value for (.+?): (.+)", re.S)
_POSSIBLE = re.compile(r"(.*) \(Possible options: (.+)\)", re.S)


def usage_message(text: str) -> str:
    """A usage error's message (as Click formats it) in Chinese."""
    if m := _POSSIBLE.fullmatch(text):
        return f"{usage_message(m.group(1))}（可能的选项：{m.group(2)}）"
    if m := _INVALID.fullmatch(text):
        return f"{m.group(1)} 的取值无效：{zh(m.group(2).strip())}"
    if text.startswith("Invalid value: "):
        return "取值无效：" + zh(text.removeprefix("Invalid value: "))
    return zh(text)


def show_usage_error(exc: object, echo: Callable[[str], None]) -> None:
    """Print a usage error as Click would, in Chinese: the usage line, the help hint, the error."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        echo(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            echo(f"运行 '{ctx.command_path} {ctx.help_option_names[0]}' 查看帮助。")
        echo("")
    echo("错误：" + usage_message(exc.format_message()))  # type: ignore[attr-defined]


def zh_n(singular: str, plural: str, n: int) -> str:
    return zh(singular if n == 1 else plural)


_installed = False


def install() -> None:
    """Make Click and Typer speak Chinese (idempotent). Typer's rich help module (rich, markdown,
    pygments: a third of a command's start-up) is patched when help is first formatted."""
    global _installed
    if _installed:
        return
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types
    import typer.core

    modules = (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types, typer.core)
    for module in modules:
        if hasattr(module, "_"):
            module._ = zh  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = zh_n  # type: ignore[attr-defined]
    for cls in (typer.core.TyperCommand, typer.core.TyperGroup):
        cls.format_help = _rich_first(cls.format_help)  # type: ignore[method-assign]
    _vendored()
    _installed = True


def _rich_first(format_help: Callable[..., None]) -> Callable[..., None]:
    def wrapped(self, ctx, formatter):  # type: ignore[no-untyped-def]
        _install_rich()
        return format_help(self, ctx, formatter)

    return wrapped


_rich_installed = False


def _install_rich() -> None:
    """Typer's rich help words in Chinese (once, before the first help is formatted)."""
    global _rich_installed
    if _rich_installed:
        return
    import typer.rich_utils as ru

    if hasattr(ru, "_"):
        ru._ = zh  # type: ignore[attr-defined]
    for name in ("DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING",
                 "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE", "ERRORS_PANEL_TITLE",
                 "ABORTED_TEXT", "RICH_HELP"):
        current = getattr(ru, name, None)
        if isinstance(current, str):
            english = next((k for k, v in TEXTS.items() if v == current), None)
            setattr(ru, name, zh(english or current))
    _rich_installed = True


def _vendored() -> None:
    """Typer's own copy of Click writes some words directly: the usage prefix and the help
    option's text."""
    try:
        from typer._click import core as tcore
        from typer._click import formatting as tfmt
    except ImportError:  # an older Typer uses Click itself, patched above
        return
    write_usage = tfmt.HelpFormatter.write_usage

    def zh_write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:  # type: ignore[no-untyped-def]
        write_usage(self, prog, args, "用法：" if prefix is None else prefix)

    tfmt.HelpFormatter.write_usage = zh_write_usage  # type: ignore[method-assign]
    get_help_option = tcore.Command.get_help_option

    def zh_help_option(self, ctx):  # type: ignore[no-untyped-def]
        opt = get_help_option(self, ctx)
        if opt is not None and opt.help == "Show this message and exit.":
            opt.help = TEXTS["Show this message and exit."]
        return opt

    tcore.Command.get_help_option = zh_help_option  # type: ignore[method-assign]
