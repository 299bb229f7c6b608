"""The graph layer: the embedded server and the connection to whichever server is configured."""

from .connection import GraphConnection
from .embedded import EmbeddedServer, ServerInfo

__all__ = ["EmbeddedServer", "GraphConnection", "ServerInfo"]
