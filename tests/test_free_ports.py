"""The port picker the stack tests rely on: ports chosen together never coincide."""

from __future__ import annotations

import socket

from stack import free_ports


def test_ports_chosen_together_are_distinct_and_runs_do_not_overlap() -> None:
    for _ in range(50):
        actions, rasa, web = free_ports(1, 3, 1)
        taken = [actions, *range(rasa, rasa + 3), web]
        assert len(set(taken)) == len(taken)


def test_chosen_ports_are_free_again_for_the_caller() -> None:
    (port,) = free_ports(1)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
