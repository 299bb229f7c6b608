"""SCIM operations as identity providers send them (RFC 7644 §3.3-§3.7).

The resource store, PATCH, requests in files (envelopes, PatchOp messages, Bulk), IdP dialects and
the identity rules.
"""

from .dialects import DIALECTS, ENTRA, OKTA, STRICT, Dialect, dialect

__all__ = ["DIALECTS", "ENTRA", "OKTA", "STRICT", "Dialect", "dialect"]
