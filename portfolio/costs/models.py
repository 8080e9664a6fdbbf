"""Cost and usage: sources, allocation rules, ingestion runs, raw records, currency rates and monthly roll-ups.

Raw records (CostRecord, UsageRecord, SeatActivity) are replaced per (source, period) by each run; pages and signals
read the roll-ups (MonthlyCost, MonthlyTokenUsage, MonthlyGpuUsage, LicencePoolActivity), never the raw rows."""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portfolio.choices import CostCategory, RuleMatch, RunTrigger, SourceType
from portfolio.models.base import INTEGER_MAX, DecimalShape, TimestampedModel, at_most, money_field
from portfolio.models.inventory import Initiative, LicencePool
from tollgate.formatting import reporting_currency
from tollgate.jobs import Run

amount_field = DecimalShape(20, 6)  # provider lines carry sub-cent amounts; round only in roll-ups
quantity_field = DecimalShape(24, 6)

ALLOCATION_KEYS = (
    "billing_account_id", "sub_account_id", "resource_id", "service_name", "project_id", "workspace_id",
    "api_key_id", "namespace",
)
ALLOCATION_KEY_PATTERN = re.compile(r"(?:tag|label):\S+|" + "|".join(ALLOCATION_KEYS))
CRON_FIELD = r"[\d*/,\-A-Za-z]+"
SCHEDULE_PATTERN = re.compile(rf"daily|monthly|{CRON_FIELD}(?: {CRON_FIELD}){{4}}")


def validate_allocation_key(value: str) -> None:
    if not ALLOCATION_KEY_PATTERN.fullmatch(value or ""):
        raise ValidationError(
            f"Unknown key {value!r}: use tag:<name>, label:<name> or one of {', '.join(ALLOCATION_KEYS)}."
        )


# Settings are plain configuration, shown on pages and in the API: a secret pasted into them would be stored in clear
# and echoed back. Keys are split into words ("access_token", "clientSecret" -> access, token / client, secret).
SECRET_SETTING_WORDS = frozenset({
    "secret", "secrets", "password", "passwd", "pwd", "pass", "passphrase", "token", "credential", "credentials",
    "apikey", "bearer", "authorization", "auth", "pat", "jwt", "sas", "cookie",
})
SECRET_SETTING_JOINED = ("apikey", "privatekey", "accesskey", "secretkey", "clientsecret", "authtoken", "adminkey")
# "admin_key", "subscriptionKey": a key named as some kind of key is one (FORMATS.md calls the OpenAI and Anthropic
# credentials admin keys). A bare "key" is not: {"key": "X-Org", "value": ...} names a header.
KEY_WORDS = frozenset({"key", "keys"})


def _secret_name(name: str) -> bool:
    """Whether a key or header name looks like it names a secret ("access_token", "clientSecret", "X-Api-Key")."""
    words = {w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)}
    joined = re.sub(r"[^a-z0-9]", "", name.lower())
    return (bool(words & SECRET_SETTING_WORDS) or any(part in joined for part in SECRET_SETTING_JOINED)
            or (bool(words & KEY_WORDS) and len(words) > 1))


def secret_setting_keys(value: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the keys in `value` (nested mappings and lists included) that look like they hold a secret."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            if _secret_name(str(key)):
                found.append(path)
            found += secret_setting_keys(item, f"{path}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += secret_setting_keys(item, f"{prefix}{index}.")
    return found


# Secrets also hide in values: a password in a URL, a key in a query string (an Azure SAS's sig=), a connection
# string's AccountKey=, or a header given as a list or a "Name: value" line.
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)
QUERY_PARAMETER = re.compile(r"[?&;]([^=&#\s]+)=[^&#\s]")
SECRET_QUERY_NAMES = frozenset({"key", "sig", "signature", "code", "auth", "x-amz-signature", "x-amz-credential",
                                "x-amz-security-token", "x-goog-signature", "x-goog-credential"})
CONNECTION_STRING_SECRET = re.compile(
    r"(?:^|;)\s*(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd|ClientSecret)\s*=\s*[^;\s]",
    re.IGNORECASE)
HEADER_LINE = re.compile(r"\s*([A-Za-z0-9-]+)\s*:\s*\S")
# Keys recognisable by their published prefixes, whatever the setting holding them is called (and in credential_env,
# where a variable's name belongs): what each is, for the message, which never repeats the value.
KEY_FORMATS = (
    (re.compile(r"\bsk-(?:ant|proj|admin|svcacct|live|test)-\S|\bsk-[A-Za-z0-9]{20,}"), "an OpenAI or Anthropic key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_\w{20,}"), "a GitHub token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), "an AWS access key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"^\s*Bearer\s+\S", re.IGNORECASE), "a bearer token"),
    (re.compile(r"^\s*Basic\s+[A-Za-z0-9+/]{8,}={0,2}\s*$", re.IGNORECASE), "basic authentication"),
)
ENVIRONMENT_VARIABLE_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
LOOSE_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # credential_env's field validator


