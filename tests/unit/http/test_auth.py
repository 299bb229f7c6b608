"""The bearer token: where it comes from, how the file is created, how requests are checked."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from scim2_models import UnauthorizedException

from scim_processor.errors import SettingsError
from scim_processor.http.auth import TOKEN_FILE, TOKEN_VARIABLE, load_api_token


def test_a_token_is_generated_once_into_a_0600_file(tmp_path: Path) -> None:
    first = load_api_token(tmp_path / "home", {})
    path = tmp_path / "home" / TOKEN_FILE
    assert first.created and first.source == str(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_api_token(tmp_path / "home", {})
    assert not second.created and second.reveal() == first.reveal() and len(first.reveal()) >= 32


def test_the_variable_wins_and_is_never_shown(tmp_path: Path) -> None:
    token = load_api_token(tmp_path, {TOKEN_VARIABLE: "s3cret-token-0123456789"})
    assert token.source == TOKEN_VARIABLE and not (tmp_path / TOKEN_FILE).exists()
    assert "s3cret" not in repr(token) and "s3cret" not in str(token)


@pytest.mark.parametrize("value", ["", "short"])
def test_a_short_token_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match=TOKEN_VARIABLE):
        load_api_token(tmp_path, {TOKEN_VARIABLE: value})


def test_a_token_file_others_may_read_is_refused(tmp_path: Path) -> None:
    load_api_token(tmp_path, {})
    os.chmod(tmp_path / TOKEN_FILE, 0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        load_api_token(tmp_path, {})


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic czNjcmV0LXRva2VuLTAxMjM0NTY3ODk=", "Bearer s3cret-token-012345678", "Bearer s3cret-token-0123456789x"],
)
def test_missing_or_wrong_credentials_are_401(tmp_path: Path, header: str | None) -> None:
    token = load_api_token(tmp_path, {TOKEN_VARIABLE: "s3cret-token-0123456789"})
    with pytest.raises(UnauthorizedException) as raised:
        token.check(header)
    assert raised.value.status == 401
    assert "s3cret" not in str(raised.value.detail)


@pytest.mark.parametrize("header", ["Bearer s3cret-token-0123456789", "bearer s3cret-token-0123456789", "Bearer  s3cret-token-0123456789 "])
def test_the_right_token_passes(tmp_path: Path, header: str) -> None:
    load_api_token(tmp_path, {TOKEN_VARIABLE: "s3cret-token-0123456789"}).check(header)
