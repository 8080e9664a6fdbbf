"""The operators' unlock and login-history commands (axes' names and arguments) put what they remove in the audit
trail."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.management import call_command, get_commands
from django.utils import timezone

pytestmark = pytest.mark.django_db


def attempt(username: str, ip_address: str = "203.0.113.9") -> AccessAttempt:
    return AccessAttempt.objects.create(username=username, ip_address=ip_address, user_agent="curl",
                                        http_accept="*/*", path_info="/accounts/login/", failures_since_start=5)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()


def cleared() -> list[tuple[str, str, str]]:
    return [(e.additional_data["username"], e.additional_data["ip_address"], e.additional_data["source"])
            for e in LogEntry.objects.filter(additional_data__event="login_lock_cleared").order_by("pk")]


@pytest.mark.parametrize("name", ["axes_reset", "axes_reset_ip", "axes_reset_username", "axes_reset_ip_username",
                                  "axes_reset_logs", "axes_reset_failure_logs"])
def test_the_unlock_commands_are_tollgate_s(name):
    assert get_commands()[name] == "portfolio"


def test_unlocking_by_account_is_in_the_audit_trail_on_the_account(owner, other_owner):
    attempt(owner.username)
    attempt(other_owner.username, "198.51.100.4")
    kept = attempt("someone@example.com")
    attempt(owner.username.upper(), "192.0.2.1")  # the name as typed at the login page
    # An account is named in any case: every attempt naming it goes, each a row on the account.
    assert run("axes_reset_username", owner.username.upper(), other_owner.username) == "3 attempts removed."
    assert list(AccessAttempt.objects.all()) == [kept]
    entry = LogEntry.objects.get_for_object(other_owner).get(additional_data__event="login_lock_cleared")
    assert entry.actor is None and entry.changes_dict == {"failures_since_start": [5, 0]}
    assert cleared() == [(owner.username, "203.0.113.9", "command"), (other_owner.username, "198.51.100.4", "command"),
                         (owner.username.upper(), "192.0.2.1", "command")]
    assert LogEntry.objects.get_for_object(owner).filter(additional_data__event="login_lock_cleared").count() == 2
    assert run("axes_reset_username", "nobody") == "No attempts found."


def test_unlocking_by_address_by_both_and_all(owner):
    attempt(owner.username, "203.0.113.9")
    attempt("a@example.com", "203.0.113.9")
    attempt("b@example.com", "198.51.100.4")
    attempt(owner.username, "192.0.2.1")
    assert run("axes_reset_ip_username", "192.0.2.1", "a@example.com") == "No attempts found."
    assert run("axes_reset_ip_username", "192.0.2.1", owner.username) == "1 attempts removed."
    assert run("axes_reset_ip", "203.0.113.9") == "2 attempts removed."
    assert run("axes_reset") == "1 attempts removed."
    assert not AccessAttempt.objects.exists()
    assert [(name, ip) for name, ip, _ in cleared()] == [
        (owner.username, "192.0.2.1"), (owner.username, "203.0.113.9"), ("a@example.com", "203.0.113.9"),
        ("b@example.com", "198.51.100.4")]
    assert LogEntry.objects.get_for_object(owner).filter(additional_data__event="login_lock_cleared").count() == 2
    assert run("axes_reset") == "No attempts found."


@pytest.mark.parametrize("command, model", [("axes_reset_logs", AccessLog),
                                            ("axes_reset_failure_logs", AccessFailureLog)])
def test_pruning_the_login_history_is_in_the_audit_trail_without_what_it_pruned(command, model, owner):
    def record(days_ago: int) -> None:
        made = model.objects.create(username=owner.username, ip_address="203.0.113.9", user_agent="curl",
                                    http_accept="*/*", path_info="/accounts/login/")
        model.objects.filter(pk=made.pk).update(attempt_time=timezone.now() - timedelta(days=days_ago))

    for days_ago in (45, 31, 2):
        record(days_ago)
    assert run(command) == "2 logs removed."  # older than 30 days, axes' default
    assert model.objects.count() == 1
    (entry,) = LogEntry.objects.filter(additional_data__event="login_history_removed")
    assert entry.actor is None and entry.content_type.model_class() is model
    assert entry.changes_dict == {"records": [2, 0]}
    assert (entry.additional_data["source"], entry.additional_data["older_than_days"]) == ("command", 30)
    assert entry.additional_data["reason"].endswith(", older than 30 days.")
    said = f"{entry.object_repr} {entry.changes} {entry.additional_data}"
    assert owner.username not in said and "203.0.113.9" not in said  # a retention prune keeps none of it
    assert run(command) == "No logs found."
    assert LogEntry.objects.filter(additional_data__event="login_history_removed").count() == 1
    assert run(command, "--age", "0") == "1 logs removed." and not model.objects.exists()
