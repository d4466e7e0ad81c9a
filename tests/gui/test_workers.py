"""Worker threads: latest request wins, requests in order otherwise, errors reach the UI as messages."""

from __future__ import annotations

import threading

import pytest

from explorer.gui.threads.workers import Worker
from explorer.utils.errors import ExplorerError


@pytest.fixture
def make_worker(qapp):
    made = []

    def make(fn, latest_only):
        worker = Worker(fn, latest_only, "test")
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


def blocking():
    """A job function that holds its first request until released; returns what it was asked."""
    release, started = threading.Event(), threading.Event()

    def fn(payload, report):
        started.set()
        release.wait(10)
        return payload
    return fn, release, started


def test_latest_only_keeps_one_waiting_request_and_runs_the_last(make_worker, qtbot):
    fn, release, started = blocking()
    worker = make_worker(fn, latest_only=True)
    results = []
    worker.done.connect(lambda r, result: results.append((r, result)))
    worker.submit("first")
    assert started.wait(5)
    for k in range(100):
        worker.submit(f"request {k}")
        assert worker.pending() == 1
    release.set()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert results == [(1, "first"), (101, "request 99")]
    assert worker.runs == 2


def test_without_latest_only_every_request_runs_in_order(make_worker, qtbot):
    fn, release, started = blocking()
    worker = make_worker(fn, latest_only=False)
    results = []
    worker.done.connect(lambda r, result: results.append(result))
    for k in range(5):
        worker.submit(k)
    release.set()
    qtbot.waitUntil(lambda: len(results) == 5, timeout=5000)
    assert results == [0, 1, 2, 3, 4]


def test_errors_become_messages_and_the_worker_goes_on(make_worker, qtbot):
    def fn(payload, report):
        if payload == "user":
            raise ExplorerError("the file is not a checkpoint")
        if payload == "bug":
            raise ZeroDivisionError("division by zero")
        return payload

    worker = make_worker(fn, latest_only=False)
    failures, results = [], []
    worker.failed.connect(lambda r, message: failures.append(message))
    worker.done.connect(lambda r, result: results.append(result))
    for payload in ("user", "bug", "fine"):
        worker.submit(payload)
    qtbot.waitUntil(lambda: len(results) == 1 and len(failures) == 2, timeout=5000)
    assert failures[0] == "the file is not a checkpoint"  # a user's problem, as it is
    assert "ZeroDivisionError" in failures[1] and "bug" in failures[1]
    assert results == ["fine"]


def test_progress_is_reported_with_the_request_id(make_worker, qtbot):
    def fn(payload, report):
        for k in range(3):
            report(k)
        return "done"

    worker = make_worker(fn, latest_only=True)
    seen = []
    worker.progress.connect(lambda r, obj: seen.append((r, obj)))
    with qtbot.waitSignal(worker.done, timeout=5000):
        r = worker.submit(None)
    assert seen == [(r, 0), (r, 1), (r, 2)]


def test_stop_lets_the_running_request_finish_and_drops_the_rest(make_worker, qtbot):
    fn, release, started = blocking()
    worker = make_worker(fn, latest_only=False)
    worker.submit(1)
    worker.submit(2)
    assert started.wait(5)
    threading.Timer(0.05, release.set).start()
    worker.stop()
    assert not worker.isRunning() and worker.pending() == 0 and worker.runs == 1


def test_each_asker_hears_whether_a_result_is_still_its_newest(qapp, qtbot):
    from explorer.gui.threads.workers import Workers

    workers = Workers()
    worker = workers.add(lambda payload, report: payload, True, "test")
    a1, b1, a2 = worker.submit(1, "a"), worker.submit(2, "b"), worker.submit(3, "a")
    assert not worker.is_newest(a1) and worker.is_newest(a2) and worker.is_newest(b1)  # one asker's newer
    assert worker.is_current(a1)                                                      # request leaves b's alone
    worker.forget("a")  # a shows another model now: nothing it asked before counts
    assert not worker.is_current(a2) and not worker.is_newest(a2) and worker.is_newest(b1)
    a3 = worker.submit(4, "a")
    assert worker.is_newest(a3) and worker.is_current(a3)
    qtbot.waitUntil(worker.idle, timeout=5000)
    workers.stop()  # the window's close: every worker it made ends
    assert all(not w.isRunning() for w in workers)
