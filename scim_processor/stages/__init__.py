"""The pipeline stages, one module each: read → retrieve → generate → validate → apply."""