def provider_key_kind(text: str) -> str | None:
    """What kind of provider key `text` holds ("a GitHub token"), or None."""
    return next((kind for pattern, kind in KEY_FORMATS if pattern.search(text)), None)



def _secret_in_text(text: str) -> str | None:
    """What kind of secret a setting's text holds, or None."""
    kind = provider_key_kind(text)
    if kind:
        return kind
    if URL_PASSWORD.search(text):
        return "a password in a URL"
    found = CONNECTION_STRING_SECRET.search(text)
    if found:
        return f"{found.group(1)}= in a connection string"
    for name in QUERY_PARAMETER.findall(text):
        if name.lower() in SECRET_QUERY_NAMES or _secret_name(name):
            return f"{name}= in a query string"
    header = HEADER_LINE.match(text)
    if header and " " not in text.split(":", 1)[0].strip() and _secret_name(header.group(1)):
        return f"{header.group(1)} header"
    return None


def secret_setting_values(value: Any, prefix: str = "") -> list[str]:
    """'path (what)' for each value in `value` that holds a secret: in its text, or as a header given as a
    [name, value] pair or a {"name": ..., "value": ...} mapping."""
    found: list[str] = []
    if isinstance(value, dict):
        name = value.get("name") or value.get("key") or value.get("header")
        if isinstance(name, str) and "value" in value and _secret_name(name):
            found.append(f"{prefix.rstrip('.') or 'settings'} ({name} header)")
        for key, item in value.items():
            found += secret_setting_values(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        if len(value) == 2 and all(isinstance(v, str) for v in value) and _secret_name(value[0]):
            found.append(f"{prefix.rstrip('.') or 'settings'} ({value[0]} header)")
        for index, item in enumerate(value):
            found += secret_setting_values(item, f"{prefix}{index}.")
    elif isinstance(value, str):
        what = _secret_in_text(value)
        if what:
            found.append(f"{prefix.rstrip('.') or 'settings'} ({what})")
    return found


def validate_settings_without_secrets(value: Any) -> None:
    """Refuse settings that look like they hold a secret, in a key or in a value, wherever a source is saved (admin,
    API, YAML, forms); the message names where, never the secret."""
    keys = secret_setting_keys(value)
    secret = keys + [found for found in secret_setting_values(value) if found.split(" (", 1)[0] not in keys]
    if secret:
        raise ValidationError(
            f"Settings may not hold secrets ({', '.join(secret)}): put the secret in an environment variable and give "
            "that variable's name as credential_env.",
            code="secret_in_settings",
        )


# The variables that configure Tollgate itself (settings.py, gunicorn.conf.py, compose.yaml) and those of the services
# it runs on. A source's credential is sent to the source's base_url, which an administrator chooses: a source naming
# SECRET_KEY or DATABASE_URL would hand the server's own secrets to any host. tests/portfolio/costs check that every
# variable settings.py reads is listed.
SERVER_VARIABLES = frozenset({
    "ALLOWED_HOSTS", "API_RATE_LIMIT", "API_TOKENS_PER_PERSON", "API_TOKEN_MAX_DAYS", "API_TOKEN_PASSWORD_HOURS",
    "CACHE_URL", "CONN_HEALTH_CHECKS", "CONN_MAX_AGE", "CSRF_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS", "DATABASE_URL",
    "DEBUG", "DEFAULT_FROM_EMAIL", "EMAIL_URL", "EMBEDDINGS_API_KEY", "EMBEDDINGS_BACKEND", "EMBEDDINGS_MODEL",
    "EMBEDDINGS_THREADS", "EMBEDDINGS_URL", "GUNICORN_TIMEOUT", "INGESTION_EXPORTS_DIRS", "INGESTION_MAX_FILE_MB",
    "LOGIN_CLIENT_IP_HEADER", "LOGIN_COOLOFF_MINUTES", "LOGIN_FAILURE_LIMIT", "LOG_FORMAT", "LOG_LEVEL", "MEDIA_ROOT",
    "METRICS_ALLOWED_IPS", "METRICS_TOKEN", "PASSWORD_LINK_DAYS", "PASSWORD_LOGIN", "PROMETHEUS_MULTIPROC_DIR",
    "REDIS_URL", "REPORTING_CURRENCY", "SECRET_KEY", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SITE_URL",
    "STATICFILES_BACKEND", "STATIC_ROOT", "TIME_ZONE", "TOLLGATE_WARM_INDEX",
})
SERVER_VARIABLE_PREFIXES = ("CELERY_", "DJANGO_", "OIDC_", "PG", "POSTGRES_")


def server_variable(name: str) -> bool:
    """Whether `name` is a variable of the server's own configuration, never a cost source's credential."""
    return name.upper() in SERVER_VARIABLES or name.upper().startswith(SERVER_VARIABLE_PREFIXES)


def server_variable_refusal(name: str) -> str:
    return (f"{name} is one of the server's own configuration variables: a source's credential is sent to the "
            "source's API, so it may not name one. Set the provider's key in a variable of its own (e.g. "
            "OPENAI_ADMIN_KEY) and name that.")


def credential_env_error(value: str) -> str | None:
    """Why `value` cannot be a source's credential_env, or None: it must be an environment variable's name as the
    convention writes them (OPENAI_ADMIN_KEY), never a key pasted in its place, which would be stored and shown, nor
    a variable of the server's own configuration (server_variable)."""
    if not value:
        return None
    if provider_key_kind(value) or not ENVIRONMENT_VARIABLE_NAME.fullmatch(value):
        return ("An environment variable name (capital letters, digits and _, e.g. OPENAI_ADMIN_KEY), not the "
                "secret.")
    if server_variable(value):
        return server_variable_refusal(value)
    return None


GLOB_OR_PERIOD = re.compile(r"[*?\[{]")


def exports_dirs() -> list[Path]:
    """The folders configured paths may read from (INGESTION_EXPORTS_DIRS), symbolic links resolved; [] for any."""
    return [Path(os.path.realpath(folder)) for folder in getattr(settings, "INGESTION_EXPORTS_DIRS", []) if folder]


def within_exports_dirs(path: Path | str) -> bool:
    """Whether `path`, symbolic links and `..` resolved, lies in one of the exports folders (always, with none set)."""
    folders = exports_dirs()
    resolved = Path(os.path.realpath(path))
    return not folders or any(resolved == folder or folder in resolved.parents for folder in folders)


def export_path_error(configured: str) -> str | None:
    """Why a file source's `path` setting may not be read, or None: it must lie in INGESTION_EXPORTS_DIRS when that is
    set (a pattern or '{period}' is judged by the folder before it), or an administrator could read any file the
    server can (its .env, another system's exports)."""
    if not configured or not exports_dirs():
        return None
    magic = GLOB_OR_PERIOD.search(configured)
    fixed = configured if magic is None else os.path.dirname(configured[:magic.start()]) or "."
    if within_exports_dirs(fixed):
        return None
    return (f"The path {configured} is outside the folders cost exports are read from: INGESTION_EXPORTS_DIRS is "
            f"{', '.join(str(folder) for folder in exports_dirs())}.")


CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def validate_schedule(value: str) -> None:
    """'daily', 'monthly' or a cron expression celery can run: one it cannot read ('99 99 * * *') would never fall
    due, so the source would never run and never be reported late."""
    schedule = (value or "").strip()
    message = f"Schedule {value!r} must be 'daily', 'monthly' or a five-field cron expression"
    if not SCHEDULE_PATTERN.fullmatch(schedule):
        raise ValidationError(f"{message}.")
    if schedule in ("daily", "monthly"):
        return
    fields = dict(zip(CRON_FIELDS, schedule.split(), strict=True))
    for name, field in fields.items():
        try:
            crontab(**{name: field})
        except ValueError as exc:
            words = name.replace("_", " ")
            raise ValidationError(f"{message}: its {words} field {field!r} is not valid ({exc})") from None
    try:
        crontab(**fields)
    except ValueError as exc:
        raise ValidationError(f"{message}: {exc}") from None


# A cost source's name is its key: `manage.py ingest NAME` takes it on the command line, the costs configuration file
# (`apply_cost_config`) names a rule's source by it, and it is unique. So it keeps to characters a shell and a file
# take as they are, and a refusal says which character does not.
SOURCE_NAME_CHARACTER = re.compile(r"[\w.\-]")
SOURCE_NAME_HELP = ("Unique: its key, as `manage.py ingest NAME` and the costs configuration file name it. Letters, "
                    "digits, dots, hyphens and underscores, e.g. azure-focus.")


def validate_source_name(value: str) -> None:
    """Refuse a name that is no key, saying what is allowed and which character is not ("'Azure OpenAI' has a
    space"), rather than Django's "Enter a valid value."."""
    bad = next((c for c in value if not SOURCE_NAME_CHARACTER.fullmatch(c)), None)
    if bad is None:
        return
    what = "a space" if bad == " " else "a tab or line break" if bad.isspace() else f"“{bad}”"
    raise ValidationError(
        "A cost source's name may hold letters, digits, dots, hyphens and underscores only (it is the source's key "
        "on the command line and in the costs configuration file): %(value)s has %(what)s.",
        code="invalid", params={"value": f"“{value[:80]}”", "what": what})

class CostSource(TimestampedModel):
    """Where cost or usage data comes from: a billing export, a provider API, a seat report.

    The secret is never stored: `credential_env` names the environment variable that holds it, read at run time.
    """

    name = models.CharField(max_length=80, unique=True, validators=[validate_source_name], help_text=SOURCE_NAME_HELP)
    type = models.CharField(max_length=20, choices=SourceType.choices)
    settings = models.JSONField(
        default=dict, blank=True, validators=[validate_settings_without_secrets],
        help_text="base_url, organisation/project/workspace scope, ai_service_categories, ai_service_names, "
                  "currency; for seat sources licence_pool: the external id of the initiative whose pool it is "
                  "(INV-0009, or INV-0009/<tool> when it has several pools).",
    )
    credential_env = models.CharField(
        "credential environment variable", max_length=120, blank=True,
        validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "An environment variable name, not the secret.")],
        help_text="Name of the environment variable holding the API key; the key itself is never stored.",
    )
    schedule = models.CharField(
        max_length=60, default="daily", validators=[validate_schedule],
        help_text="'daily', 'monthly' or a cron expression (minute hour day month weekday).",
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        configured = (self.settings or {}).get("path") if isinstance(self.settings, dict) else None
        path_error = export_path_error(str(configured or ""))
        if path_error:
            raise ValidationError({"settings": path_error})
        error = credential_env_error(self.credential_env)
        if error and LOOSE_VARIABLE_NAME.fullmatch(self.credential_env):  # else the field's validator said so
            raise ValidationError({"credential_env": error})


class AllocationRule(TimestampedModel):
    """Maps a source's key (tag, account, project, workspace, namespace...) to an initiative; first match wins."""

    source = models.ForeignKey(CostSource, on_delete=models.CASCADE, related_name="rules")
    order = models.PositiveIntegerField(default=0, validators=at_most(INTEGER_MAX, "A rule's order"))
    key = models.CharField(max_length=120, validators=[validate_allocation_key])
    match = models.CharField(max_length=10, choices=RuleMatch.choices, default=RuleMatch.EXACT)
    value = models.CharField(max_length=255)
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="allocation_rules")

    class Meta:
        ordering = ["source_id", "order", "id"]
        # Rules are tried by order: two of a source with the same one would leave which wins to their ids. The
        # services refuse it naming the holder (allocation._order_error); the database holds the same rule.
        constraints = [models.UniqueConstraint(fields=["source", "order"], name="one_rule_per_order_of_a_source")]

    def __str__(self) -> str:
        return f"{self.source} #{self.order}: {self.key} {self.match} {self.value!r} -> {self.initiative}"

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """All but the order's uniqueness, which the allocation services check naming the rule that holds the order
        and the next free one, rather than Django's sentence that names neither (forms and full_clean alike)."""
        super().validate_constraints(exclude={*(exclude or ()), "order"})

    def clean(self) -> None:
        super().clean()
        if self.match == RuleMatch.REGEX:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise ValidationError({"value": f"Invalid regular expression: {exc}"}) from None


