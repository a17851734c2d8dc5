"""The `Store`: one database connection, and the parts of cartwire's state kept in it.

Each part (instances, tokens, runs, ...) is its own class with one job; the store only opens and
migrates the database and hands the parts out, so every caller needs one object and all parts
share one engine and one keyring (a key reloaded after a rotation is seen by every part). Every
method of a part is its own short transaction, because several cartwire processes (consecutive
or concurrent CLI calls, a running engine) share one database.
"""

from types import TracebackType

from sqlalchemy import Engine, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from cartwire.store import migrate
from cartwire.store.api_keys import ApiKeys
from cartwire.store.bindings import Bindings
from cartwire.store.cursors import Cursors
from cartwire.store.encryption import Encryption
from cartwire.store.engine import Sessions, create_store_engine, display_url, resolve_url
from cartwire.store.errors import StoreError, driver_reason
from cartwire.store.instance_checks import InstanceChecks
from cartwire.store.instances import Instances
from cartwire.store.lookup_tables import LookupTables
from cartwire.store.planned_writes import PlannedWrites
from cartwire.store.pools import Pools
from cartwire.store.run_failures import RunFailures
from cartwire.store.run_history import RunHistory
from cartwire.store.run_logs import RunLogs
from cartwire.store.runs import Runs
from cartwire.store.schedule_slots import ScheduleSlots
from cartwire.store.sessions import UserSessions
from cartwire.store.tokens import Tokens
from cartwire.store.users import Users
from cartwire.store.webhook_secrets import WebhookSecrets


def _shown(url: str) -> str:
    try:
        return repr(display_url(url))
    except (ArgumentError, ValueError):
        return "(unparseable, not shown as it may hold a password)"


class Store:
    """Persistence for cartwire: `Store.open()`, then `close()` (or use it as a context manager)."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine that is already migrated; use `Store.open` to get one that is."""
        self._engine = engine
        sessions = Sessions(engine)
        self.encryption = Encryption(sessions)
        self.instances = Instances(sessions, self.encryption)
        self.instance_checks = InstanceChecks(sessions)
        self.pools = Pools(sessions)
        self.tokens = Tokens(sessions, self.encryption)
        self.webhook_secrets = WebhookSecrets(sessions, self.encryption)
        self.bindings = Bindings(sessions)
        self.cursors = Cursors(sessions)
        self.runs = Runs(sessions, self.encryption)
        self.run_history = RunHistory(sessions)
        self.run_logs = RunLogs(sessions)
        self.run_failures = RunFailures(sessions, self.encryption)
        self.planned_writes = PlannedWrites(sessions, self.encryption)
        self.lookup_tables = LookupTables(sessions)
        self.schedule_slots = ScheduleSlots(sessions)
        self.api_keys = ApiKeys(sessions)
        self.users = Users(sessions)
        self.sessions = UserSessions(sessions)

    @classmethod
    def open(cls, url: str | None = None) -> "Store":
        """Connect and migrate to the newest schema.

        `url` None means CARTWIRE_DATABASE_URL, or SQLite in the data directory.
        """
        resolved = resolve_url(url)
        try:
            engine = create_store_engine(resolved)
        except (ArgumentError, NoSuchModuleError, ValueError) as exc:
            raise StoreError(f"invalid database URL {_shown(resolved)}: {exc}") from None
        try:
            migrate.upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open the cartwire database at {display_url(resolved)}: "
                f"{driver_reason(exc)}"
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return display_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        """For tools and tests that need the database itself (migrations, raw checks)."""
        return self._engine

    def ping(self) -> None:
        """Ask the database a trivial question: raises `StoreError` if it cannot answer."""
        try:
            with self._engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise StoreError(f"the database does not answer: {driver_reason(exc)}") from exc

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
