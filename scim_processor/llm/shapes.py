"""Source shapes (issue 16 §1): a record format plus its set of field paths, with a stable fingerprint.

Field paths:

- **CSV**: the header's column names (trimmed; an unnamed column, e.g. after a trailing comma, is
  left out). Every row of a file has the file's shape.
- **LDIF**: the attribute names as written (``objectClass``, ``mail``); an attribute given twice
  is one field whose value is a list.
- **JSON / JSON Lines**: dotted key paths of the leaves. An object nests with ``.``
  (``profile.firstName``). An array of objects selects each item by its ``type`` value when every
  item has a distinct string ``type`` (``emails[type=work].value``), else by its index
  (``phones[0].number``). An array of scalars is one field whose value is the list (``tags``).

Absent fields (missing, null, empty string) are not part of a record's paths, so records that
differ only by absent fields fit one shape: a record *fits* a shape when its paths are a subset of
the shape's fields. The fingerprint is the first 16 hex digits of the SHA-256 of the format and
the sorted field paths, so it does not depend on column order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import Record, RecordError, format_of, parse_text

STRUCTURED = ("csv", "json", "jsonl", "ldif")


@dataclass(frozen=True)
class Shape:
    """A source shape.

    Attributes:
        format: ``csv``, ``json``, ``jsonl`` or ``ldif`` (``jsonl`` and ``json`` records share paths
            but keep their format).
        fields: the field paths, in first-seen order (CSV: header order).
    """

    format: str
    fields: tuple[str, ...]

    @property
    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over the format and the sorted field paths."""
        text = json.dumps([self.format, sorted(set(self.fields))], ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def fits(self, paths: Iterable[str]) -> bool:
        """True if every path is a field of this shape (records differing by absent fields share a shape)."""
        return set(paths) <= set(self.fields)


def flatten(fields: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Path → value of a record's leaves (see the module docstring for the path notation); absent values left out."""
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        path = f"{prefix}{key}"
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, Mapping):
            flat.update(flatten(value, path + "."))
        elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
            types = [item.get("type") if isinstance(item, Mapping) else None for item in value]
            by_type = all(isinstance(t, str) and t for t in types) and len(set(types)) == len(types)
            for index, item in enumerate(value):
                selector = f"[type={types[index]}]" if by_type else f"[{index}]"
                if isinstance(item, Mapping):
                    rest = {k: v for k, v in item.items() if not (by_type and k == "type")}
                    flat.update(flatten(rest, f"{path}{selector}."))
                elif item is not None and item != "":
                    flat[f"{path}{selector}"] = item
        else:
            flat[path] = value
    return flat


@dataclass(frozen=True)
class FlatRecord:
    """A record as field path → value, with its source (``file:line``) and format, or the reason it was rejected."""

    source: str
    format: str
    values: dict[str, Any]
    error: str | None = None

    def record(self) -> Record:
        """The :class:`Record` (flat fields) for the gates and the prompt."""
        return Record(self.source, dict(self.values), self.format)


@dataclass
class SourceFile:
    """One structured record file read for ``map``: its shape and its records (streamed for CSV).

    Attributes:
        path: the file.
        format: its record format.
        header: the CSV header (None for other formats).
        name: how records' sources name the file (``<stdin>`` for standard input spooled to ``path``); "" for ``path``.
    """

    path: Path
    format: str
    header: tuple[str, ...] | None = None
    _records: list[FlatRecord] | None = None
    name: str = ""

    @property
    def label(self) -> str:
        """The file's name in records' sources (``label:line``)."""
        return self.name or str(self.path)

    @classmethod
    def open(cls, path: Path, name: str = "") -> SourceFile:
        """Reads the header (CSV) or every record (other formats).

        Args:
            path: the file; its suffix names the format.
            name: how sources name it, if not by ``path``.

        Raises:
            RecordError: unknown suffix, unreadable file, malformed content or a CSV without a header.
        """
        fmt = format_of(path)
        if fmt not in STRUCTURED:
            raise RecordError(f"{path}: {fmt} records have no shape")
        if fmt == "csv":
            with _open_text(path) as handle:
                try:
                    header = next(csv.reader(handle))
                except StopIteration:
                    raise RecordError(f"{path}: empty CSV file (no header row)") from None
                except csv.Error as error:
                    raise RecordError(f"{path}:1: not CSV: {error}") from None
            names = tuple(name.strip() for name in header)
            named = [name for name in names if name]
            if not named or len(set(named)) != len(named):
                raise RecordError(f"{path}:1: the CSV header must name its columns, each once")
            return cls(path, fmt, names, name=name)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise RecordError(f"{path}: cannot be read: {error}") from None
        records = [FlatRecord(r.source, fmt, flatten(r.fields)) for r in parse_text(text, fmt, name or str(path))]
        return cls(path, fmt, None, records, name)

    def shape(self) -> Shape:
        """The file's shape: the CSV header, else the union of its records' paths (first-seen order)."""
        if self.header is not None:
            return Shape(self.format, tuple(name for name in self.header if name))
        paths: dict[str, None] = {}
        for record in self._records or []:
            paths.update(dict.fromkeys(record.values))
        return Shape(self.format, tuple(paths))

    def records(self) -> Iterator[FlatRecord]:
        """Every record in file order; a CSV row with the wrong number of columns comes with ``error`` set, naming its line."""
        if self._records is not None:
            yield from self._records
            return
        header = self.header or ()
        with _open_text(self.path) as handle:
            reader = csv.reader(handle)
            try:
                next(reader)
                end = reader.line_num
                for row in reader:
                    start, end = end + 1, reader.line_num
                    source = f"{self.label}:{start}"
                    if not any(cell.strip() for cell in row):
                        continue
                    if len(row) != len(header):
                        error = f"line {start} has {len(row)} columns; the header has {len(header)}"
                        yield FlatRecord(source, "csv", {}, error)
                        continue
                    yield FlatRecord(source, "csv", {k: v.strip() for k, v in zip(header, row, strict=True) if k and v.strip()})
            except csv.Error as error:
                raise RecordError(f"{self.path}:{reader.line_num}: not CSV: {error}") from None

    def samples(self, count: int = 5) -> list[FlatRecord]:
        """The first ``count`` readable records, preferring ones that fill the most fields."""
        found: list[FlatRecord] = []
        for record in self.records():
            if record.error is None:
                found.append(record)
            if len(found) >= count * 20:
                break
        return sorted(found, key=lambda r: -len(r.values))[:count]


def _open_text(path: Path) -> io.TextIOWrapper:
    try:
        return open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the caller's with
    except OSError as error:
        raise RecordError(f"{path}: cannot be read: {error}") from None
