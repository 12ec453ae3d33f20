"""The migrations build exactly the schema the models declare, and step down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from models.base import Base
from models.migrate import alembic_config, is_current, upgrade


def schema_drift(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_migrated_database_matches_the_models(db):
    assert is_current(db.engine)
    assert schema_drift(db.engine) == []


def test_calls_page_index_covers_the_table_columns(db):
    indexes = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("calls")}
    page = indexes["ix_calls_org_started_page"]
    assert page["column_names"][:3] == ["org_id", "started_at", "id"]
    assert "ix_calls_org_started_cover" not in indexes
    if db.backend == "postgresql":
        included = set(page["dialect_options"]["postgresql_include"])
        assert {"contact_id", "from_number", "to_number", "agent_id"} <= included


def test_every_migration_steps_down_and_up_again(tmp_path):
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'steps.db'}")
    upgrade(engine)
    cfg = alembic_config(str(engine.url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
        names = {ix["name"] for ix in inspect(conn).get_indexes("calls")}
        assert "ix_calls_org_started_cover" in names and "ix_calls_org_started_page" not in names
        command.downgrade(cfg, "base")
        assert "calls" not in inspect(conn).get_table_names()
    upgrade(engine)
    assert is_current(engine)
    assert schema_drift(engine) == []
    engine.dispose()
