r"""Stage 1, read: SCIM payload files → payloads, each with the source it came from, as a stream.

Accepted inputs: a ``.json`` file holding one resource, a JSON array of resources, or a SCIM
``ListResponse`` (RFC 7644 §3.4.2, as HR exports and ``GET /Users`` produce); a ``.jsonl`` /
``.ndjson`` file with one resource per line; a directory of such files (recursively, in name
order); or ``-``, standard input (JSON Lines, or one JSON document if its first line is not a
whole JSON object). JSON Lines files are read line by line (split on ``\n`` only, each line decoded as UTF-8
on its own), so memory stays bounded and a bad line rejects that line, not the file.

Nothing here raises for bad content: a payload that cannot be read carries its SCIM error
(400 ``invalidSyntax``) instead. Strict JSON (RFC 8259): ``NaN`` and ``Infinity`` are not numbers
(RFC 7643 §2.3.3); strings must be valid Unicode; nesting is bounded (:func:`inspect_document`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import orjson

from ..errors import InvalidSyntaxError, InvalidValueError, ScimError

LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SUFFIXES = (".json", ".jsonl", ".ndjson")
LINE_SUFFIXES = (".jsonl", ".ndjson")
# orjson reads an integer literal of 19 or more digits as a float when it is outside 64 bits,
# where json keeps the exact int (which the SCIM gate then rejects as out of range): text with a
# run of 19 digits is read by json instead, so no verdict depends on the parser. (Found by mapping
# every digit to "0" and everything else to " ": bytes.translate runs several times faster than a regex.)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_DIGITS = b"0" * 19
STDIN = Path("-")
"""The path that stands for standard input on a command line."""


@dataclass
class Payload:
    """One payload.

    Attributes:
        source: ``<file>``, ``<file>:<line>`` (JSON Lines, 1-based) or ``<file>:<n>`` (1-based
            element of an array / ListResponse), or a caller-given name.
        document: the parsed JSON, or None when it could not be read (``error`` set) or was
            not parsed because it is over the size limit (``size`` set).
        error: the SCIM error of a payload that could not be read.
        size: the size of its JSON text in bytes, if known.
    """

    source: str
    document: Any = None
    error: ScimError | None = None
    size: int | None = None


def files_of(paths: Iterable[Path], suffixes: Iterable[str] = SUFFIXES) -> list[Path]:
    """The input files named by ``paths``: files as given, directories expanded recursively.

    The one listing of inputs every command shares (``process``, ``map``).

    Args:
        paths: files, directories, or ``-`` (:data:`STDIN`, kept as it is, once).
        suffixes: the file suffixes taken from a directory (lower case, with the dot); a file
            named explicitly is taken whatever its suffix.

    Returns:
        The files in order: each path's in turn, a directory's sorted by path.

    Raises:
        FileNotFoundError: a path does not exist.
    """
    wanted = tuple(suffix.lower() for suffix in suffixes)
    found: list[Path] = []
    for path in map(Path, paths):
        if path == STDIN:
            if STDIN not in found:
                found.append(STDIN)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return found


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6, RFC 7643 §2.3.3)")


def loads(text: str | bytes) -> Any:
    """Strict JSON: like :func:`json.loads`, refusing ``NaN`` / ``Infinity``.

    Raises:
        InvalidSyntaxError: not JSON, a non-finite number, or nested too deeply for the parser.
    """
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise InvalidSyntaxError(f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    except UnicodeDecodeError as error:
        raise InvalidSyntaxError(f"not UTF-8 text: byte {error.start}: {error.reason}") from None
    except RecursionError:
        raise InvalidSyntaxError("the JSON is nested too deeply to read") from None
    except ValueError as error:
        raise InvalidSyntaxError(str(error)) from None


def parse_bytes(data: bytes) -> Any:
    """Strict JSON from UTF-8 bytes, as :func:`loads` reads it, parsed by ``orjson`` where that is the same.

    ``orjson`` (several times faster than :mod:`json`) reads every well-formed document the
    way :func:`loads` does; whatever it refuses (bad JSON, bad UTF-8, lone surrogates, more than
    1,024 levels) and any text with a run of 19 digits (see ``_LONG_DIGITS``) is read by
    :func:`loads` again, so the result and the error message are exactly :func:`loads`'.

    Raises:
        InvalidSyntaxError: as :func:`loads`.
        UnicodeDecodeError: ``data`` is not UTF-8.
    """
    if _LONG_DIGITS not in data.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return loads(data.decode("utf-8"))


def _parse(data: bytes, source: str, limit: int) -> Payload:
    if len(data) > limit:
        return Payload(source, None, size=len(data))  # the size check rejects it (413) without parsing
    try:
        return Payload(source, parse_bytes(data), size=len(data))
    except UnicodeDecodeError as error:
        return Payload(source, None, InvalidSyntaxError(f"not UTF-8 text: byte {error.start}: {error.reason}"))
    except InvalidSyntaxError as error:
        return Payload(source, None, error)


def _read_lines(path: Path, limit: int) -> Iterator[Payload]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):  # binary lines end at b"\n" only
            if line.strip():
                yield _parse(line.rstrip(b"\r\n"), f"{path}:{number}", limit)


def read_file(path: Path, max_payload_bytes: int, max_file_bytes: int) -> Iterator[Payload]:
    """The payloads of one file (see the module docstring), lazily.

    Args:
        path: the file.
        max_payload_bytes: payloads above this are not parsed (the pipeline rejects them: 413).
        max_file_bytes: a whole-document ``.json`` file above this is rejected unread (413);
            JSON Lines files have no such limit (they are streamed).
    """
    if path == STDIN:
        yield from _read_stdin(max_payload_bytes, max_file_bytes)
        return
    name = str(path)
    if path.suffix.lower() in LINE_SUFFIXES:
        try:
            yield from _read_lines(path, max_payload_bytes)
        except OSError as error:
            yield Payload(name, None, InvalidSyntaxError(f"cannot read the file: {error.strerror or error}"))
        return
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            yield Payload(name, None, size=size)
            return
        data = path.read_bytes()
    except OSError as error:
        yield Payload(name, None, InvalidSyntaxError(f"cannot read the file: {error.strerror or error}"))
        return
    yield from _document(data, name, max_payload_bytes, max_file_bytes)


def _document(data: bytes, name: str, max_payload_bytes: int, max_file_bytes: int) -> Iterator[Payload]:
    """The payloads of one whole JSON document: a resource, an array of them, or a ListResponse."""
    whole = _parse(data, name, max(max_payload_bytes, max_file_bytes))
    document = whole.document
    items: list[Any] | None = None
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and LIST_RESPONSE_URN in (document.get("schemas") or []):
        resources = document.get("Resources") or []
        items = resources if isinstance(resources, list) else None
    if items is None:
        if whole.error is None and len(data) > max_payload_bytes:
            whole = Payload(name, None, size=len(data))
        yield whole
        return
    for number, item in enumerate(items, start=1):
        yield Payload(f"{name}:{number}", item)


def _read_stdin(max_payload_bytes: int, max_file_bytes: int) -> Iterator[Payload]:
    """Standard input, as JSON Lines or as one document.

    JSON Lines if its first non-blank line is a whole JSON object (not a ListResponse), else one
    document (as a ``.json`` file, up to ``max_file_bytes``).
    """
    stream = sys.stdin.buffer
    number, first = 0, b""
    while not first.strip():
        first = stream.readline()
        number += 1
        if not first:
            return
    try:
        head = loads(first)
    except InvalidSyntaxError:
        head = None
    if isinstance(head, dict) and LIST_RESPONSE_URN not in (head.get("schemas") or []):
        yield _parse(first.rstrip(b"\r\n"), f"<stdin>:{number}", max_payload_bytes)
        for later, line in enumerate(stream, start=number + 1):
            if line.strip():
                yield _parse(line.rstrip(b"\r\n"), f"<stdin>:{later}", max_payload_bytes)
        return
    data = first + stream.read(max_file_bytes + 1 - len(first))
    if len(data) > max_file_bytes:
        yield Payload("<stdin>", None, size=len(data))
        return
    yield from _document(data, "<stdin>", max_payload_bytes, max_file_bytes)


def read_paths(paths: Iterable[Path], max_payload_bytes: int = 1_048_576, max_file_bytes: int = 268_435_456) -> Iterator[Payload]:
    """Every payload of every file under ``paths``, in order, lazily.

    Raises:
        FileNotFoundError: a path does not exist (before anything is read).
    """
    for path in files_of(paths):
        yield from read_file(path, max_payload_bytes, max_file_bytes)


def count_payloads(paths: Iterable[Path]) -> int:
    """A quick estimate of how many payloads ``paths`` hold (lines of JSON Lines files, 1 per other file), for progress bars."""
    total = 0
    for path in paths:
        if path == STDIN:  # cannot be read twice: not counted
            continue
        if path.suffix.lower() not in LINE_SUFFIXES:
            total += 1
            continue
        with path.open("rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return total


def inspect_document(document: Any, max_depth: int) -> None:
    """Checks what JSON parsing lets through but SCIM cannot store: nesting, Unicode, numbers.

    Walks the document without recursion, so any depth is safe to inspect. Only what can fail is
    visited (containers, non-ASCII strings, floats), and a path is spelled only for an error.

    Raises:
        InvalidSyntaxError: nested deeper than ``max_depth`` objects/arrays; a string or member
            name with a lone UTF-16 surrogate (not Unicode text, RFC 8259 §8.2).
        InvalidValueError: a non-finite number (NaN, ±Infinity: not JSON numbers, RFC 7643 §2.3.3).
    """
    # An entry: (value, depth, the entry of its container or None, its key there).
    stack: list[tuple[Any, int, Any, Any]] = [(document, 1, None, None)]
    while stack:
        entry = stack.pop()
        value, depth = entry[0], entry[1]
        kind = type(value)
        if kind is dict or kind is list or isinstance(value, (dict, list)):
            if depth > max_depth:
                path = _path_of(entry)
                raise InvalidSyntaxError(f"{path or 'the payload'} is nested deeper than {max_depth} levels", path or None)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and not key.isascii():
                    _check_text(key, entry)
                if isinstance(item, (dict, list, float)) or (isinstance(item, str) and not item.isascii()):
                    stack.append((item, depth + 1, entry, key))  # anything else cannot fail: not visited
        elif isinstance(value, str):
            _check_text(value, entry)
        elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            path = _path_of(entry)
            raise InvalidValueError(f"{path}: {value} is not a JSON number (RFC 7643 §2.3.3)", path)


def _path_of(entry: tuple[Any, int, Any, Any]) -> Any:
    """The path of an entry of :func:`inspect_document`'s walk: ``a.b[0].c``, ``""`` for the document."""
    keys = []
    while entry[2] is not None:
        keys.append(entry[3])
        entry = entry[2]
    path: Any = ""
    for key in reversed(keys):
        path = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)
    return path


def _check_text(text: str, entry: tuple[Any, int, Any, Any]) -> None:
    """``text`` (a string, or a member name of the container ``entry``) is Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        path = _path_of(entry)
        where = path or "a member name"
        raise InvalidSyntaxError(f"{where}: invalid Unicode (lone surrogate at character {error.start})", path or None) from None