class IngestionRun(Run):
    """One read of one source for one period: who or what started it, what it did, or where it failed."""

    source = models.ForeignKey(CostSource, on_delete=models.CASCADE, related_name="runs")
    period = models.DateField(help_text="First day of the month read.")
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices, default=RunTrigger.USER)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    file = models.FileField(upload_to="ingestion/%Y/%m/", blank=True, help_text="Uploaded export, if any.")
    filename = models.CharField(max_length=255, blank=True, help_text="Name of the file read, for messages.")
    rows_read = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    skipped_by_reason = models.JSONField(
        default=dict, blank=True, help_text='rows_skipped by why ({"not AI spend": 990, "billed in another period": '
                                            '1}); empty for a run from before it was kept.')
    progress = models.PositiveIntegerField(default=0, help_text="Rows read so far, for the progress display.")
    unallocated_amount = money_field(default=Decimal("0"))
    error = models.TextField(blank=True, help_text="Why it failed, naming the file, row and column or HTTP status.")
    warning = models.TextField(blank=True, help_text="What a succeeded run should tell, e.g. that it read no records.")
    replace_with_nothing = models.BooleanField(
        default=False, help_text="Confirmed by who started it: a read that finds no records may empty a month that "
                                 "held records of the source (otherwise such a read fails and the month is kept).",
    )
    parts = models.PositiveIntegerField(
        default=0, help_text="Files of the month read in parallel, one task each (0: one task read everything)."
    )

    stale_after = timedelta(hours=2)
    lost_hint = "The previous data is unchanged; run it again."
    counted_rows = {"read": "rows_read", "written": "rows_written", "skipped": "rows_skipped"}

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source", "period"]), models.Index(fields=["source", "status"])]

    def __str__(self) -> str:
        # Without its status: the audit trail keeps this text from when a row was written, and a status goes stale.
        return f"{self.source} {self.period:%Y-%m}"

    @classmethod
    def spread_runs(cls) -> Q:
        """Runs read in parts: no one worker holds them, so their parts' heartbeats say whether they are alive."""
        return Q(parts__gt=0)

    @classmethod
    def failed_audit(cls, run: Run, *, before: str) -> None:
        """A run the job runner failed (its task could not be sent, or an unexpected error while it was claimed) is
        audited like every other failed run."""
        from portfolio.costs.services.runs import run_failed_audit

        assert isinstance(run, IngestionRun)
        run_failed_audit(IngestionRun.objects.select_related("source", "actor").get(pk=run.pk), before=before)


