"""CostSource.settings refuse secret-looking keys on every path a source is saved: the model, the Django admin's form,
the API and the YAML cost configuration. Each answer says to use credential_env, and nothing is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms import modelform_factory
from django.urls import reverse

from portfolio.costs.models import server_variable, validate_schedule
from portfolio.models import CostSource, secret_setting_keys, validate_settings_without_secrets

SECRET = "sk-ant-admin01-NOT-A-REAL-KEY"


@pytest.mark.parametrize(("value", "expected"), [
    ({"api_key": SECRET}, ["api_key"]),
    ({"apiKey": SECRET}, ["apiKey"]),
    ({"x-api-key": SECRET}, ["x-api-key"]),
    ({"access_token": SECRET, "base_url": "https://api.anthropic.com"}, ["access_token"]),
    ({"clientSecret": SECRET}, ["clientSecret"]),
    ({"PASSWORD": SECRET}, ["PASSWORD"]),
    ({"private_key": SECRET}, ["private_key"]),
    ({"headers": {"Authorization": f"Bearer {SECRET}"}}, ["headers.Authorization"]),
    ({"accounts": [{"name": "prod", "credentials": SECRET}]}, ["accounts.0.credentials"]),
])
def test_secret_looking_keys_are_found_wherever_they_are(value, expected):
    assert secret_setting_keys(value) == expected
    with pytest.raises(ValidationError) as caught:
        validate_settings_without_secrets(value)
    message = " ".join(caught.value.messages)
    assert expected[0] in message and "credential_env" in message
    assert SECRET not in message


def test_ordinary_settings_pass():
    value = {
        "base_url": "https://api.openai.com", "org": "northwind", "aggregate": "namespace,label:team",
        "ai_service_names": ["Azure OpenAI"], "licence_pool": 3, "max_attempts": 2, "usage": True,
        "max_tokens_per_day": 1000, "project_ids": ["proj_1"], "currency": "EUR",
    }
    assert secret_setting_keys(value) == []
    validate_settings_without_secrets(value)


@pytest.mark.django_db
def test_the_model_refuses_them():
    source = CostSource(name="anthropic-admin", type="anthropic", settings={"api_key": SECRET}, schedule="daily")
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert "settings" in caught.value.message_dict
    assert "credential_env" in " ".join(caught.value.message_dict["settings"])


@pytest.mark.django_db
def test_a_model_form_refuses_them():
    """Forms built on the model (the Django admin's among them) get the validator from the field."""
    form_class = modelform_factory(CostSource, fields=("name", "type", "settings", "credential_env", "schedule"))
    form = form_class(data={"name": "anthropic-admin", "type": "anthropic", "settings": f'{{"token": "{SECRET}"}}',
                            "credential_env": "", "schedule": "daily"})
    assert not form.is_valid()
    assert "credential_env" in " ".join(form.errors["settings"])
    assert not CostSource.objects.exists()


@pytest.mark.django_db
def test_the_django_admin_refuses_them(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:portfolio_costsource_add"), {
        "name": "anthropic-admin", "type": "anthropic", "settings": f'{{"password": "{SECRET}"}}',
        "credential_env": "", "schedule": "daily", "enabled": "on",
        "rules-TOTAL_FORMS": "0", "rules-INITIAL_FORMS": "0", "rules-MIN_NUM_FORMS": "0", "rules-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 200  # the form again, with the error
    assert "Settings may not hold secrets (password)" in response.content.decode()
    assert not CostSource.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_them(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:costsource-list"), {
        "name": "anthropic-admin", "type": "anthropic", "settings": {"headers": {"x-api-key": SECRET}},
    }, format="json")
    assert response.status_code == 400
    assert "headers.x-api-key" in response.json()["settings"][0]
    assert "credential_env" in response.json()["settings"][0]
    assert SECRET not in response.content.decode()
    assert not CostSource.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_them_on_update(api_client, admin_user):
    source = CostSource.objects.create(name="anthropic-admin", type="anthropic", settings={"usage": True})
    api_client.force_authenticate(admin_user)
    response = api_client.patch(reverse("api:costsource-detail", args=[source.pk]),
                                {"settings": {"usage": True, "bearer": SECRET}}, format="json")
    assert response.status_code == 400
    source.refresh_from_db()
    assert source.settings == {"usage": True}


@pytest.mark.django_db
def test_the_cost_config_refuses_them(tmp_path: Path):
    path = tmp_path / "costs.yaml"
    path.write_text(f"sources:\n  - {{name: anthropic-admin, type: anthropic, settings: {{auth_token: {SECRET}}}}}\n")
    with pytest.raises(CommandError) as caught:
        call_command("apply_cost_config", str(path))
    message = str(caught.value)
    assert "sources[0] (anthropic-admin): settings: Settings may not hold secrets (auth_token)" in message
    assert "credential_env" in message
    assert not CostSource.objects.exists()


@pytest.mark.parametrize(("value", "where"), [
    ({"base_url": "https://svc:hunter2@billing.example.com/export"}, "base_url (a password in a URL)"),
    ({"export_url": "https://api.example.com/costs?api_key=abc123&month=2026-09"}, "export_url (api_key= in"),
    ({"container": "https://acct.blob.core.windows.net/focus?sv=2022-11-02&sp=rl&sig=abc%3D"}, "container (sig= in"),
    ({"storage": "DefaultEndpointsProtocol=https;AccountName=nw;AccountKey=bm90LWEta2V5==;EndpointSuffix=core"},
     "storage (AccountKey= in a connection string)"),
    ({"dsn": "Server=tcp:db;Database=billing;User Id=svc;Password=hunter2;"}, "dsn (Password= in"),
    ({"headers": [["Authorization", "Bearer abc"]]}, "headers.0 (Authorization header)"),
    ({"headers": ["X-Api-Key: abc"]}, "headers.0 (X-Api-Key header)"),
    ({"headers": [{"name": "Authorization", "value": "Bearer abc"}]}, "headers.0 (Authorization header)"),
])
def test_secrets_in_values_are_refused_too(value, where):
    with pytest.raises(ValidationError) as caught:
        validate_settings_without_secrets(value)
    message = " ".join(caught.value.messages)
    assert where in message and "credential_env" in message
    for secret in ("hunter2", "abc123", "abc%3D", "bm90LWEta2V5", "Bearer abc"):
        assert secret not in message


def test_ordinary_values_pass():
    validate_settings_without_secrets({
        "base_url": "https://api.openai.com/v1?project=p1&limit=100", "bucket": "s3://northwind-cur/exports/",
        "aggregate": "namespace,label:team", "note": "Team: data platform", "window": "10:30",
        "endpoint": "https://billing.example.com:8443/focus", "headers": [["Accept", "text/csv"]],
    })


@pytest.mark.django_db
def test_the_api_refuses_a_secret_in_a_value_and_writes_nothing(api_client, admin_user):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:costsource-list"), {
        "name": "blob-export", "type": "focus", "schedule": "daily",
        "settings": {"path": "https://acct.blob.core.windows.net/focus?sv=2022&sig=abc%3D"}}, format="json")
    assert response.status_code == 400 and "sig=" in str(response.json())
    assert not CostSource.objects.filter(name="blob-export").exists()


