"""Settings, read from the environment (and a ``.env`` file) by pydantic-settings.

The graph settings use the names the whole Neo4j ecosystem uses (``NEO4J_URI``,
``NEO4J_USERNAME``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``). With no ``NEO4J_URI`` the embedded
ArcadeDB server is used, kept under ``SCIM_PROCESSOR_HOME``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError


def _default_home() -> Path:
    """``$XDG_DATA_HOME/scim-processor``, else ``~/.local/share/scim-processor``."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scim-processor"


class GraphSettings(BaseSettings):
    """Where the graph is. Unset ``uri`` means: the embedded server under ``home``.

    Attributes:
        uri: ``NEO4J_URI``, a Bolt or Neo4j URI (``bolt://host:7687``, ``neo4j+s://…``). Userinfo in
            it is never echoed in messages.
        username, password: ``NEO4J_USERNAME`` / ``NEO4J_PASSWORD``, the writing user.
        database: ``NEO4J_DATABASE`` (None: the server's default database).
        read_username, read_password: ``NEO4J_READ_USERNAME`` / ``NEO4J_READ_PASSWORD``, a user
            that may only read (on Neo4j, granted the built-in ``reader`` role), used by the read
            paths (``cypher run``). Unset on Neo4j: the read paths use the writing user in READ
            access mode, which Neo4j enforces. Ignored for the embedded server, which creates its
            own read-only user.
    """

    model_config = SettingsConfigDict(env_prefix="NEO4J_", env_file=".env", extra="ignore")

    uri: str | None = None
    username: str = "neo4j"
    password: SecretStr = SecretStr("")
    database: str | None = None
    read_username: str | None = None
    read_password: SecretStr = SecretStr("")


class Settings(BaseSettings):
    """Processing settings (prefix ``SCIM_PROCESSOR_``) plus the graph settings.

    Attributes:
        home: directory of the embedded server's data, state file and default results file.
        batch_size: payloads written per transaction (UNWIND rows), >= 1.
        max_payload_bytes: size limit of one payload's JSON text, in bytes (413 above it).
        max_attribute_bytes: size limit of one attribute value, in UTF-8 bytes (400 invalidValue).
        max_file_bytes: size limit of a whole-document ``.json`` file, in bytes (413 above it;
            JSON Lines files are streamed and have none).
        workers: processes that generate and validate payloads (0: one per core, 1: none).
        max_depth: the deepest nesting of objects and arrays a payload may have (400 invalidSyntax).
        dialect: the IdP dialect of requests in files (``strict``, ``entra``, ``okta``; see
            :mod:`scim_processor.operations.dialects`).
    """

    model_config = SettingsConfigDict(env_prefix="SCIM_PROCESSOR_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    max_payload_bytes: int = Field(default=1_048_576, ge=1)
    max_attribute_bytes: int = Field(default=65_536, ge=1)
    max_file_bytes: int = Field(default=268_435_456, ge=1)
    max_depth: int = Field(default=32, ge=2, le=1_000)
    dialect: str = Field(default="strict", pattern=r"^(?i:strict|entra|okta)$")
    workers: int = Field(default=0, ge=0, le=64)
    graph: GraphSettings = Field(default_factory=GraphSettings)


def _env_name(location: tuple[int | str, ...]) -> str:
    """The environment variable of a :class:`Settings` field: ``("graph", "uri")`` → ``NEO4J_URI``."""
    name = "_".join(str(part) for part in location).upper()
    if name.startswith("GRAPH_"):
        return "NEO4J_" + name.removeprefix("GRAPH_")
    return "SCIM_PROCESSOR_" + name


def invalid_settings(error: ValidationError, env_name: Callable[[tuple[int | str, ...]], str] = _env_name) -> SettingsError:
    """One line for a pydantic-settings failure, naming each variable, not the field (never the value: it may be a secret).

    Args:
        error: what pydantic-settings raised.
        env_name: a field location → the environment variable read for it.

    Returns:
        ``SettingsError("invalid setting: SCIM_PROCESSOR_BATCH_SIZE: Input should be ...; ...")``, to raise.
    """
    problems = [f"{env_name(tuple(item['loc']))}: {item['msg']}" for item in error.errors()]
    return SettingsError("invalid setting: " + "; ".join(problems))


def load_settings() -> Settings:
    """The settings from the environment and ``.env``.

    Raises:
        SettingsError: a value is invalid; the message names the variable and the rule, in one line.
    """
    try:
        return Settings()
    except ValidationError as error:
        raise invalid_settings(error) from None
