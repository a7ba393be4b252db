"""Parsers for the values people type into Chinese spreadsheets (学历, 薪资, 工作经验, 星级 ...).

Every parser is a pure function: it takes a raw cell (a string, or whatever a spreadsheet or a
JSON line holds: int, float, bool, datetime, list, None) and returns the parsed value, or raises
``ValueError`` whose message is a Chinese reason fit to show the user. Empty cells (``None``,
blank strings, dashes) parse to ``None`` (or the neutral value noted per function).
Traditional characters and full-width forms are accepted everywhere.

One module per family of values: ``cells`` (cell text, blanks, yes/no), ``numbers`` (Chinese
numerals, integers, years), ``levels`` (education, shortage stars, titles, skill grades),
``certificates``, ``salary``, ``experience``, ``dates``, ``lists``, and ``files`` (UTF-8 and
JSON files). This package is their public front.
"""

from __future__ import annotations

from matcher.ingest.parsing.cells import cell_text, is_blank, parse_bool
from matcher.ingest.parsing.certificates import parse_cert_grade, parse_digital_certs
from matcher.ingest.parsing.dates import parse_date
from matcher.ingest.parsing.experience import parse_experience
from matcher.ingest.parsing.files import read_json_file, read_utf8
from matcher.ingest.parsing.levels import (
    parse_education,
    parse_shortage_level,
    parse_skill_level,
    parse_title_level,
)
from matcher.ingest.parsing.lists import parse_list
from matcher.ingest.parsing.numbers import parse_chinese_number, parse_int, parse_year
from matcher.ingest.parsing.salary import parse_salary

__all__ = [
    "cell_text",
    "is_blank",
    "parse_bool",
    "parse_cert_grade",
    "parse_chinese_number",
    "parse_date",
    "parse_digital_certs",
    "parse_education",
    "parse_experience",
    "parse_int",
    "parse_list",
    "parse_salary",
    "parse_shortage_level",
    "parse_skill_level",
    "parse_title_level",
    "parse_year",
    "read_json_file",
    "read_utf8",
]
