"""The bearer token every SCIM request must carry (RFC 6750 §2.1, as RFC 7644 §2 expects for SCIM).

The token is ``SCIM_PROCESSOR_API_TOKEN`` when set; otherwise a random token is generated once
into ``$SCIM_PROCESSOR_HOME/api-token``, created with mode 0600 (never overwritten, and refused
if another user may read it). The comparison is constant-time (:func:`hmac.compare_digest`), and
the token is never logged: only the file's path is shown.
"""

from __future__ import annotations

import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from scim2_models import UnauthorizedException

from ..errors import SettingsError

TOKEN_VARIABLE = "SCIM_PROCESSOR_API_TOKEN"  # noqa: S105 - the variable's name, not a secret
TOKEN_FILE = "api-token"  # noqa: S105 - the file's name
_MIN_LENGTH = 16


@dataclass(frozen=True)
class ApiToken:
    """The expected bearer token and where it came from.

    Attributes:
        source: ``"SCIM_PROCESSOR_API_TOKEN"`` or the token file's path (safe to print).
        created: True if this call generated the token file.
    """

    _value: bytes
    source: str
    created: bool = False

    def __repr__(self) -> str:  # never show the secret
        return f"ApiToken(source={self.source!r})"

    def check(self, authorization: str | None) -> None:
        """Accepts ``Authorization: Bearer <token>`` with the expected token.

        Raises:
            UnauthorizedException: 401 (RFC 7644 §3.12) when the header is missing, not a Bearer
                credential, or the token differs; the detail never echoes what was sent.
        """
        scheme, _, credential = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise UnauthorizedException(detail="a bearer token is required (Authorization: Bearer <token>)")
        if not hmac.compare_digest(credential.strip().encode("utf-8", "surrogateescape"), self._value):
            raise UnauthorizedException(detail="the bearer token is not valid")

    def reveal(self) -> str:
        """The token itself (for a client in tests or a one-time display); never log it."""
        return self._value.decode("utf-8", "surrogateescape")


def load_api_token(home: Path, environ: dict[str, str] | None = None) -> ApiToken:
    """The API token: ``SCIM_PROCESSOR_API_TOKEN``, else ``home/api-token`` (generated once, mode 0600).

    Args:
        home: ``SCIM_PROCESSOR_HOME`` (created if missing).
        environ: the environment (default: ``os.environ``).

    Raises:
        SettingsError: the variable is set but shorter than 16 characters, or the file is empty,
            unreadable, or readable by group or others.
    """
    env = os.environ if environ is None else environ
    value = env.get(TOKEN_VARIABLE)
    if value is not None:
        if len(value.strip()) < _MIN_LENGTH:
            raise SettingsError(f"{TOKEN_VARIABLE}: the token must be at least {_MIN_LENGTH} characters")
        return ApiToken(value.strip().encode("utf-8", "surrogateescape"), TOKEN_VARIABLE)
    path = Path(home) / TOKEN_FILE
    created = False
    try:
        Path(home).mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(32) + "\n")
            created = True
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SettingsError(f"{path}: the token file must be readable by its owner only (chmod 600 {path})")
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot read or create the API token file: {getattr(error, 'strerror', None) or error}") from None
    if len(token) < _MIN_LENGTH:
        raise SettingsError(f"{path}: the token file holds no token of at least {_MIN_LENGTH} characters")
    return ApiToken(token.encode("ascii"), str(path), created)
