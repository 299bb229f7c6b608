"""A SCIM 2.0 service provider over the identity graph (RFC 7644), built on scim2-server: ``scim-processor serve``."""
