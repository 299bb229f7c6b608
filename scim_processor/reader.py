"""Stage 1, read: SCIM payload files → payloads, each with the source it came from.

Accepted inputs: a ``.json`` file holding one resource, a JSON array of resources, or a SCIM
``ListResponse`` (RFC 7644 §3.4.2, as HR exports and ``GET /Users`` produce); a ``.jsonl`` /
``.ndjson`` file with one resource per line; or a directory of such files (recursively, in
name order). A payload that is not JSON, or larger than the limit, becomes a payload carrying
its SCIM error (400 invalidSyntax, 413) instead of stopping the run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ScimError, invalid_syntax

LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass
class Payload:
    """One payload: ``source`` is ``<file>`` or ``<file>:<n>`` (line of a JSON Lines file, or
    1-based element of an array / ListResponse); ``document`` is the parsed JSON, or None with
    ``error`` set when it could not be read; ``size`` is its JSON text's size in bytes, if known."""

    source: str
    document: Any = None
    error: ScimError | None = None
    size: int | None = None


def files_of(paths: Iterable[Path]) -> list[Path]:
    """The payload files named by ``paths`` (directories expanded recursively, sorted).

    Raises:
        FileNotFoundError: a path does not exist.
    """
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    return found


def _too_large(size: int, limit: int) -> ScimError:
    return ScimError(413, None, f"the payload is {size} bytes; the limit is {limit} bytes (RFC 7644 §3.12)")


def _parse(text: str, source: str, limit: int) -> Payload:
    size = len(text.encode("utf-8"))
    if size > limit:
        return Payload(source, None, _too_large(size, limit))
    try:
        return Payload(source, json.loads(text), size=size)
    except json.JSONDecodeError as error:
        return Payload(source, None, invalid_syntax(f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"))


def read_file(path: Path, max_payload_bytes: int) -> Iterator[Payload]:
    """The payloads of one file (see the module docstring)."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        yield Payload(name, None, invalid_syntax(f"cannot read the file as UTF-8 text: {error}"))
        return
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield _parse(line, f"{name}:{number}", max_payload_bytes)
        return
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        yield _parse(text, name, max_payload_bytes)
        return
    items: list[Any] | None = None
    if isinstance(document, list):
        items = document
    elif isinstance(document, dict) and LIST_RESPONSE_URN in (document.get("schemas") or []):
        items = document.get("Resources") or []
    if items is None:
        yield _parse(text, name, max_payload_bytes)
        return
    for number, item in enumerate(items, start=1):
        size = len(json.dumps(item).encode("utf-8"))
        source = f"{name}:{number}"
        yield Payload(source, None, _too_large(size, max_payload_bytes)) if size > max_payload_bytes else Payload(source, item, size=size)


def read_paths(paths: Iterable[Path], max_payload_bytes: int = 1_048_576) -> Iterator[Payload]:
    """Every payload of every file under ``paths``, in order.

    Raises:
        FileNotFoundError: a path does not exist (before anything is read).
    """
    for path in files_of(paths):
        yield from read_file(path, max_payload_bytes)