class IngestionRunPart(models.Model):
    """One file of a run read in parallel: which worker read it and what it found (summed into the run at its end).

    Its rows wait in the run's staging table until the last part is read; a part read again (a redelivered task)
    replaces its own staged rows and figures."""

    run = models.ForeignKey(IngestionRun, on_delete=models.CASCADE, related_name="file_parts")
    number = models.PositiveIntegerField(help_text="1, 2, ... in file name order.")
    path = models.CharField(max_length=1000)
    done = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that read it.")
    rows_read = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    skipped_by_reason = models.JSONField(default=dict, blank=True)
    rows_written = models.PositiveIntegerField(default=0)
    unallocated_amount = money_field(default=Decimal("0"))
    notes = models.TextField(blank=True, help_text="What the connector said besides its figures (e.g. rows billed in "
                             "another period, skipped), joined into the run's warning by the merge.")
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="ingestion_run_part_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} part {self.number}: {self.path}"


class CostRecord(models.Model):
    """One normalised cost line of a source, in its billing currency and in the reporting currency.

    The (source, period) and (initiative, period) indexes also serve lookups by source or initiative alone, so those
    foreign keys have no index of their own: every index costs time on each of the millions of rows a run writes.
    Nothing looks records up by their run, so that key has none either (it cost about a tenth of a merge's insert); the
    one price is a scan of the records when a source and its runs are deleted, which an administrator does rarely.

    For the same reason its foreign keys are not constraints in the database: PostgreSQL checks a constraint row by
    row (3 s at commit for a month of 300,000 lines, more than reading them). What writes records (a run, a merge of
    parts, a re-allocation) checks the references once instead and locks them as the constraint's own check would
    (services/references.py); deleting a source, run or initiative goes through Django, which applies the on_delete
    rules below."""

    source = models.ForeignKey(CostSource, on_delete=models.CASCADE, related_name="cost_records", db_index=False,
                               db_constraint=False)
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                            db_index=False, db_constraint=False)
    period = models.DateField()
    charge_date = models.DateField()
    amount = amount_field()
    currency = models.CharField(max_length=3)
    amount_reporting = amount_field()
    billed_amount = amount_field(null=True, blank=True)
    category = models.CharField(max_length=20, choices=CostCategory.choices, default=CostCategory.OTHER)
    keys = models.JSONField(default=dict, blank=True)
    service_name = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    quantity = quantity_field(null=True, blank=True)
    unit = models.CharField(max_length=80, blank=True)
    gpu_hours = quantity_field(null=True, blank=True)
    # The GPU share of `amount` where the source gives it apart (OpenCost's gpuCost + gpuCostAdjustment), as read and
    # in the reporting currency; empty where it does not (a plain CSV GPU line): the whole amount is then the GPU's.
    gpu_cost = amount_field(null=True, blank=True)
    gpu_cost_reporting = amount_field(null=True, blank=True)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="cost_records",
        help_text="Empty: no rule maps it (unallocated).", db_index=False, db_constraint=False,
    )

    class Meta:
        indexes = [models.Index(fields=["source", "period"]), models.Index(fields=["initiative", "period"])]

    def __str__(self) -> str:
        return f"{self.charge_date} {self.amount} {self.currency} ({self.source})"


