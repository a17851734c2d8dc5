"""Runs on workers, in the store, on SQLite and on PostgreSQL: a queued run is taken by the
message of the slice it is at, each takeover gets a new fencing token, and nothing is committed
under an older one; a hand-over queues the next slice inside its transaction."""

import os
import socket
import threading

import psycopg
import pytest
from sqlalchemy import make_url

from cartwire.procinfo import owner_token
from cartwire.store import Store
from cartwire.store.runs import LeaseLost, PageProgress, Run, SliceRefused
from tests.flows.triggers_support import wait_for
from tests.recorded_runs import record_run

ALIVE = owner_token(os.getpid())  # this test process: a holder that is alive
DEAD = f"{socket.gethostname()}:999999999:0"  # no such process: a worker that was lost


def _queued(store: Store, flow: str = "f") -> Run:
    return record_run(store.runs, flow, status=None, owner=None)


def _page(read: int) -> PageProgress:
    return PageProgress(checkpoint={"paging": {"read": read}}, counts={"read": read})


def test_a_queued_run_is_taken_by_the_message_of_its_slice_once(store: Store) -> None:
    queued = _queued(store)
    assert (queued.status, queued.slice_no, queued.lease_token) == ("queued", 0, 0)
    assert queued.started_at is None
    assert queued.owner is None

    taken = store.runs.take_slice(queued.id, 0, ALIVE)
    assert (taken.status, taken.owner, taken.lease_token) == ("running", ALIVE, 1)
    assert taken.started_at is not None
    with pytest.raises(SliceRefused, match="being processed"):
        store.runs.take_slice(queued.id, 0, ALIVE)  # the same message, delivered again
    with pytest.raises(SliceRefused, match="at slice 0"):
        store.runs.take_slice(queued.id, 1, ALIVE)  # not its turn
    assert store.runs.get(queued.id).lease_token == 1


def test_a_stale_fencing_token_commits_nothing(store: Store) -> None:
    run = _queued(store)
    lost = store.runs.take_slice(run.id, 0, DEAD)  # its worker died mid-slice
    store.runs.commit_page(run.id, _page(10), fence=lost.lease_token)
    again = store.runs.take_slice(run.id, 0, ALIVE)  # the message, delivered again
    assert again.lease_token == lost.lease_token + 1
    assert again.counts["read"] == 10
    assert again.checkpoint == {"paging": {"read": 10}}

    with pytest.raises(LeaseLost, match="stale"):
        store.runs.commit_page(run.id, _page(99), fence=lost.lease_token)
    with pytest.raises(LeaseLost):
        store.runs.finish(run.id, "succeeded", fence=lost.lease_token)
    with pytest.raises(LeaseLost):
        store.runs.hand_over(run.id, lost.lease_token, lambda _slice: None)
    unchanged = store.runs.get(run.id)
    assert (unchanged.status, unchanged.counts["read"]) == ("running", 10)

    store.runs.commit_page(run.id, _page(5), fence=again.lease_token)
    done = store.runs.finish(run.id, "succeeded", fence=again.lease_token)
    assert (done.status, done.counts["read"]) == ("succeeded", 15)
    with pytest.raises(SliceRefused, match="already succeeded"):
        store.runs.take_slice(run.id, 0, ALIVE)


def test_a_hand_over_queues_the_next_slice_only_if_its_message_went_out(store: Store) -> None:
    run = _queued(store)
    taken = store.runs.take_slice(run.id, 0, ALIVE)

    def broker_down(_slice: int) -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        store.runs.hand_over(run.id, taken.lease_token, broker_down)
    kept = store.runs.get(run.id)
    assert (kept.status, kept.slice_no, kept.owner) == ("running", 0, ALIVE)

    sent: list[int] = []
    handed = store.runs.hand_over(run.id, taken.lease_token, sent.append)
    assert sent == [1]
    assert (handed.status, handed.slice_no, handed.owner) == ("queued", 1, None)
    with pytest.raises(SliceRefused, match="at slice 1"):
        store.runs.take_slice(run.id, 0, ALIVE)  # the handed-over slice's message, again
    assert store.runs.take_slice(run.id, 1, ALIVE).lease_token == taken.lease_token + 1


def test_a_resume_fences_out_the_old_holder_and_the_queued_messages(store: Store) -> None:
    run = _queued(store)
    lost = store.runs.take_slice(run.id, 0, DEAD)
    claimed = store.runs.claim(run.id, ALIVE)  # `runs resume` in a process of its own
    assert claimed.lease_token > lost.lease_token
    assert claimed.slice_no == 1
    with pytest.raises(LeaseLost):
        store.runs.commit_page(run.id, _page(1), fence=lost.lease_token)
    store.runs.finish(run.id, "interrupted", fence=claimed.lease_token)
    with pytest.raises(SliceRefused, match="at slice 1"):
        store.runs.take_slice(run.id, 0, ALIVE)

    sent: list[int] = []
    requeued = store.runs.requeue(run.id, sent.append)  # a resume on the workers
    assert (requeued.status, requeued.slice_no, sent) == ("queued", 2, [2])
    assert store.runs.take_slice(run.id, 2, ALIVE).status == "running"