@pytest.mark.parametrize(("value", "where"), [
    ({"admin_key": "sk-ant-admin01-xyz", "licence_pool": "NW-0070"}, "admin_key"),  # FORMATS.md: an "admin key"
    ({"subscriptionKey": "abc"}, "subscriptionKey"),
    ({"pat": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}, "pat"),
    ({"auth": {"user": "a", "pass": "b"}}, "auth"),
    ({"auth": {"user": "a", "pass": "b"}}, "auth.pass"),
    ({"org": "northwind", "header": "Bearer sk-abc"}, "header (a bearer token)"),
    ({"org": "sk-proj-abcdefghijklmnopqrstuvwxyz123456"}, "org (an OpenAI or Anthropic key)"),
    ({"org": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}, "org (a GitHub token)"),
    ({"orgs": ["northwind", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"]}, "orgs.1 (a GitHub token)"),
    ({"notify": "xoxb-1234567890-abcdefghij"}, "notify (a Slack token)"),
    ({"bucket": {"id": "AKIAIOSFODNN7EXAMPLE"}}, "bucket.id (an AWS access key)"),
])
def test_keys_named_as_keys_and_values_in_a_providers_key_format_are_refused(value, where):
    with pytest.raises(ValidationError) as caught:
        validate_settings_without_secrets(value)
    message = " ".join(caught.value.messages)
    assert where in message and "credential_env" in message
    for secret in ("xyz", "ghp_", "sk-proj", "github_pat", "xoxb", "AKIA", "sk-abc"):
        assert secret not in message


def test_settings_named_with_key_alone_or_as_part_of_a_word_pass():
    validate_settings_without_secrets({
        "headers": [{"key": "X-Org", "value": "northwind"}], "path": "/exports/{period}/part-*.csv.gz",
        "author": "finops", "max_tokens_per_day": 1000, "workspace_ids": ["wrkspc_01"], "project_ids": ["proj_sk-1"],
        "note": "Basic plan", "org": "sk-team",
    })


@pytest.mark.parametrize("value", [
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "sk-proj-abcdefghijklmnopqrstuvwxyz123456", "AKIAIOSFODNN7EXAMPLE",
    "openai_admin_key", "OPENAI ADMIN KEY", "Bearer abc",
])
@pytest.mark.django_db
def test_credential_env_must_be_an_environment_variable_name(value):
    source = CostSource(name="openai-main", type="openai", credential_env=value, schedule="daily")
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    messages = caught.value.message_dict["credential_env"]
    assert len(messages) == 1 and messages[0].startswith("An environment variable name")
    CostSource(name="openai-main", type="openai", credential_env="OPENAI_ADMIN_KEY", schedule="daily").full_clean()


@pytest.mark.django_db
def test_every_door_refuses_a_token_as_credential_env(api_client, admin_user, client, tmp_path: Path):
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:costsource-list"), {
        "name": "github-copilot", "type": "github_copilot", "credential_env": token}, format="json")
    assert response.status_code == 400 and "environment variable name" in response.json()["credential_env"][0]
    assert token not in response.content.decode()

    client.force_login(admin_user)
    response = client.post(reverse("portfolio:costsource_create"), {
        "name": "github-copilot", "type": "github_copilot", "credential_env": token, "settings": "{}",
        "schedule": "monthly", "enabled": "on"})
    assert response.status_code == 200 and "environment variable name" in response.content.decode()

    path = tmp_path / "costs.yaml"
    path.write_text(f"sources:\n  - {{name: github-copilot, type: github_copilot, credential_env: {token}}}\n")
    with pytest.raises(CommandError) as caught:
        call_command("apply_cost_config", str(path))
    assert "sources[0] (github-copilot): credential_env: An environment variable name" in str(caught.value)
    assert not CostSource.objects.exists()


@pytest.mark.parametrize(("schedule", "problem"), [
    ("99 99 * * *", "its minute field '99' is not valid"),
    ("0 25 * * *", "its hour field '25' is not valid"),
    ("0 6 32 * *", "its day of month field '32' is not valid"),
    ("0 6 * 13 *", "its month of year field '13' is not valid"),
    ("0 6 * * 8", "its day of week field '8' is not valid"),
    ("0 0 31 2 *", "day_of_month '31' never occurs in month_of_year '2'"),
])
def test_a_cron_schedule_that_could_never_run_is_refused_naming_its_field(schedule, problem):
    """A schedule celery cannot read would never fall due: the source would never run and never be late."""
    with pytest.raises(ValidationError) as caught:
        validate_schedule(schedule)
    message = caught.value.messages[0]
    assert message.startswith(f"Schedule '{schedule}' must be 'daily', 'monthly' or a five-field cron expression: ")
    assert problem in message


@pytest.mark.parametrize("schedule", ["daily", "monthly", "0 6 * * 1", "*/15 * * * *", "30 5 1-5 * mon-fri"])
def test_runnable_schedules_pass(schedule):
    validate_schedule(schedule)


@pytest.mark.django_db
def test_the_cost_config_refuses_a_cron_schedule_that_could_never_run(tmp_path: Path):
    path = tmp_path / "costs.yaml"
    path.write_text('sources:\n  - {name: aws-focus, type: focus, schedule: "61 25 32 13 8"}\n')
    with pytest.raises(CommandError) as caught:
        call_command("apply_cost_config", str(path))
    assert "sources[0] (aws-focus): schedule: Schedule '61 25 32 13 8' must be" in str(caught.value)
    assert not CostSource.objects.exists()


def settings_variables() -> set[str]:
    """Every environment variable tollgate/settings.py reads: env("X"), env.bool("X"), env.db("X"), api_key_env."""
    text = (Path(__file__).resolve().parents[3] / "tollgate" / "settings.py").read_text()
    return set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", text)) | set(
        re.findall(r'''"api_key_env": "([A-Z][A-Z0-9_]*)"''', text))


