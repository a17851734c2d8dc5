"""Schedule slots: each (flow, time) a schedule fires at, claimed once across all schedulers.

The claim is a primary key, so two schedulers (or one restarted) never run the same slot twice;
the run it started is noted on the slot afterwards, so a slot says what became of it.
"""

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from cartwire.store.engine import Sessions
from cartwire.store.errors import StoreError
from cartwire.store.models import ScheduleSlotRow


class ScheduleSlots:
    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    def claim(self, flow: str, slot: datetime) -> bool:
        """True for the first scheduler to claim this slot; False when it was already run."""
        try:
            with self._sessions.write() as session:
                session.add(ScheduleSlotRow(flow=flow, slot=slot))
        except (IntegrityError, StoreError):
            return False
        return True

    def started(self, flow: str, slot: datetime, run_id: int) -> None:
        with self._sessions.write() as session:
            session.execute(
                update(ScheduleSlotRow)
                .where((ScheduleSlotRow.flow == flow) & (ScheduleSlotRow.slot == slot))
                .values(run_id=run_id)
            )
