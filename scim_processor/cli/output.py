"""What every command shares: the consoles, strict JSON output, one-line errors (exit 2), the progress rate column."""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Literal

import typer
from rich.console import Console
from rich.progress import (
    ProgressColumn,
    Task,
)
from rich.text import Text

from ..errors import ScimProcessorError

out = Console()
err = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    """Prints ``error: MESSAGE`` (one line, stderr) and returns the exit 2 to raise."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _finite(data: Any) -> Any:
    """``data`` with non-finite floats (which strict JSON has no form for) as strings."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(value) for value in data]
    return data


_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


def strict_json(data: Any, indent: int | None = None) -> str:
    """Strict JSON text (RFC 8259: no NaN/Infinity; other non-JSON values as strings).

    Characters that some line splitters treat as line breaks (U+2028, U+2029, U+0085) are
    escaped, so one JSON Lines record stays one line for every reader.
    """
    try:
        text = json.dumps(data, indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(data), indent=indent, default=str, ensure_ascii=False, allow_nan=False)
    return text.translate(_LINE_BREAKS)


def print_json(data: Any) -> None:
    """Prints ``data`` as indented strict JSON on stdout."""
    sys.stdout.write(strict_json(data, indent=2) + "\n")


class RateColumn(ProgressColumn):
    """Payloads per second."""

    def render(self, task: Task) -> Text:
        """The task's rate, once rich has measured one."""
        return Text(f"{task.speed:,.0f}/s" if task.speed else "", style="progress.data.speed")


class Guarded:
    """Runs a command body, turning package errors into exit code 2 with one line."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> Literal[False]:
        if error is None or isinstance(error, (typer.Exit, SystemExit, KeyboardInterrupt)):
            return False
        if isinstance(error, (ScimProcessorError, OSError, ValueError)):
            raise fail(str(error)) from None
        raise fail(f"{type(error).__name__}: {error}") from None