def test_every_variable_of_the_servers_own_configuration_is_a_server_variable():
    found = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "EMAIL_URL", "OIDC_RP_CLIENT_SECRET", "METRICS_TOKEN",
            "EMBEDDINGS_API_KEY", "CACHE_URL", "CELERY_BROKER_URL"} <= found
    assert [name for name in sorted(found) if not server_variable(name)] == []
    assert not server_variable("OPENAI_ADMIN_KEY") and not server_variable("GITHUB_TOKEN")


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "OIDC_RP_CLIENT_SECRET", "PGPASSWORD",
                                  "POSTGRES_PASSWORD", "DJANGO_SETTINGS_MODULE"])
@pytest.mark.django_db
def test_credential_env_may_not_name_a_server_variable(name):
    """The credential is sent to the source's base_url, which an administrator chooses: naming SECRET_KEY there
    would hand the server's secret to any host."""
    source = CostSource(name="openai-main", type="openai", credential_env=name, schedule="daily",
                        settings={"base_url": "https://collector.example"})
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    (message,) = caught.value.message_dict["credential_env"]
    assert message.startswith(f"{name} is one of the server's own configuration variables")


@pytest.mark.django_db
def test_every_door_refuses_a_server_variable_as_credential_env(api_client, admin_user, client, tmp_path: Path):
    api_client.force_authenticate(admin_user)
    response = api_client.post(reverse("api:costsource-list"), {
        "name": "openai-main", "type": "openai", "credential_env": "SECRET_KEY",
        "settings": {"base_url": "https://collector.example"}}, format="json")
    assert response.status_code == 400
    assert "server's own configuration variables" in response.json()["credential_env"][0]

    client.force_login(admin_user)
    response = client.post(reverse("portfolio:costsource_create"), {
        "name": "openai-main", "type": "openai", "credential_env": "DATABASE_URL", "settings": "{}",
        "schedule": "monthly", "enabled": "on"})
    assert response.status_code == 200 and "server&#x27;s own configuration variables" in response.content.decode()

    path = tmp_path / "costs.yaml"
    path.write_text("sources:\n  - {name: openai-main, type: openai, credential_env: EMAIL_URL}\n")
    with pytest.raises(CommandError, match="EMAIL_URL is one of the server's own configuration variables"):
        call_command("apply_cost_config", str(path))
    assert not CostSource.objects.exists()


