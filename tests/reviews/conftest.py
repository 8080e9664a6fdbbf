"""Fixtures of the reviews tests. Governance is built in parallel: while its policy reader or lifecycle service is
missing, stand-ins with the agreed signatures are installed (the real ones are used as soon as they exist)."""

from __future__ import annotations

import importlib
import sys
import types

import pytest


def _has(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


@pytest.fixture(autouse=True)
def governance_policies(monkeypatch):
    """policy_value(key) with the declared defaults, when governance.selectors does not provide it yet."""
    if _has("governance.selectors", "policy_value"):
        return
    from governance.policies import BY_KEY

    def policy_value(key):
        definition = BY_KEY[key]
        return int(definition.default) if definition.kind == "int" else definition.default

    monkeypatch.setattr("reviews.selectors.policy", policy_value)


@pytest.fixture(autouse=True)
def governance_lifecycle(monkeypatch):
    """initiative_transition(..., transition="kill") as the agreed signature, when governance.services lacks it."""
    if _has("governance.services", "initiative_transition"):
        return
    from django.core.exceptions import PermissionDenied

    module = types.ModuleType("governance.services")

    class TransitionError(Exception):
        pass

    def initiative_transition(*, actor, initiative, transition, reason=""):
        if not actor.has_perm("governance.kill_initiative", initiative):
            raise PermissionDenied("may not kill")
        if initiative.stage not in ("approved", "pilot", "production"):
            raise TransitionError(f"cannot kill from {initiative.stage}")
        initiative.stage = "killed"
        initiative.save(update_fields=["stage"])
        return initiative

    module.TransitionError = TransitionError
    module.initiative_transition = initiative_transition
    monkeypatch.setitem(sys.modules, "governance.services", module)
    import governance

    monkeypatch.setattr(governance, "services", module, raising=False)
