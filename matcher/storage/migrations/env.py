"""Alembic's environment: migrations run on the connection the caller gives (``talentmatch db
upgrade``, the store's start-up), or on ``-x url=…`` / ``TALENTMATCH_DATABASE_URL`` when the
``alembic`` command is run by hand (``alembic -c alembic.ini revision --autogenerate -m …``)."""

from __future__ import annotations

from alembic import context

from matcher.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from matcher.storage.engine import make_engine
    from matcher.storage.migrations import url_from_environment

    engine = make_engine(context.get_x_argument(as_dictionary=True).get("url") or url_from_environment())
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