@pytest.mark.django_db
def test_a_source_stored_naming_a_server_variable_neither_runs_nor_says_it_is_set(api_client, admin_user,
                                                                                  monkeypatch):
    """A source saved before the rule: its run fails before any request is made, and the API does not tell which
    server variables are set."""
    from portfolio.choices import RunStatus, RunTrigger
    from portfolio.costs.connectors.base import Period
    from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute

    monkeypatch.setenv("SECRET_KEY", "the-servers-own-secret")
    source = CostSource.objects.create(name="openai-main", type="openai", credential_env="SECRET_KEY",
                                       settings={"base_url": "https://collector.example"})
    requests_made: list[object] = []
    monkeypatch.setattr("urllib.request.OpenerDirector.open", lambda *args, **kwargs: requests_made.append(args))
    run = ingestion_run_execute(run=ingestion_run_create(source=source, period=Period.month(2025, 6),
                                                         trigger=RunTrigger.API))
    assert run.status == RunStatus.FAILED and "SECRET_KEY is one of the server's own configuration" in run.error
    assert requests_made == [] and "the-servers-own-secret" not in run.error

    api_client.force_authenticate(admin_user)
    assert api_client.get(reverse("api:costsource-detail", args=[source.pk])).json()["credential_configured"] is False


@pytest.mark.django_db
def test_with_exports_folders_set_a_configured_path_outside_them_is_refused(api_client, admin_user, settings,
                                                                            tmp_path: Path):
    """An administrator could point a file source at any file the server reads (its .env, /etc/passwd): with
    INGESTION_EXPORTS_DIRS set, a path (or the folder before its pattern) must lie inside it."""
    exports = tmp_path / "exports"
    exports.mkdir()
    settings.INGESTION_EXPORTS_DIRS = [str(exports)]
    api_client.force_authenticate(admin_user)
    for path in ("/etc/passwd", f"{exports}/../.env", f"{tmp_path}/*/{{period}}.csv"):
        response = api_client.post(reverse("api:costsource-list"), {
            "name": "contracts", "type": "csv", "settings": {"path": path}}, format="json")
        assert response.status_code == 400, path
        assert "outside the folders cost exports are read from" in response.json()["settings"][0]
    assert not CostSource.objects.exists()
    for path in (f"{exports}/contracts-{{period}}.csv", f"{exports}/{{period}}/part-*.csv.gz", f"{exports}/june.csv"):
        CostSource(name="contracts", type="csv", settings={"path": path}, schedule="daily").full_clean()


@pytest.mark.django_db
def test_a_run_reads_no_configured_file_outside_the_exports_folders(settings, tmp_path: Path):
    """A source saved before the setting, or a link inside the folder to a file outside it, fails its run before
    anything is read, naming settings.path."""
    from portfolio.choices import RunStatus, RunTrigger
    from portfolio.costs.connectors.base import Period
    from portfolio.costs.services.runs import ingestion_run_create, ingestion_run_execute

    exports = tmp_path / "exports"
    exports.mkdir()
    secret = tmp_path / "env"
    secret.write_text("date,category,amount,initiative\n")
    (exports / "linked.csv").symlink_to(secret)
    settings.INGESTION_EXPORTS_DIRS = [str(exports)]
    for kind, path in (("csv", secret), ("csv", exports / "linked.csv"), ("focus", exports / "*.csv")):
        source = CostSource.objects.create(name=f"old-{kind}-{path.name}", type=kind, settings={"path": str(path)})
        run = ingestion_run_execute(run=ingestion_run_create(source=source, period=Period.month(2025, 6),
                                                             trigger=RunTrigger.API))
        assert run.status == RunStatus.FAILED and "settings.path" in run.error, (path, run.error)
        assert "outside" in run.error
