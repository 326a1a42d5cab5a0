"""Users, their roles and jurisdictions, and API tokens (hashed at rest)."""
