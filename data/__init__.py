"""Programme tables, SQLAlchemy models, import, search and repositories."""
