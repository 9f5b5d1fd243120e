"""The SQL store: schema, engine, repositories and Alembic migrations."""
