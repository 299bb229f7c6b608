"""One connection to the configured graph server, through the official ``neo4j`` driver.

With ``NEO4J_URI`` set, it is that server (Neo4j 5); otherwise the embedded ArcadeDB server is
used: started for the connection's lifetime, or adopted if another command (or ``db start``)
already runs it, and held by a lease so that it is stopped only when its last user is done.

Writes go through the driver's managed transactions; reads through managed READ transactions.
A *read-only* connection (``read_only=True``) is what the read paths use (``cypher run``): it logs
in as a user that may only read (the embedded server's ``reader``, or ``NEO4J_READ_USERNAME`` on
Neo4j), so a write the guard failed to catch is still refused by the server.

Time bounds: a connection attempt gives up after :data:`CONNECTION_TIMEOUT` s and a managed
transaction stops retrying after :data:`MAX_TRANSACTION_RETRY_TIME` s, so a server that dies
mid-run is reported as one :class:`~scim_processor.errors.GraphError` line within seconds. The
driver's own log records (multi-line retry warnings) go to a ``NullHandler`` unless the
application configures logging.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Self, TypeVar

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable, SessionExpired

from ..config import Settings
from ..errors import GraphError
from .embedded import READER_USERNAME, USERNAME, EmbeddedServer
from .statement import Statement

T = TypeVar("T")

CONNECTION_TIMEOUT = 5.0
"""Seconds to establish one Bolt connection (driver ``connection_timeout``)."""
MAX_TRANSACTION_RETRY_TIME = 5.0
"""Seconds a managed transaction is retried on transient failures (driver ``max_transaction_retry_time``)."""
EMBEDDED_MAX_TRANSACTION_RETRY_TIME = 2.0
"""The same for the embedded server: on 127.0.0.1 a lost connection means a stopped server, not a failover."""

# The driver logs each retry as a multi-line WARNING; without a handler Python would print them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


def redact_uri(uri: str) -> str:
    """``uri`` without userinfo: ``bolt://user:secret@host:7687`` → ``bolt://host:7687``.

    Used for every URI that appears in a message (RFC 3986 §3.2.1 userinfo is deprecated for
    credentials and must not be displayed).
    """
    try:
        parts = urllib.parse.urlsplit(uri)
    except ValueError:
        return "<unparsable URI>"
    if "@" not in parts.netloc:
        return uri
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _driver(uri: str, auth: tuple[str, str], retry_time: float = MAX_TRANSACTION_RETRY_TIME) -> neo4j.Driver:
    """A driver with the project's time bounds.

    Raises:
        GraphError: the URI is not one the driver accepts (its message, which quotes the URI with
            any userinfo, is replaced by one that does not).
    """
    try:
        return neo4j.GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=CONNECTION_TIMEOUT,
            max_transaction_retry_time=retry_time,
            connection_acquisition_timeout=CONNECTION_TIMEOUT * 3,
        )
    except (DriverError, ValueError):
        hint = " (credentials go in NEO4J_USERNAME / NEO4J_PASSWORD, not in the URI)" if "@" in uri else ""
        raise GraphError(f"NEO4J_URI {redact_uri(uri)} is not a URI the neo4j driver accepts{hint}") from None


class GraphConnection:
    """A driver bound to one database, and what to release when it closes.

    Use :meth:`open` and close it (it is a context manager).

    Attributes:
        driver: the ``neo4j`` driver.
        database: the database name (None: the server's default).
        backend: ``"neo4j"`` or ``"arcadedb"``, from the server's agent string.
        uri: the Bolt URI connected to, without userinfo.
        read_only: True if this connection may only read (:meth:`write` and :meth:`run_schema` raise).
        enforcement: for a read-only connection, what makes it read-only (a sentence for users), else None.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None,
        uri: str,
        backend: str,
        on_close: Callable[[], Any] | None = None,
        *,
        read_only: bool = False,
        enforcement: str | None = None,
        alive: Callable[[], bool] | None = None,
    ):
        self.driver = driver
        self.database = database
        self.uri = redact_uri(uri)
        self.backend = backend
        self.read_only = read_only
        self.enforcement = enforcement
        self._on_close = on_close
        self._alive = alive

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False) -> GraphConnection:
        """Connects to ``NEO4J_URI``, or to the embedded server (starting or adopting it).

        Args:
            settings: the graph settings (``settings.graph``) and the embedded server's ``home``.
            read_only: log in as the read-only user: the embedded server's ``reader`` (a group with
                only ``readRecord`` on the database), or ``NEO4J_READ_USERNAME``; on Neo4j without
                one, the writing user with every session in READ access mode (Neo4j refuses writes
                in READ transactions; ``enforcement`` says so).

        Raises:
            GraphError: the server cannot be started or reached, or refuses the credentials; or a
                read-only connection was asked of an ArcadeDB server given by ``NEO4J_URI`` with no
                ``NEO4J_READ_USERNAME`` (ArcadeDB does not enforce READ access mode).
        """
        graph = settings.graph
        if graph.uri:
            auth = (graph.username, graph.password.get_secret_value())
            enforcement = None
            if read_only and graph.read_username:
                auth = (graph.read_username, graph.read_password.get_secret_value())
                enforcement = f"database user {graph.read_username!r} (NEO4J_READ_USERNAME)"
            elif read_only:
                enforcement = "READ access mode enforced by Neo4j (NEO4J_READ_USERNAME is unset)"
            connection = cls._checked(_driver(graph.uri, auth), graph.database, graph.uri, None, read_only, enforcement, None)
            if read_only and not graph.read_username and connection.backend != "neo4j":
                connection.close()
                raise GraphError(
                    f"the server at {connection.uri} does not enforce READ access mode; set NEO4J_READ_USERNAME "
                    "and NEO4J_READ_PASSWORD to a user that may only read"
                )
            return connection
        server = EmbeddedServer(settings.home)
        info, lease = server.acquire()
        try:
            if read_only:
                auth, enforcement = (READER_USERNAME, server.reader_password()), f"embedded server user {READER_USERNAME!r} (read-only group)"
            else:
                auth, enforcement = (USERNAME, server.password()), None
            driver = _driver(info.uri, auth, EMBEDDED_MAX_TRANSACTION_RETRY_TIME)
        except BaseException:
            server.release(lease)
            raise
        return cls._checked(driver, info.database, info.uri, lambda: server.release(lease), read_only, enforcement, info.alive)

    @classmethod
    def _checked(
        cls,
        driver: neo4j.Driver,
        database: str | None,
        uri: str,
        on_close: Callable[[], Any] | None,
        read_only: bool,
        enforcement: str | None,
        alive: Callable[[], bool] | None,
    ) -> GraphConnection:
        """Verifies the server answers (and who it is) before handing out the connection."""
        try:
            driver.verify_connectivity()
            agent = driver.get_server_info().agent
        except (AuthError, ServiceUnavailable, DriverError, Neo4jError, OSError, ValueError) as error:
            driver.close()
            if on_close:
                on_close()
            if isinstance(error, AuthError):
                raise GraphError(f"the graph server at {redact_uri(uri)} refused the credentials") from error
            message = redact_uri(uri).join(str(error).split(uri)) if uri in str(error) else str(error)
            first = message.splitlines()[0] if message else type(error).__name__
            raise GraphError(f"cannot reach the graph server at {redact_uri(uri)}: {first}") from error
        backend = "arcadedb" if "ArcadeDB" in agent else "neo4j"
        return cls(driver, database, uri, backend, on_close, read_only=read_only, enforcement=enforcement, alive=alive)

    def _went_away(self, error: Exception) -> GraphError:
        """One line for a lost server, saying whether the embedded server's process is gone."""
        if self._alive is not None and not self._alive():
            return GraphError(f"the embedded graph server at {self.uri} stopped running (its process is gone)")
        first = (str(error).splitlines() or [type(error).__name__])[0]
        return GraphError(f"the graph server at {self.uri} went away: {first}")

    def read(self, query: str, parameters: Mapping[str, Any] | None = None, *, plain: bool = False) -> list[dict[str, Any]]:
        """Runs one query in a managed READ transaction and returns its rows as dicts.

        Args:
            query: the Cypher.
            parameters: its parameters.
            plain: the values as the driver decoded them, without its conversion of nodes,
                relationships and paths to dicts (a walk over every value, in Python): for results
                of scalars and lists only, such as a batch's state read.

        Raises:
            GraphError: the server went away.
            neo4j.exceptions.Neo4jError: the server refused the query (``Forbidden`` for a write on
                a read-only connection).
        """

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            records = tx.run(query, dict(parameters or {}))
            return [dict(record) for record in records] if plain else [record.data() for record in records]

        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
                return session.execute_read(work)
        except (ServiceUnavailable, SessionExpired) as error:
            raise self._went_away(error) from error

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise GraphError(f"this connection is read-only ({self.enforcement}); writes need a read-write connection")

    def write(self, statements: Iterable[tuple[str, Mapping[str, Any]] | Statement]) -> list[list[dict[str, Any]]]:
        """Runs the statements in order in ONE managed write transaction (all or nothing).

        Args:
            statements: ``(query, parameters)`` pairs or :class:`Statement` objects (their name is not sent).

        Returns:
            The rows of each statement, in order.

        Raises:
            GraphError: the connection is read-only, or the server went away.
            neo4j.exceptions.Neo4jError: the server refused a statement.
        """
        self._refuse_if_read_only()
        batch = [(statement[0], statement[1]) for statement in statements]

        def work(tx: neo4j.ManagedTransaction) -> list[list[dict[str, Any]]]:
            return [[record.data() for record in tx.run(item[0], dict(item[1]))] for item in batch]

        try:
            with self.driver.session(database=self.database) as session:
                return session.execute_write(work)
        except (ServiceUnavailable, SessionExpired) as error:
            raise self._went_away(error) from error

    def run_schema(self, query: str) -> None:
        """Runs one schema (DDL) statement in its own auto-commit transaction.

        Raises:
            GraphError: the connection is read-only, or the server went away.
        """
        self._refuse_if_read_only()
        try:
            with self.driver.session(database=self.database) as session:
                session.run(query).consume()
        except (ServiceUnavailable, SessionExpired) as error:
            raise self._went_away(error) from error

    def close(self) -> None:
        """Closes the driver and releases the embedded server (the last user stops a transient one)."""
        self.driver.close()
        if self._on_close:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
