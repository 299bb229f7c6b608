"""The read-only connection refuses writes at the server, even when the guard is bypassed.

On the embedded server the read paths log in as ``reader``, whose group may only read the database
(ArcadeDB ``server-groups.json``: ``readRecord`` only); on Neo4j as ``NEO4J_READ_USERNAME`` (the
``reader`` role) or, unset, in READ access mode, which Neo4j enforces. Every query below is sent
through the driver directly: no guard runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import neo4j
import pytest
from neo4j.exceptions import Neo4jError

from scim_processor import ScimProcessor, Settings
from scim_processor.errors import GraphError
from scim_processor.graph import GraphConnection

pytestmark = pytest.mark.graph

WRITES = [
    "CREATE (:User {id: 'w1'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH (u:User) SET u.displayName = 'owned'",
    "MATCH (u:User) REMOVE u.userName",
    "MERGE (u:User {id: 'w2'})",
    "WHEN true THEN CREATE (:User {id: 'w3'}) RETURN 1 AS x",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line LIMIT 2",
    "CREATE CONSTRAINT owned IF NOT EXISTS FOR (n:Owned) REQUIRE n.id IS UNIQUE",
]


def _count(connection: GraphConnection) -> list[dict[str, object]]:
    return connection.read("MATCH (n) RETURN count(n) AS nodes, collect(n.userName) AS names")


@pytest.fixture
def reader(processor: ScimProcessor, graph_settings: Settings) -> Iterator[GraphConnection]:
    """A read-only connection on a graph holding one user."""
    result = processor.process_payload({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"})
    assert result.accepted, result.error
    connection = GraphConnection.open(graph_settings, read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("query", WRITES)
def test_the_read_only_connection_refuses_writes_without_the_guard(reader: GraphConnection, processor: ScimProcessor, query: str) -> None:
    before = _count(processor.connection)
    session = reader.driver.session(database=reader.database, default_access_mode=neo4j.READ_ACCESS)
    with session, pytest.raises(Neo4jError) as refused:
        rows = session.run(query).data()
        pytest.fail(f"the server ran {query!r} for the read-only user: {rows}")
    assert "root:" not in str(refused.value)  # LOAD CSV read nothing
    assert _count(processor.connection) == before
    assert processor.connection.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")[0]["names"].count("owned") == 0


def test_the_read_only_connection_reads(reader: GraphConnection) -> None:
    assert reader.read_only and reader.enforcement
    assert reader.read("MATCH (u:User) RETURN u.userName AS name") == [{"name": "ada"}]


def test_the_read_only_connection_will_not_send_writes(reader: GraphConnection) -> None:
    with pytest.raises(GraphError, match="read-only"):
        reader.write([("CREATE (:User {id: 'w4'})", {})])
    with pytest.raises(GraphError, match="read-only"):
        reader.run_schema("CREATE CONSTRAINT owned2 IF NOT EXISTS FOR (n:Owned) REQUIRE n.id IS UNIQUE")


def test_run_cypher_uses_the_read_only_connection(processor: ScimProcessor) -> None:
    processor.process_payload({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"})
    assert processor.run_cypher("MATCH (u:User) RETURN u.userName AS name") == [{"name": "ada"}]
    connection = processor.read_connection()
    assert connection is not processor.connection and connection.read_only
