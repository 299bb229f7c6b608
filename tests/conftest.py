"""Fixtures: a real graph server for the session, and a processor on a wiped graph per test.

Tests under ``tests/integration`` and ``tests/e2e`` get the ``graph`` marker automatically, so
``pytest -m "not graph"`` runs the unit tests alone, without a server.

The ``graph_settings`` fixture is parametrised over backends: the embedded ArcadeDB server
(started in its own temporary directory on free ports), and Neo4j 5 in a testcontainers
container when a Docker engine answers (skipped with the reason otherwise). ``NEO4J_URI`` set
in the environment replaces the embedded server with that server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scim_processor import ScimProcessor, Settings
from scim_processor.config import GraphSettings
from scim_processor.graph import EmbeddedServer, GraphConnection
from scim_processor.graph.embedded import READER_USERNAME
from scim_processor.mapping import CompiledSchema
from scim_processor.resources import bundled_dir
from scim_processor.scim import GroundingContext, SchemaSet, read_schema_dir
from scim_processor.stages.retrieve import FileRetriever

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
_GRAPH_DIRS = ("integration", "e2e", "faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test under tests/integration, tests/e2e and tests/faults with ``graph``."""
    for item in items:
        if any(part in _GRAPH_DIRS for part in Path(str(item.fspath)).relative_to(ROOT / "tests").parts[:-1]):
            item.add_marker(pytest.mark.graph)


def _docker_engine() -> str | None:
    """None if a Docker engine answers, else why not."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as error:  # no engine, no socket, no permission
        return f"no Docker engine ({type(error).__name__}); the Neo4j container tests run where one exists"
    return None


@pytest.fixture(scope="session", params=["embedded", "neo4j-container"])
def graph_settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at a running graph server for the whole session."""
    home = tmp_path_factory.mktemp("scim-home")
    if request.param == "embedded":
        if os.environ.get("NEO4J_URI"):
            yield Settings(home=home, graph=GraphSettings())
            return
        server = EmbeddedServer(home)
        info = server.start()
        try:
            graph = GraphSettings(
                uri=info.uri,
                username="root",
                password=server.password(),
                database=info.database,
                read_username=READER_USERNAME,
                read_password=server.reader_password(),
            )
            yield Settings(home=home, graph=graph, batch_size=50)
        finally:
            server.stop()
        return
    reason = _docker_engine()
    if reason:
        pytest.skip(reason)
    from testcontainers.neo4j import Neo4jContainer

    with Neo4jContainer("neo4j:5") as container:
        graph = GraphSettings(uri=container.get_connection_url(), username="neo4j", password=container.password)
        yield Settings(home=home, graph=graph, batch_size=50)


@pytest.fixture(scope="session")
def connection(graph_settings: Settings) -> Iterator[GraphConnection]:
    """One connection for the session."""
    conn = GraphConnection.open(graph_settings)
    yield conn
    conn.close()


def wipe(conn: GraphConnection) -> None:
    """Removes every node and relationship (constraints stay)."""
    conn.write([("MATCH (n) DETACH DELETE n", {})])


@pytest.fixture
def processor(connection: GraphConnection, graph_settings: Settings) -> ScimProcessor:
    """A processor on a wiped graph with the bundled schemas loaded."""
    wipe(connection)
    proc = ScimProcessor(connection, graph_settings)
    proc.load_schemas()
    return proc


@pytest.fixture
def empty_processor(connection: GraphConnection, graph_settings: Settings) -> ScimProcessor:
    """A processor on a wiped graph, nothing loaded."""
    wipe(connection)
    return ScimProcessor(connection, graph_settings)


@pytest.fixture(scope="session")
def schema_set() -> SchemaSet:
    """The bundled schemas, read from the files."""
    return read_schema_dir(bundled_dir("schemas"))


@pytest.fixture(scope="session")
def compiled(schema_set: SchemaSet) -> CompiledSchema:
    """The bundled schemas, compiled (what every stage asks)."""
    return CompiledSchema.compile(schema_set)


@pytest.fixture(scope="session")
def file_retriever() -> FileRetriever:
    """A retriever reading the schema files (for unit tests that need no server)."""
    return FileRetriever(bundled_dir("schemas"))


@pytest.fixture(scope="session")
def user_context(compiled: CompiledSchema) -> GroundingContext:
    """The User grounding context from the files."""
    return compiled.contexts["User"]


@pytest.fixture(scope="session")
def group_context(compiled: CompiledSchema) -> GroundingContext:
    """The Group grounding context from the files."""
    return compiled.contexts["Group"]


def run_cli(*args: str, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m scim_processor ARGS`` as a user would, capturing its output."""
    command = [sys.executable, "-m", "scim_processor", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


def cli_environment(settings: Settings, home: Path) -> dict[str, str]:
    """The environment that points the CLI at ``settings``' graph server (read-only user included)."""
    graph = settings.graph
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith(("OPENAI_", "NEO4J_"))},
        "NEO4J_URI": graph.uri or "", "NEO4J_USERNAME": graph.username,
        "NEO4J_PASSWORD": graph.password.get_secret_value(), "NEO4J_DATABASE": graph.database or "",
        "NEO4J_READ_USERNAME": graph.read_username or "", "NEO4J_READ_PASSWORD": graph.read_password.get_secret_value(),
        "SCIM_PROCESSOR_HOME": str(home), "NO_PROXY": "127.0.0.1,localhost",
    }  # fmt: skip
