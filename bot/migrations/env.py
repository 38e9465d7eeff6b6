"""Alembic environment: runs on a connection the bot hands over, or on DATABASE_URL."""

from alembic import context

from bot.models import metadata

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from bot.database import make_engine
    from bot.settings import load_settings

    engine = make_engine(load_settings().effective_database_url)
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `python -m bot db upgrade`")
run_migrations()
