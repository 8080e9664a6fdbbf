"""The use-case admin writes through the same services as the API: validated and audited with the administrator."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from governance.choices import AuditEvent
from governance.models import UseCase

pytestmark = pytest.mark.django_db

FORM = {"code": "claims-triage-custom", "name": "Claims triage", "job": "Route incoming claims.",
        "functions": '["claims"]', "inputs": '["claim form"]', "outputs": '["queue"]', "synonyms": "[]",
        "vendor_products": "[]", "not_this": "[]", "is_active": "on", "_save": "Save"}


def test_an_administrator_adds_and_edits_a_use_case_through_the_services(client, admin_user):
    client.force_login(admin_user)
    assert client.post(reverse("admin:governance_usecase_add"), FORM).status_code == 302
    use_case = UseCase.objects.get(code="claims-triage-custom")
    entries = LogEntry.objects.get_for_object(use_case)
    created = entries.get()
    assert created.additional_data["event"] == AuditEvent.USE_CASE_EDITED and created.actor == admin_user

    edited = client.post(reverse("admin:governance_usecase_change", args=[use_case.pk]),
                         {**FORM, "name": "Claims routing"})
    assert edited.status_code == 302
    assert entries.latest("pk").changes == {"name": ["Claims triage", "Claims routing"]}

    refused = client.post(reverse("admin:governance_usecase_add"), {**FORM, "code": "another", "functions": '[""]'})
    assert refused.status_code == 200 and "must be a list of non-empty texts" in refused.content.decode()
    assert not UseCase.objects.filter(code="another").exists()
