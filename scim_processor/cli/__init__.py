"""The ``scim-processor`` command line (typer + rich), one module per command group.

Exit codes: 0 success (all payloads accepted, query valid); 1 at least one payload rejected or a
query rejected; 2 a usage or infrastructure error, printed as one line without a traceback.
"""

from . import cypher, db, llm, process, serve  # noqa: F401  (each registers its commands on app)
from .app import app

__all__ = ["app"]
