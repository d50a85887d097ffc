"""Alembic environment for the caseload store: the connection comes from ``Store.migrate``."""
from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through matcher.store.Store.migrate()")
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
