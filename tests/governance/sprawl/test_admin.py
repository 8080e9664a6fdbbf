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
        "vendor_products": "[]", "is_active": "on", "_save": "Save"}


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


def test_deleting_a_use_case_in_the_admin_goes_through_the_service_and_is_audited(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("admin:governance_usecase_add"), FORM)
    use_case = UseCase.objects.get(code="claims-triage-custom")
    deleted = client.post(reverse("admin:governance_usecase_delete", args=[use_case.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert not UseCase.objects.filter(pk=use_case.pk).exists()
    entry = LogEntry.objects.get_for_object(use_case).latest("pk")
    assert entry.action == LogEntry.Action.DELETE and entry.actor == admin_user
    assert entry.changes["code"] == ["claims-triage-custom", None]


def test_catalogue_entries_cannot_be_deleted_even_by_the_service(admin_user):
    from django.core.exceptions import ValidationError

    from governance.sprawl.services.use_cases import use_case_delete

    entry = UseCase.objects.create(code="from-the-catalogue", name="Catalogue", job="A job.", catalogue_version="1")
    with pytest.raises(ValidationError, match="deactivate it"):
        use_case_delete(actor=admin_user, use_case=entry)
    assert UseCase.objects.filter(pk=entry.pk).exists()
