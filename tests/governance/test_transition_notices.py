"""Owners and delegates hear about every decision on their initiative, in the app and by e-mail, with a link; the
person who made it does not."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail

from governance.evidence import NOTICE_MAX_CHARS, notice_message
from governance.lifecycle import TRANSITIONS
from governance.services import TransitionError, initiative_transition
from reviews.models import Notification
from tests.factories import UserFactory
from tests.governance.conftest import score_all
from tollgate.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def delegates(initiative, owner):
    """A delegate named on the initiative, one named on the owner's profile, and one who has left."""
    named = UserFactory(username="dana.delegate@example.com", role=Role.OWNER)
    of_profile = UserFactory(username="pat.profile@example.com", role=Role.OWNER)
    gone = UserFactory(username="lee.left@example.com", role=Role.OWNER, is_active=False)
    initiative.delegates.add(named, gone)
    owner.profile.delegates.add(of_profile)
    return named, of_profile


def notices() -> set[tuple[str, str, str]]:
    return set(Notification.objects.values_list("user__username", "message", "url"))


def test_an_approval_reaches_the_owner_and_every_delegate_but_not_the_reviewer(
    in_review, rubric, owner, delegates, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    score_all(reviewer, in_review, rubric)
    score_all(second_reviewer, in_review, rubric)
    Notification.objects.all().delete()  # the submission's notice to the delegates is the next test's
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        initiative_transition(actor=second_reviewer, initiative=in_review, transition="approve")

    name = second_reviewer.get_full_name()
    message = f"{in_review} was approved by {name}."
    url = in_review.get_absolute_url()
    people = [owner, *delegates]
    assert notices() == {(person.username, message, url) for person in people}
    assert sorted(m.to[0] for m in mail.outbox) == sorted(person.email for person in people)
    assert mail.outbox[0].subject == f"Tollgate: {in_review} was approved"
    assert f"{message}\n  {settings.SITE_URL}{url}" in mail.outbox[0].body


@pytest.mark.parametrize(("transition", "words"), [
    ("request_changes", "was sent back for changes by"), ("reject", "was rejected by"),
])
def test_a_send_back_or_rejection_says_why(in_review, owner, reviewer, transition, words):
    initiative_transition(actor=reviewer, initiative=in_review, transition=transition, reason="No exit plan.")
    [notice] = Notification.objects.filter(user=owner)
    assert notice.message == f"{in_review} {words} {reviewer.get_full_name()}: No exit plan."


def test_a_long_reason_is_cut_with_an_ellipsis_after_what_happened(in_review, owner, reviewer):
    initiative_transition(actor=reviewer, initiative=in_review, transition="reject", reason="No exit plan. " * 60)
    [notice] = Notification.objects.filter(user=owner)
    assert NOTICE_MAX_CHARS - 2 <= len(notice.message) <= NOTICE_MAX_CHARS
    assert notice.message.startswith(f"{in_review} was rejected by {reviewer.get_full_name()}: No exit plan.")
    assert notice.message.endswith("…")


def test_a_notice_cuts_the_persons_words_never_the_systems():
    before, after = "Verdict on Claims bot 2026-Q3 by Ada: Kill: ", " The initiative was killed."
    message = notice_message(before, "x" * 1000, after)
    assert message == before + "x" * (NOTICE_MAX_CHARS - len(before) - len(after) - 1) + "…" + after
    assert notice_message(before, "Too costly.", after) == f"{before}Too costly.{after}"
    assert len(notice_message("y" * 600, "z")) == NOTICE_MAX_CHARS  # never past what a notification holds


def test_nobody_is_told_about_what_they_did_themselves(
    ready, owner, delegates, reviewer, django_capture_on_commit_callbacks
):
    named, of_profile = delegates
    with django_capture_on_commit_callbacks(execute=True):
        initiative_transition(actor=named, initiative=ready, transition="submit")
    assert {username for username, _, _ in notices()} == {owner.username, of_profile.username}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, of_profile.email])

    initiative_transition(actor=reviewer, initiative=ready, transition="request_changes", reason="More detail.")
    Notification.objects.all().delete()
    initiative_transition(actor=owner, initiative=ready, transition="submit")
    assert {username for username, _, _ in notices()} == {named.username, of_profile.username}


def test_a_refused_transition_tells_nobody(ready, owner, reviewer):
    with pytest.raises(TransitionError):
        initiative_transition(actor=reviewer, initiative=ready, transition="approve")
    assert not Notification.objects.exists()


def test_every_transition_says_what_happened():
    assert all(step.done for step in TRANSITIONS.values())