class UsageRecord(models.Model):
    """Token usage of one model in one day, as a source reported it."""

    source = models.ForeignKey(CostSource, on_delete=models.CASCADE, related_name="usage_records")
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    period = models.DateField()
    usage_date = models.DateField()
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_tokens = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)
    keys = models.JSONField(default=dict, blank=True)
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.SET_NULL, related_name="usage_records"
    )

    class Meta:
        indexes = [models.Index(fields=["source", "period"]), models.Index(fields=["initiative", "period"])]

    def __str__(self) -> str:
        return f"{self.usage_date} {self.model} ({self.source})"


class SeatActivity(models.Model):
    """One assigned seat of a seat-based tool in a period, and when its holder last used it."""

    source = models.ForeignKey(CostSource, on_delete=models.CASCADE, related_name="seat_activity")
    run = models.ForeignKey(IngestionRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    licence_pool = models.ForeignKey(
        LicencePool, null=True, blank=True, on_delete=models.SET_NULL, related_name="seat_activity"
    )
    period = models.DateField()
    user = models.CharField(max_length=255)
    assigned = models.BooleanField(default=True)
    last_activity = models.DateField(null=True, blank=True)
    keys = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "seat activity"
        # (pool, user, period): the licence-waste signal asks, for each seat of a month, whether its holder held one
        # before the inactivity window; without it that is a scan of the pool's year per seat.
        indexes = [models.Index(fields=["source", "period"]), models.Index(fields=["licence_pool", "period"]),
                   models.Index(fields=["licence_pool", "user", "period"], name="seat_pool_user_period")]

    def __str__(self) -> str:
        return f"{self.user} {self.period:%Y-%m}"


def rate_above_zero(value: Decimal) -> None:
    """One message for every rate that is not above 0, negative or 0, naming it: a converted amount would be 0 or
    change sign. (MinValueValidator(0) said "greater than or equal to 0" of -1 while 0 was refused too.)"""
    if value is not None and value <= 0:
        raise ValidationError(f"A rate must be greater than 0, not {Decimal(value).normalize():f}.", code="min_value")


class CurrencyRate(TimestampedModel):
    """Admin-maintained rate: 1 unit of `currency` = `rate_to_reporting` units of the reporting currency."""

    currency = models.CharField(max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 4217, e.g. EUR.")])
    valid_from = models.DateField()
    rate_to_reporting = models.DecimalField(max_digits=18, decimal_places=8, validators=[rate_above_zero])

    class Meta:
        ordering = ["currency", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["currency", "valid_from"], name="unique_rate_per_day")]

    def __str__(self) -> str:
        return f"{self.currency} from {self.valid_from}: {self.rate_to_reporting}"

    def clean(self) -> None:
        """What the service refuses, refused wherever a rate is validated (admin, forms, API)."""
        super().clean()
        errors: dict[str, str] = {}
        if (self.currency or "").strip().upper() == reporting_currency():
            errors["currency"] = (f"{self.currency} is the reporting currency: its rate is always 1 and needs no "
                                  "entry.")
        if errors:
            raise ValidationError(errors)


class AmountsCurrency(models.Model):
    """The currency the database's amounts are in: one row. Amounts are plain numbers (declared costs, business
    cases, prices, cost records, roll-ups, currency rates), labelled with settings.REPORTING_CURRENCY when shown, so
    changing the setting on a database that holds amounts would relabel them without converting them; the system
    check portfolio.E001 refuses to start then. Recorded by migrate (portfolio.costs.services.amounts_currency)."""

    code = models.CharField(max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 4217, e.g. EUR.")])
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "amounts currency"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="amounts_currency_one_row")]

    def __str__(self) -> str:
        return self.code


