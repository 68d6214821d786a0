"""Reading an uploaded CSV file in pieces: its layout (encoding, delimiter, columns) once, then
rows from any byte offset, each with the line it starts on and the offset after it, so a chunk of
work can stop anywhere and the next one start exactly there.

Files come as shops have them: UTF-8 (with or without a byte-order mark) or Windows-1251 (what a
Russian Excel saves), separated by commas or semicolons, with English or Russian column names.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from loyalty.errors import InvalidRequest
from loyalty.platform import files

HEAD_BYTES = 64 * 1024
BOM = b"\xef\xbb\xbf"
csv.field_size_limit(64 * 1024)  # a field larger than this is a broken file, not a customer's name


@dataclass(frozen=True)
class Layout:
    encoding: str
    delimiter: str
    columns: tuple[str, ...]  # canonical names (None-like "" for a column we do not read)
    data_offset: int  # where the first row starts
    data_line: int  # the line number of the first row (1-based; the header is line 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "columns": list(self.columns),
            "data_offset": self.data_offset,
            "data_line": self.data_line,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Layout:
        return cls(
            str(value["encoding"]),
            str(value["delimiter"]),
            tuple(value["columns"]),
            int(value["data_offset"]),
            int(value["data_line"]),
        )


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file
    values: dict[str, str]  # by canonical column name, stripped
    end_offset: int  # the byte just after the row
    end_line: int  # the last line the row took
    problem: str | None = None  # why the row cannot be read at all


def _canonical(name: str, aliases: Mapping[str, str]) -> str:
    key = " ".join(name.strip().strip("\ufeff").lower().replace("_", " ").replace("-", " ").split())
    return aliases.get(key, "")


def layout(bucket: str, key: str, aliases: Mapping[str, str], required: tuple[str, ...]) -> Layout:
    """Read the head of the file: its encoding, delimiter and columns (a 400-like error when the
    header lacks a required column)."""
    head = files.head_bytes(bucket, key, HEAD_BYTES)
    start = len(BOM) if head.startswith(BOM) else 0
    encoding = _encoding(head[start:])
    first_line = head[start:].split(b"\n", 1)[0]
    header_text = first_line.decode(encoding, errors="replace").rstrip("\r")
    delimiter = ";" if header_text.count(";") > header_text.count(",") else ","
    columns = tuple(_canonical(name, aliases) for name in next(csv.reader([header_text], delimiter=delimiter)))
    missing = [name for name in required if name not in columns]
    if missing:
        raise InvalidRequest(
            f"the file's first line must name the columns; missing: {', '.join(missing)}",
            code="bad_header",
            details={"missing": missing, "found": header_text[:300]},
        )
    return Layout(encoding, delimiter, columns, start + len(first_line) + 1, 2)


def _encoding(head: bytes) -> str:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the head
            return "cp1251"
    return "utf-8"


def count_rows(bucket: str, key: str, shape: Layout) -> int:
    """How many rows the file has (blank lines do not count): one streaming pass."""
    return sum(1 for row in rows(bucket, key, shape, shape.data_offset, shape.data_line) if row.values or row.problem)


def rows(bucket: str, key: str, shape: Layout, offset: int, line: int) -> Iterator[Row]:
    """The rows from byte ``offset`` (which starts line ``line``) to the end of the file."""
    position = {"offset": offset, "lines": line - 1}

    def text_lines() -> Iterator[str]:
        for raw in files.read_lines(bucket, key, offset):
            position["offset"] += len(raw)
            position["lines"] += 1
            yield raw.decode(shape.encoding, errors="replace")

    reader = csv.reader(text_lines(), delimiter=shape.delimiter)
    while True:
        first_line = position["lines"] + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(first_line, {}, position["offset"], position["lines"], f"cannot be read as CSV: {exc}")
            continue
        yield _row(record, shape, first_line, position["offset"], position["lines"])


@dataclass(frozen=True)
class Resumed:
    """A job's file, from where the job stands: its rows on, the position, and (at the first
    chunk only) how many rows the file has."""

    rows: Iterator[Row]
    position: dict[str, Any]
    total: int | None

    def after(self, row: Row) -> dict[str, Any]:
        """The position just after ``row``, where the next chunk starts."""
        return {**self.position, "offset": row.end_offset, "line": row.end_line + 1}


def resume(
    bucket: str, key: str, position: Mapping[str, Any], aliases: Mapping[str, str], required: tuple[str, ...]
) -> Resumed:
    """The first chunk reads the file's layout and counts its rows; later ones start where the
    last one stopped."""
    total = None
    if "layout" not in position:
        shape = layout(bucket, key, aliases, required)
        total = count_rows(bucket, key, shape)
        position = {"layout": shape.to_dict(), "offset": shape.data_offset, "line": shape.data_line}
    shape = Layout.from_dict(position["layout"])
    return Resumed(rows(bucket, key, shape, int(position["offset"]), int(position["line"])), dict(position), total)


def _row(record: list[str], shape: Layout, line: int, end_offset: int, end_line: int) -> Row:
    if not any(value.strip() for value in record):
        return Row(line, {}, end_offset, end_line)  # a blank line
    if len(record) > len(shape.columns):
        return Row(line, {}, end_offset, end_line, f"{len(record)} fields where the header has {len(shape.columns)}")
    values = {name: value.strip() for name, value in zip(shape.columns, record, strict=False) if name}
    garbled = any("\ufffd" in value for value in values.values())
    return Row(line, values, end_offset, end_line, f"not valid text in {shape.encoding}" if garbled else None)
