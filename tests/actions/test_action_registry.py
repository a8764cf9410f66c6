"""The action server registers exactly the custom actions the domain lists (no stray base classes)."""

from __future__ import annotations

from action_fixtures import load_domain
from rasa_sdk.executor import ActionExecutor


def test_registered_actions_match_the_domain() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == set(load_domain()["actions"])
