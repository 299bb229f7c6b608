"""The graph layer: connection, embedded server, graph schema, the one statement type, and the schema graph store."""

from .connection import GraphConnection
from .embedded import EmbeddedServer, ServerInfo
from .graph_schema import GraphSchema
from .statement import Statement

__all__ = ["EmbeddedServer", "GraphConnection", "GraphSchema", "ServerInfo", "Statement"]
