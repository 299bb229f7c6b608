"""One connection to the configured graph server, through the official ``neo4j`` driver.

With ``NEO4J_URI`` set, it is that server (Neo4j 5); otherwise the embedded ArcadeDB server is
used, started for the connection's lifetime unless ``scim-processor db start`` already runs it.
Writes go through the driver's managed transactions (retried on transient errors); reads through
managed READ transactions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import neo4j
from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

from ..config import Settings
from ..errors import GraphError
from .embedded import USERNAME, EmbeddedServer

T = TypeVar("T")


class GraphConnection:
    """A driver bound to one database, and what to stop when it closes.

    Use :meth:`open` and close it (it is a context manager).

    Attributes:
        driver: the ``neo4j`` driver.
        database: the database name (None: the server's default).
        backend: ``"neo4j"`` or ``"arcadedb"``, from the server's agent string.
        uri: the Bolt URI connected to.
    """

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str | None,
        uri: str,
        backend: str,
        on_close: Callable[[], None] | None = None,
    ):
        self.driver = driver
        self.database = database
        self.uri = uri
        self.backend = backend
        self._on_close = on_close

    @classmethod
    def open(cls, settings: Settings) -> GraphConnection:
        """Connects to ``NEO4J_URI``, or to the embedded server (starting it if needed).

        Raises:
            GraphError: the server cannot be started or reached, or refuses the credentials.
        """
        graph = settings.graph
        if graph.uri:
            driver = neo4j.GraphDatabase.driver(graph.uri, auth=(graph.username, graph.password.get_secret_value()))
            return cls._checked(driver, graph.database, graph.uri, None)
        server = EmbeddedServer(settings.home)
        already = server.status()
        info = already or server.start()
        on_close = None if (already is not None) else server.stop
        driver = neo4j.GraphDatabase.driver(info.uri, auth=(USERNAME, server.password()))
        return cls._checked(driver, info.database, info.uri, on_close)

    @classmethod
    def _checked(cls, driver: neo4j.Driver, database: str | None, uri: str, on_close: Callable[[], None] | None) -> GraphConnection:
        """Verifies the server answers (and who it is) before handing out the connection."""
        try:
            driver.verify_connectivity()
            agent = driver.get_server_info().agent
        except (AuthError, ServiceUnavailable, DriverError, Neo4jError, OSError, ValueError) as error:
            driver.close()
            if on_close:
                on_close()
            if isinstance(error, AuthError):
                raise GraphError(f"the graph server at {uri} refused the credentials") from error
            raise GraphError(f"cannot reach the graph server at {uri}: {error}") from error
        return cls(driver, database, uri, "arcadedb" if "ArcadeDB" in agent else "neo4j", on_close)

    def read(self, query: str, parameters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Runs one query in a managed READ transaction and returns its rows as dicts."""

        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, dict(parameters or {}))]

        with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
            return session.execute_read(work)

    def write(self, statements: Iterable[tuple[str, Mapping[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Runs the statements in order in ONE managed write transaction (all or nothing).

        Returns:
            The rows of each statement, in order.
        """
        batch = list(statements)

        def work(tx: neo4j.ManagedTransaction) -> list[list[dict[str, Any]]]:
            return [[record.data() for record in tx.run(query, dict(params))] for query, params in batch]

        with self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def run_schema(self, query: str) -> None:
        """Runs one schema (DDL) statement in its own auto-commit transaction."""
        with self.driver.session(database=self.database) as session:
            session.run(query).consume()

    def close(self) -> None:
        """Closes the driver and stops the embedded server if this connection started it."""
        self.driver.close()
        if self._on_close:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> GraphConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
