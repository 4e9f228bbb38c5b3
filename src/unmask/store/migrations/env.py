"""Alembic environment of the case store: always run by :mod:`unmask.store.db` on an open connection."""

from __future__ import annotations

from alembic import context

from unmask.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always hands its connection over
    raise RuntimeError("the case store's migrations run through unmask.store, not the alembic command")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
