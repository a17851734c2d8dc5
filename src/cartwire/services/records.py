"""Records in and out of one instance by endpoint name (`cartwire get`, `send`, `endpoints`):
the instance opened the one way (`clients`), and a dry run's changes kept as a run keeps them."""

from cartwire.connectors import Connector, get_connector
from cartwire.flows import preview
from cartwire.resources import Platform, WriteResult
from cartwire.resources.opened_instance import Filters
from cartwire.services.clients import open_platform
from cartwire.services.runs import DryRunChanges
from cartwire.store import InstanceNotFound, Store
from cartwire.store.planned_writes import PlannedWrite


class DryRunTally:
    """What a dry run of `send` would change, result by result."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._writes: list[PlannedWrite] = []

    def add(self, result: WriteResult) -> None:
        write = preview.planned(self.endpoint, result)
        if write is not None:
            self._writes.append(write)

    def changes(self) -> DryRunChanges:
        return DryRunChanges.of(self._writes)


class RecordService:
    def __init__(self, store: Store) -> None:
        self._store = store

    def open(self, instance: str) -> Platform:
        """The instance, to read (`pages`) and write (`upsert`) by endpoint name."""
        return open_platform(self._store, instance)

    def connector_of(self, target: str) -> Connector:
        """An instance's connector, or else the connector named `target` (`ConnectorError`)."""
        try:
            return get_connector(self._store.instances.get(target).connector)
        except InstanceNotFound:
            return get_connector(target)


__all__ = ["DryRunTally", "Filters", "Platform", "RecordService", "WriteResult"]