def test_a_stop_ends_a_queued_run_and_the_next_slice_of_a_running_one(store: Store) -> None:
    queued = _queued(store, "one")
    assert store.runs.request_stop(queued.id).status == "stopped"
    with pytest.raises(SliceRefused, match="already stopped"):
        store.runs.take_slice(queued.id, 0, ALIVE)

    running = _queued(store, "two")
    taken = store.runs.take_slice(running.id, 0, ALIVE)
    assert store.runs.request_stop(running.id).status == "running"  # told at its next page
    store.runs.hand_over(running.id, taken.lease_token, lambda _slice: None)
    with pytest.raises(SliceRefused, match="stopped on request"):
        store.runs.take_slice(running.id, 1, ALIVE)
    assert store.runs.get(running.id).status == "stopped"


def test_a_slice_arriving_before_its_hand_over_commits_waits_for_it(pg_url: str) -> None:
    """The next slice's message is sent inside the hand-over's transaction; a worker that gets
    it at once waits on the run's row lock, then finds the run at that slice."""
    with Store.open(pg_url) as store:
        run = _queued(store)
        taken = store.runs.take_slice(run.id, 0, ALIVE)
        outcome: list[Run | Exception] = []

        def worker(number: int) -> None:
            try:
                outcome.append(store.runs.take_slice(run.id, number, ALIVE))
            except SliceRefused as refused:
                outcome.append(refused)

        def send(number: int) -> None:
            thread = threading.Thread(target=worker, args=(number,))
            thread.start()
            wait_for(lambda: _waiting_on_a_lock(pg_url), 30, "the slice to wait on the row lock")
            threads.append(thread)

        threads: list[threading.Thread] = []
        store.runs.hand_over(run.id, taken.lease_token, send)
        threads[0].join(30)
        [taken_next] = outcome
        assert isinstance(taken_next, Run), taken_next
        assert (taken_next.slice_no, taken_next.lease_token) == (1, taken.lease_token + 1)


def _waiting_on_a_lock(url: str) -> bool:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()
    return bool(found and found[0])


def test_a_run_whose_worker_is_gone_is_queued_again_once(store: Store) -> None:
    lost = _queued(store, "lost")
    store.runs.take_slice(lost.id, 0, DEAD)  # its worker vanished mid-slice
    held = _queued(store, "held")
    store.runs.take_slice(held.id, 0, ALIVE)  # a live worker is on it
    waiting = _queued(store, "waiting")  # its message waits in the queue
    foreground = record_run(store.runs, "foreground", status=None, owner=DEAD)  # not on workers
    sent: list[tuple[int, int]] = []

    assert store.runs.requeue_lost(lambda run_id, number: sent.append((run_id, number))) == [
        lost.id
    ]
    assert store.runs.requeue_lost(lambda run_id, number: sent.append((run_id, number))) == []
    assert sent == [(lost.id, 1)]  # once, at a new slice: the lost message is stale now
    again = store.runs.get(lost.id)
    assert (again.status, again.owner, again.slice_no) == ("queued", None, 1)
    with pytest.raises(SliceRefused, match="at slice 1"):
        store.runs.take_slice(lost.id, 0, ALIVE)  # the lost message, delivered after all
    assert store.runs.take_slice(lost.id, 1, ALIVE).status == "running"
    assert store.runs.get(held.id).status == "running"
    assert store.runs.get(waiting.id).status == "queued"
    assert store.runs.get(foreground.id).status == "running"  # `runs resume` is the user's
    logged = [line.message for line in store.run_logs.of(lost.id)]
    assert logged == [f"slice 0's worker is gone ({DEAD}): queued again"]


def test_a_cut_run_s_shards_exist_before_their_messages_go_out(store: Store) -> None:
    """A worker that gets a shard's message at once finds the shard (its row is committed
    before the message is sent); should the cutter die before it sent them all, the sweep sends
    the messages of the shards still queued, once, and the cutter's own message, should it
    come again, is refused."""
    run = _queued(store, "cut")
    cutter = store.runs.take_slice(run.id, 0, DEAD)  # dies after the cut, mid-sending
    first, second = store.runs.shard(run.id, cutter.lease_token, [{"a": 1}, {"b": 2}])
    assert store.runs.take_slice(first.id, 0, ALIVE).status == "running"  # its message went out
    sent: list[tuple[int, int]] = []

    assert store.runs.requeue_lost(lambda run_id, number: sent.append((run_id, number))) == [run.id]
    assert store.runs.requeue_lost(lambda run_id, number: sent.append((run_id, number))) == []
    assert sent == [(second.id, 0)]
    assert store.runs.take_slice(second.id, 0, ALIVE).status == "running"
    with pytest.raises(SliceRefused, match="cut into shards"):
        store.runs.take_slice(run.id, 0, ALIVE)
    parent = store.runs.get(run.id)
    assert (parent.status, parent.owner) == ("running", None)
    logged = [line.message for line in store.run_logs.of(run.id)]
    assert logged == [
        f"the worker that cut it is gone ({DEAD}): its queued shards' messages sent again"
    ]


def test_a_cut_run_whose_shards_were_sent_has_no_holder_of_its_own(store: Store) -> None:
    run = _queued(store, "sent")
    cutter = store.runs.take_slice(run.id, 0, DEAD)
    store.runs.shard(run.id, cutter.lease_token, [{"a": 1}])
    store.runs.shards_sent(run.id, cutter.lease_token)
    assert store.runs.get(run.id).owner is None
    assert store.runs.requeue_lost(lambda run_id, number: None) == []  # nothing lost