class MonthlyCost(models.Model):
    """Roll-up: cost per initiative (empty = unallocated) x month x category, in the reporting currency."""

    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="monthly_costs"
    )
    month = models.DateField()
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    amount = money_field(default=Decimal("0"))

    class Meta:
        ordering = ["month", "initiative_id", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "month", "category"], condition=Q(initiative__isnull=False),
                name="unique_monthly_cost",
            ),
            models.UniqueConstraint(
                fields=["month", "category"], condition=Q(initiative__isnull=True),
                name="unique_monthly_cost_unallocated",
            ),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.category} {self.amount}"


class MonthlyTokenUsage(models.Model):
    """Roll-up: tokens per initiative (empty = unallocated) x month x model."""

    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="monthly_token_usage"
    )
    month = models.DateField()
    model = models.CharField(max_length=200, blank=True)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_tokens = models.BigIntegerField(default=0)
    requests = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["month", "initiative_id", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "month", "model"], condition=Q(initiative__isnull=False),
                name="unique_monthly_tokens",
            ),
            models.UniqueConstraint(
                fields=["month", "model"], condition=Q(initiative__isnull=True),
                name="unique_monthly_tokens_unallocated",
            ),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.model}"


class GpuCostBasis(models.TextChoices):
    """What a GPU roll-up's cost is: the GPU cost the source gives apart (OpenCost), or, where it does not (a plain CSV
    GPU line, an OpenCost month read before the GPU cost was kept), the whole cost of the records with GPU-hours."""

    GPU = "gpu", "GPU cost"
    RECORDS = "records", "Cost of records with GPU-hours"
    MIXED = "mixed", "GPU cost where the source gives it, else the cost of records with GPU-hours"

    @classmethod
    def of(cls, *, records: int, separated: int) -> GpuCostBasis:
        """The basis of `records` records with GPU-hours, `separated` of them giving their GPU cost apart."""
        if separated == records:
            return cls.GPU
        return cls.MIXED if separated else cls.RECORDS

    @classmethod
    def combined(cls, bases: Iterable[str]) -> GpuCostBasis | None:
        """The basis of a sum of roll-up rows: theirs when they agree, else mixed; None for no rows."""
        distinct = set(bases)
        if not distinct:
            return None
        return cls(distinct.pop()) if len(distinct) == 1 else cls.MIXED


