"""The port picker the stack tests rely on: ports chosen together never coincide."""

from __future__ import annotations

import socket

import pytest
from stack import PORT_BLOCK, free_ports, worker_owns


def test_ports_chosen_together_are_distinct_and_runs_do_not_overlap() -> None:
    for _ in range(50):
        actions, rasa, web = free_ports(1, 3, 1)
        taken = [actions, *range(rasa, rasa + 3), web]
        assert len(set(taken)) == len(taken)


def test_chosen_ports_are_free_again_for_the_caller() -> None:
    (port,) = free_ports(1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_each_xdist_worker_chooses_from_its_own_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers never hold the same port between choosing it and their server binding it."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    for worker in ("gw0", "gw1"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        for _ in range(20):
            actions, rasa, web = free_ports(1, 2, 1)
            assert all(worker_owns(port) for port in (actions, rasa, rasa + 1, web))
    owners = {worker: worker_owns(PORT_BLOCK * 7, {"PYTEST_XDIST_WORKER": worker, "PYTEST_XDIST_WORKER_COUNT": "2"})
              for worker in ("gw0", "gw1")}
    assert sorted(owners.values()) == [False, True]
    assert worker_owns(PORT_BLOCK * 7, {})  # outside xdist every port
