"""Where the bundled ``schemas/`` and ``cypher/`` directories are, and loading ``.cypher`` files by name.

In a wheel they are packaged under ``scim_processor/_data``; in a source checkout (editable
install) they are the repository's top-level ``schemas/`` and ``cypher/``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The bundled directory ``name`` (``"schemas"`` or ``"cypher"``)."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


@cache
def cypher(name: str) -> str:
    """The text of ``cypher/NAME.cypher`` (one statement, parameters only), stripped.

    Raises:
        FileNotFoundError: no such file.
    """
    text = (bundled_dir("cypher") / f"{name}.cypher").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("//")]
    return "\n".join(lines).strip()
