"""Mail without EMAIL_URL goes to the server log: `check --deploy` says so in production."""

from __future__ import annotations

from django.core import checks

from tollgate.mail import email_url_check


def test_check_deploy_warns_when_production_has_no_email_url(settings):
    settings.DEBUG, settings.EMAIL_BACKEND = False, "tollgate.mail.EmailBackend"
    assert [w.id for w in email_url_check(None)] == ["tollgate.W001"]
    assert "tollgate.W001" in [m.id for m in checks.run_checks(include_deployment_checks=True, tags=["email"])]
    settings.DEBUG = True  # development: the console is expected
    assert email_url_check(None) == []
    settings.DEBUG, settings.EMAIL_BACKEND = False, "django.core.mail.backends.smtp.EmailBackend"
    assert email_url_check(None) == []
