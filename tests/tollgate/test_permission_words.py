"""A refusal says what the person may not do in words, never a permission's code (tollgate.roles.permission_words)."""

from __future__ import annotations

import re

import pytest

from reviews import services
from tests.factories import UserFactory, ValueReportFactory
from tollgate.roles import PERMISSIONS, Role, permission_words, refusal


@pytest.mark.parametrize("perm", sorted(PERMISSIONS))
def test_every_permission_has_its_words(perm):
    words = permission_words(perm)
    assert words != "do this", f"{perm} has no words: add it to PERMISSION_ACTIONS or its model to PERMISSION_NOUNS"
    assert perm not in words and not re.search(r"[._]", words) and perm.partition(".")[2] not in words


def test_an_undeclared_permission_is_still_not_named():
    assert refusal(None, "auth.change_group") == "You may not do this."


@pytest.mark.django_db
def test_a_services_refusal_says_it_in_words(reviewer):
    report = ValueReportFactory()
    with pytest.raises(services.PermissionDenied) as refused:
        services.value_report_save_draft(actor=UserFactory(role=Role.OWNER), report=report,
                                         fields={"narrative": "Not mine."})
    # An owner's role fills in reports, but not this one: the refusal says so, not "ask for the role".
    assert str(refused.value) == ("Your role allows this, but not on this one: an owner acts only on the value "
                                  "reports of the initiatives they own or act for, and this one is not yours.")
    with pytest.raises(services.PermissionDenied) as refused:
        services.value_report_save_draft(actor=UserFactory(role=Role.EXECUTIVE), report=report,
                                         fields={"narrative": "Not mine."})
    assert str(refused.value) == "You may not fill in or change this value report."
    with pytest.raises(services.PermissionDenied) as refused:
        services.review_cycle_close(actor=UserFactory(role=Role.OWNER), cycle=report.cycle)
    assert str(refused.value) == "You may not open or close a review cycle."
