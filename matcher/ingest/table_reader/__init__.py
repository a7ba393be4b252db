"""Bounded reading of the tables users upload: CSV, XLSX and JSON Lines.

Every table reader of the project (the importer, fair files, chain registries) reads through
this package, so that no file can take minutes or gigabytes before it is refused. Before these
limits a 0.9 MB XLSX that unpacked to one 900 MB cell took 431 s and 10.4 GB, and a 1e6-row
sheet took 46 s to be refused.

**Limits** (``ReadLimits``; settings ``TALENTMATCH_…``, refusals are ``PayloadTooLarge``, 413):

==========================  ==========  =======================================================
file size                   50 MB       ``MAX_UPLOAD_BYTES``: the upload limit of the API
unpacked XLSX               200 MB      ``IMPORT_MAX_UNPACKED_BYTES``: a sheet of 200,000 rows
                                        × 15-25 columns unpacks to 160-200 MB (Excel's shared
                                        strings ≈ 40 bytes a cell, openpyxl's inline strings
                                        55-80); ten times what the demo catalogue needs per row
data rows                   200,000     ``IMPORT_MAX_ROWS``: a province's yearly catalogue or a
                                        city's talent pool is in the tens of thousands
columns                     200         ``IMPORT_MAX_COLUMNS``: the widest table (a profile)
                                        has about 30 fields; counted to the last non-empty cell
cell                        10,000      ``IMPORT_MAX_CELL_CHARS``: the longest field (a post
                                        description) holds 4,000 characters
==========================  ==========  =======================================================

Fixed, internal bounds: an XLSX part that openpyxl parses whole (styles, workbook, relations,
…) may unpack to 16 MB, and so may a sheet's XML before ``<sheetData>`` and after
``</sheetData>`` (8 MB each: openpyxl builds data validations, hyperlinks … whole); a part over
1 MB may not compress better than 200:1 (real sheets compress 5-40:1, a one-character bomb
about 1,000:1); the XML of one cell or shared string, rich-text runs included, is at most
10 bytes a character of the cell limit plus 64 kB; 2,000,000 distinct shared strings; 100,000
merged ranges; Excel's own 1,048,576 rows and 16,384 cells a row; a JSON line of columns × cell
characters.

**How.** XLSX: (1) the central directory is checked before openpyxl opens the file: compression
method, the declared unpacked total, each part's ratio and the size of whole-parsed parts;
(2) the sheets and shared strings are then streamed once through zlib in 1 MB chunks, counting
the bytes really unpacked (``zipfile`` itself never returns more than the declared size and
checks the CRC, so a header that lies ends as a damaged file), the longest run of text between
two tags and the XML of each cell (so openpyxl never builds a huge string), the rows of every sheet
(openpyxl's loading already parses a sheet without a ``<dimension>`` whole) and the shared
strings, and reading the merged ranges; (3) openpyxl reads the chosen sheet in read-only mode,
row by row, and every row is checked (row number, width, cell lengths) before it is used.
CSV: after decoding, a first pass of the ``csv`` module (C speed) checks rows, columns and
cells before any row is used, so a refusal costs no record building. JSONL: lines are counted
and measured first; each object is checked for fields and value lengths.

Modules: ``limits`` (the limits, the refusal, the shared checks), ``text_rows`` (CSV, JSONL),
``xlsx_package`` (the package scan before openpyxl) and ``xlsx_rows`` (openpyxl, row by row).
"""

from __future__ import annotations

from matcher.ingest.table_reader.limits import (
    PayloadTooLarge,
    ReadLimits,
    check_file_size,
    decode_text,
    read_limited,
)
from matcher.ingest.table_reader.text_rows import check_record, csv_rows, jsonl_lines
from matcher.ingest.table_reader.xlsx_rows import xlsx_rows, xlsx_sheet_names

__all__ = [
    "PayloadTooLarge",
    "ReadLimits",
    "check_file_size",
    "check_record",
    "csv_rows",
    "decode_text",
    "jsonl_lines",
    "read_limited",
    "xlsx_rows",
    "xlsx_sheet_names",
]
