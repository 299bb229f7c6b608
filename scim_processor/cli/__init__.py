"""The ``scim-processor`` command line (typer + rich), one module per command group.

Exit codes: 0 success (all payloads accepted, query valid); 1 at least one payload rejected or a
query rejected; 2 a usage, settings or infrastructure error, printed as one line without a
traceback (``{"error": ...}`` or the SCIM error body under ``--format json``).
"""

# Each module registers its commands on app; the help lists the panels in this order.
from . import process  # noqa: I001,F401  (processing)
from . import cypher, db  # noqa: F401  (graph)
from . import llm  # noqa: F401  (LLM)
from . import serve  # noqa: F401  (server)
from .app import app

__all__ = ["app"]