class MonthlyGpuUsage(models.Model):
    """Roll-up: GPU-hours per initiative (empty = unallocated) x month, with what they cost in the reporting currency:
    the records' GPU cost where the source gives it apart (OpenCost), else their whole cost (`cost_basis` says which):
    the price per GPU-hour the company actually pays, beside the one the self-hosting comparison assumes."""

    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.CASCADE, related_name="monthly_gpu_usage"
    )
    month = models.DateField()
    gpu_hours = quantity_field(default=Decimal("0"))
    cost = money_field(default=Decimal("0"))
    cost_basis = models.CharField(max_length=10, choices=GpuCostBasis.choices, default=GpuCostBasis.RECORDS)

    class Meta:
        ordering = ["month", "initiative_id"]
        verbose_name_plural = "monthly GPU usage"
        constraints = [
            models.UniqueConstraint(fields=["initiative", "month"], condition=Q(initiative__isnull=False),
                                    name="unique_monthly_gpu"),
            models.UniqueConstraint(fields=["month"], condition=Q(initiative__isnull=True),
                                    name="unique_monthly_gpu_unallocated"),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.gpu_hours} GPU-hours"

    @property
    def price_per_hour(self) -> Decimal | None:
        """Cost / GPU-hours, None without hours."""
        return (self.cost / self.gpu_hours).quantize(Decimal("0.01")) if self.gpu_hours else None


