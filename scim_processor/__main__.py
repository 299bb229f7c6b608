"""``python -m scim_processor`` runs the CLI."""

from .cli import app

app(prog_name="scim-processor")
