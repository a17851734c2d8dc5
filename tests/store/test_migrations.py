"""Migrations: run on open, idempotent, in agreement with the models, runnable from the package."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import cartwire.store
from cartwire.store import Store
from cartwire.store import migrate as migrations
from cartwire.store.models import Base
from tests.store.helpers import make_record, secret_for


def test_open_migrates_an_empty_database_to_head(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert migrations.current_revision(store.engine) == migrations.head_revision()
        tables = set(inspect(store.engine).get_table_names())
    assert {"instances", "tokens", migrations.VERSION_TABLE} <= tables
    assert "alembic_version" not in tables  # our own version table, to share a database


def test_opening_twice_is_a_no_op_that_keeps_data(db_url: str) -> None:
    with Store.open(db_url) as store:
        store.instances.add(make_record("kept"))
    with Store.open(db_url) as again, Store.open(db_url) as third:
        assert migrations.current_revision(again.engine) == migrations.head_revision()
        assert third.instances.get("kept").secrets == {"client_secret": secret_for("kept")}
        with again.engine.connect() as connection:
            versions = connection.execute(
                text(f"SELECT version_num FROM {migrations.VERSION_TABLE}")  # noqa: S608
            ).all()
        assert len(versions) == 1


def test_models_and_migrations_agree(db_url: str) -> None:
    with Store.open(db_url) as store, store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "version_table": migrations.VERSION_TABLE},
        )
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    with Store.open(db_url) as store:
        with store.engine.begin() as connection:
            command.downgrade(migrations.alembic_config(connection), "base")
        assert "instances" not in inspect(store.engine).get_table_names()
        migrations.upgrade(store.engine)
        store.instances.add(make_record("back"))
        assert store.instances.get("back").name == "back"


def test_script_location_is_a_package_resource_inside_the_package() -> None:
    """Works from an installed wheel: no alembic.ini, no path relative to a checkout."""
    config = migrations.alembic_config()
    assert config.get_main_option("script_location") == "cartwire.store:migrations"
    script = ScriptDirectory.from_config(config)
    package_dir = Path(cartwire.store.__file__).parent
    assert Path(script.dir).resolve() == (package_dir / "migrations").resolve()
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"
    assert (package_dir / "migrations" / "script.py.mako").is_file()


def test_sqlite_foreign_keys_are_back_on_after_migrating(home: Path) -> None:
    with Store.open() as store, store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