class LicencePoolActivity(models.Model):
    """Roll-up: seats of a licence pool in a month: purchased, assigned, active in the last 30 days."""

    licence_pool = models.ForeignKey(LicencePool, on_delete=models.CASCADE, related_name="activity")
    month = models.DateField()
    purchased = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)
    active_30d = models.PositiveIntegerField("active in the last 30 days", default=0)

    class Meta:
        ordering = ["licence_pool_id", "month"]
        verbose_name_plural = "licence pool activity"
        constraints = [models.UniqueConstraint(fields=["licence_pool", "month"], name="unique_pool_month")]

    def __str__(self) -> str:
        return f"{self.licence_pool} {self.month:%Y-%m}"


class InitiativeMonthlyTco(models.Model):
    """Roll-up: an initiative's total cost of ownership in a month by category, each part actual or estimated.

    Built from MonthlyCost, value reports (oversight hours) and the business case by
    portfolio.costs.services.tco.tco_recompute (portfolio.costs.calculations.month_tco says how), so lists can sort
    and filter on it and signals read it without recomputing."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="monthly_tco")
    month = models.DateField()
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    amount = money_field(default=Decimal("0"))
    actual = models.BooleanField(help_text="From cost records or value reports; otherwise estimated from the "
                                           "business case (or the declared cost).")

    class Meta:
        ordering = ["initiative_id", "month", "category"]
        verbose_name = "initiative monthly TCO"
        verbose_name_plural = "initiative monthly TCO"
        constraints = [
            models.UniqueConstraint(fields=["initiative", "month", "category"], name="unique_initiative_month_tco"),
        ]
        indexes = [models.Index(fields=["month"])]

    def __str__(self) -> str:
        return f"{self.initiative_id} {self.month:%Y-%m} {self.category} {self.amount}"


class CostForecast(models.Model):
    """The spend forecast as of a month (the latest with cost data), stored so pages never fit models on a view.

    Written only by portfolio.costs.services.forecast.forecast_compute (after ingestion runs, nightly, `forecast`);
    `payload` holds the total, unallocated and Jevons series, the backtest and the history the chart draws, in the
    shape the `forecast --json` command prints. Recomputing on the same data gives the same digest and writes nothing.
    """

    as_of = models.DateField(
        unique=True, help_text="The latest complete month it was fitted to; the forecast starts after it.")
    generated_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    months = models.PositiveSmallIntegerField(help_text="How many months ahead it forecasts.")
    price_decline_pct = models.DecimalField(
        max_digits=8, decimal_places=4,
        help_text="Yearly unit price decline of the Jevons scenario (policy forecast.price_decline_pct).",
    )
    backtest_mape = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True,
        help_text="Error of the total's backtest (a fraction: 0.04 is 4%); empty when the history is too short.",
    )
    digest = models.CharField(max_length=64, help_text="Hash of the result: same data, same digest.")
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-as_of"]

    def __str__(self) -> str:
        return f"Forecast as of {self.as_of:%Y-%m}"


class InitiativeForecast(models.Model):
    """One initiative's line of a stored forecast: its monthly figures, sums for the tables and its backtest error."""

    forecast = models.ForeignKey(CostForecast, on_delete=models.CASCADE, related_name="initiative_forecasts")
    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="cost_forecasts")
    method = models.CharField(max_length=20)
    amounts = models.JSONField(default=list, help_text="Point forecast per month, in the reporting currency.")
    lower = models.JSONField(default=list)
    upper = models.JSONField(default=list)
    jevons = models.JSONField(default=list, help_text="The Jevons scenario per month.")
    last_month = money_field("last complete month", default=Decimal("0"))
    next_quarter = money_field(default=Decimal("0"))
    next_year = money_field("next twelve months", default=Decimal("0"))
    next_year_jevons = money_field("next twelve months, Jevons", default=Decimal("0"))
    backtest_mape = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["forecast", "initiative"], name="unique_initiative_forecast"),
        ]
        indexes = [models.Index(fields=["initiative", "forecast"])]

    def __str__(self) -> str:
        return f"{self.forecast}: {self.initiative_id}"
