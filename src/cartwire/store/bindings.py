"""Flow bindings: which source and destination instance a flow runs between by default.

Its own part because a binding is configuration that outlives every run of the flow; runs copy
the pair they ran between, so rebinding changes no past run.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select

from cartwire.store.engine import Sessions
from cartwire.store.models import FlowBindingRow


@dataclass(frozen=True)
class Binding:
    flow: str
    source: str
    destination: str
    enabled: bool


class Bindings:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def bind(self, flow: str, source: str, destination: str, enabled: bool = True) -> Binding:
        with self._sessions.write() as session:
            row = session.get(FlowBindingRow, flow)
            if row is None:
                row = FlowBindingRow(flow=flow)
                session.add(row)
            row.source, row.destination, row.enabled = source, destination, enabled
            row.updated_at = datetime.now(UTC)
        return Binding(flow, source, destination, enabled)

    def get(self, flow: str) -> Binding | None:
        with self._sessions.read() as session:
            row = session.get(FlowBindingRow, flow)
            return Binding(row.flow, row.source, row.destination, row.enabled) if row else None

    def all(self) -> list[Binding]:
        with self._sessions.read() as session:
            rows = session.scalars(select(FlowBindingRow).order_by(FlowBindingRow.flow))
            return [Binding(r.flow, r.source, r.destination, r.enabled) for r in rows]

    def unbind(self, flow: str) -> None:
        with self._sessions.write() as session:
            session.execute(delete(FlowBindingRow).where(FlowBindingRow.flow == flow))

    def using(self, instance: str) -> list[str]:
        """Flows whose default binding names the instance (so removing it would break them)."""
        with self._sessions.read() as session:
            rows = session.scalars(
                select(FlowBindingRow.flow).where(
                    (FlowBindingRow.source == instance) | (FlowBindingRow.destination == instance)
                )
            )
            return sorted(rows)
