"""Settings come from the environment (12-factor).

With nothing set, Tollgate runs on an embedded default: SQLite, Celery tasks executed
in-process (eager), e-mail printed to the console. Production sets DATABASE_URL,
CELERY_BROKER_URL (or REDIS_URL), SECRET_KEY, ALLOWED_HOSTS, EMAIL_URL and SITE_URL.
"""

import re
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    # A production start without a key must not run on a public one. Development (DEBUG on) and the test suite get a
    # key that Django's own `check --deploy` flags as insecure; `make run` writes a random one to .env.
    if not (DEBUG or "pytest" in sys.modules):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment (or in .env) to a long random value, e.g. the output "
            "of: python -c 'import secrets; print(secrets.token_urlsafe(50))'. Use DEBUG=1 only for development.")
    SECRET_KEY = "django-insecure-development-key-" + "x" * 32
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "tollgate.admin_site.TollgateAdminConfig",  # django.contrib.admin, its login following PASSWORD_LOGIN
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # hashed API tokens; the model is portfolio.ApiToken (KNOX_TOKEN_MODEL)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_tables2",
    "django_select2",
    "rules.apps.AutodiscoverRulesConfig",
    "auditlog",
    "csp",
    "portfolio",
    "governance",
    "reviews",
    "tollgate.demo",
    # After portfolio: its axes_reset* commands, which put each unlock in the audit trail, answer to axes' names.
    "axes",
]

MIDDLEWARE = [
    # Before all: the request's frames in one roomy stack chunk (tollgate/call_stack.py: CPython 3.11's chunk edges).
    "tollgate.call_stack.RoomyStackMiddleware",
    # First and last: Prometheus' request counts and latencies (/metrics); then the request id of every log line.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "tollgate.request_id.RequestIdMiddleware",
    # Under /api/ a 404 no route answered is JSON naming the path, DEBUG on or off (tollgate/api_errors.py).
    "tollgate.api_errors.ApiErrorsAsJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Dates and times on pages in the signed-in person's own time zone (their account's setting).
    "tollgate.time_zones.PersonTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Every page requires login unless a view opts out explicitly (login page, health, metrics).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Answers a locked-out login attempt (django-axes) with the lockout page, 429.
    "axes.middleware.AxesMiddleware",
    # RateLimit-* headers on the API's answers (tollgate/throttling.py).
    "tollgate.throttling.RateLimitHeadersMiddleware",
    # SQLite's "database is locked" (a long import holds the write lock) answers 503 "busy, try again", not 500.
    "tollgate.database.DatabaseBusyMiddleware",
    # Inside every other (but the metrics): each API write in one transaction, rolled back when it answers 5xx.
    "tollgate.database.ApiWriteAtomicMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "tollgate.urls"
WSGI_APPLICATION = "tollgate.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tollgate.context_processors.navigation",
                "reviews.context_processors.notification_bell",
            ],
            # money, unit_price, score, percent, number...: how every page prints a number (tollgate/formatting.py).
            "builtins": ["tollgate.ui.format_filters"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# With persistent connections (CONN_MAX_AGE > 0), a connection the server dropped between two requests (a restart, a
# failover, an idle timeout) is checked before a request reuses it and replaced, rather than failing that request.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
# The embedded default (SQLite only, never PostgreSQL). Write-ahead logging: a writer appends to the -wal file beside
# the database, so requests that only read go on reading the last committed state while a long import holds the write
# lock (with SQLite's default rollback journal a large write locks readers out too, and every page answered 503). A
# transaction takes the write lock when it begins, so two requests writing at once queue (up to 20 s) rather than one
# failing with "database is locked" when a read lock cannot be upgraded.
SQLITE_OPTIONS = {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a login that is locked out before any password is hashed (tollgate/auth.py).
    "tollgate.auth.LoginThrottleBackend",
    "rules.permissions.ObjectPermissionBackend",
    # Username and password, unless PASSWORD_LOGIN is off; then single sign-on (OpenID Connect), when configured.
    "tollgate.auth.PasswordBackend",
    "tollgate.sso.SSOBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portfolio:initiative_list"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on (OpenID Connect, mozilla-django-oidc; README "Single sign-on"). On when OIDC_RP_CLIENT_ID is set.
# The provider's endpoints come from its discovery document at OIDC_OP_ISSUER, unless given one by one. Roles follow
# the provider's groups at every sign-in (OIDC_ROLE_GROUPS="group=role,..."); someone in none of the mapped groups gets
# OIDC_DEFAULT_ROLE, or is refused when it is empty. PASSWORD_LOGIN=0 switches local passwords off everywhere (the
# login page, the admin's, the API token endpoint).
PASSWORD_LOGIN = env.bool("PASSWORD_LOGIN", default=True)
# How long an e-mailed link to set a password (an invitation, "Forgot your password?") works; once used, never again.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_LINK_DAYS", default=3) * 86400
# API tokens (django-rest-knox: only a digest of each key is stored). A person names each token they create on their
# account page and picks its lifetime, up to API_TOKEN_MAX_DAYS; the token endpoint (POST /api/auth/token/ with a
# password) issues a fresh token that lasts API_TOKEN_PASSWORD_HOURS. At most API_TOKENS_PER_PERSON named tokens each.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_TOKEN_PASSWORD_HOURS = env.int("API_TOKEN_PASSWORD_HOURS", default=24)
API_TOKENS_PER_PERSON = env.int("API_TOKENS_PER_PERSON", default=10)
KNOX_TOKEN_MODEL = "portfolio.ApiToken"
# At most this many API requests per token (per person with a browser session), as N/second|minute|hour|day, so a
# runaway script slows down instead of slowing everyone down; "" switches the limit off. Counted in the cache
# (CACHE_URL: set it to a shared Redis with several web processes, or each process counts on its own).
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/minute").strip()
if API_RATE_LIMIT and not re.fullmatch(r"[1-9]\d*/(s|sec|second|m|min|minute|h|hour|d|day)", API_RATE_LIMIT):
    raise ImproperlyConfigured(f"API_RATE_LIMIT={API_RATE_LIMIT!r} is not a rate such as 600/minute (a number of "
                               "requests, then /second, /minute, /hour or /day), nor empty to switch it off.")
# knox's own migrations create its AuthToken table even when the model is swapped out; it would stay empty beside
# ours (and block a flush), so the app runs without them: a swapped model gets no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_PREFIX": "tg_",  # so secret scanners and people can tell a Tollgate key when they see one
    "TOKEN_TTL": timedelta(hours=API_TOKEN_PASSWORD_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
}
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_OP_END_SESSION_ENDPOINT = env("OIDC_OP_END_SESSION_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile")
OIDC_EMAIL_CLAIM = env("OIDC_EMAIL_CLAIM", default="email")
OIDC_GROUPS_CLAIM = env("OIDC_GROUPS_CLAIM", default="groups")
OIDC_ROLE_GROUPS: dict[str, str] = env.dict("OIDC_ROLE_GROUPS", default={})
OIDC_DEFAULT_ROLE = env("OIDC_DEFAULT_ROLE", default="")
_ROLE_NAMES = ("owner", "reviewer", "executive", "admin")  # tollgate.roles.Role; tests/tollgate/test_sso.py checks
_ROLE_SETTINGS = [*OIDC_ROLE_GROUPS.items(), *([("OIDC_DEFAULT_ROLE", OIDC_DEFAULT_ROLE)] if OIDC_DEFAULT_ROLE else [])]
for _group, _role in _ROLE_SETTINGS:
    if _role not in _ROLE_NAMES:
        raise ImproperlyConfigured(
            f"OIDC_ROLE_GROUPS / OIDC_DEFAULT_ROLE: {_role!r} (for {_group!r}) is not a role; use one of "
            f"{', '.join(_ROLE_NAMES)}, e.g. OIDC_ROLE_GROUPS=tollgate-admins=admin,tollgate-coe=reviewer")
OIDC_USE_PKCE = env.bool("OIDC_USE_PKCE", default=True)
OIDC_STORE_ID_TOKEN = True  # sent back to the provider at logout (id_token_hint)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes (the image: /app/staticfiles); WhiteNoise serves from here.
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "tollgate.staticfiles.PlotlyFinder",
]
STORAGES = {
    # Uploads (MEDIA_ROOT): FileSystemStorage that leaves no partial file when a write fails (a full disk).
    "default": {"BACKEND": "tollgate.storage.UploadStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND", default="django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# E-mail: the console (standard error) unless EMAIL_URL is set (e.g. smtp+tls://user:pass@mail.example.com:587).
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "tollgate.mail.EmailBackend"  # the console's, on standard error (tollgate/mail.py)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="tollgate@localhost")
# Where people reach Tollgate: links in e-mails are absolute (an e-mail has no page to be relative to).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Login throttling (django-axes) on every login path (the login page, the admin's, the API token endpoint): after
# LOGIN_FAILURE_LIMIT failures for one account, or from one address, that account or address is locked for
# LOGIN_COOLOFF_MINUTES; a success resets the count. Administrators unlock in the admin (Axes > Access attempts) or
# with `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`, each unlock audited (so is a removal of
# the login history: `axes_reset_logs`, `axes_reset_failure_logs` or the admin). The address is
# REMOTE_ADDR: behind a proxy, set LOGIN_CLIENT_IP_HEADER to the header the proxy sets (e.g. HTTP_X_REAL_IP) so one
# client is one address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "tollgate.auth.lockout_response"  # the page, or JSON for the API's token login
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "tollgate.auth.client_address"
AXES_USERNAME_CALLABLE = "tollgate.auth.lockout_username"  # one account whatever the letter case typed
LOGIN_CLIENT_IP_HEADER = env("LOGIN_CLIENT_IP_HEADER", default="REMOTE_ADDR")

# The cache holds the dashboard's figures, its rendered body and the version of the data they come from. One per
# process by default; in production point every web process and worker at one Redis database (not the broker's:
# clearing the cache must not drop queued tasks), so a change seen by one process refreshes all of them at once.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Celery: Redis in production; in-process (eager) when no broker is configured.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous API calls answer 401, not 403.
        "tollgate.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["tollgate.permissions.RolePermission"],
    # A list refuses (400, by name) a query parameter none of these reads and an ordering it does not sort by
    # (tollgate/api_query.py).
    "DEFAULT_FILTER_BACKENDS": [
        "tollgate.api_query.KnownParametersFilter",
        "django_filters.rest_framework.DjangoFilterBackend",
        "tollgate.ui.filtersets.ApiSearchFilter",
        "tollgate.api_query.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["tollgate.throttling.ApiRateThrottle"],
    # DRF's own, but a JSON body nested too deep is a 400 like any malformed JSON (tollgate/api_fields.py).
    "DEFAULT_PARSER_CLASSES": [
        "tollgate.api_fields.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # 50 rows a page; ?page_size= up to 500, a bad one refused (tollgate/pagination.py).
    "DEFAULT_PAGINATION_CLASS": "tollgate.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "tollgate.schema.TollgateAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # A service's Django ValidationError is a 400 with field errors wherever it is raised (tollgate.ui.errors).
    "EXCEPTION_HANDLER": "tollgate.ui.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tollgate API",
    # A record is described by its serializer's own docstring, never by the shared bases' (tollgate/api_fields.py).
    "GET_LIB_DOC_EXCLUDES": "tollgate.api_fields.schema_doc_excludes",
    "DESCRIPTION": (
        "The registry of AI initiatives: portfolio, governance and value reviews.\n\n"
        "Authenticate with `Authorization: Token <key>`: a named token created on your account page (`/accounts/`; "
        "read only if you wish, for up to a year), or one from `POST /api/auth/token/` with your username and "
        "password (it works for a day). A token reads and writes what its person may, no more.\n\n"
        "A write that cannot be honoured is refused, not ignored: a body field the record does not have is a 400 under "
        "its name, listing the fields it accepts; a read-only field is a 400 under its name (naming the action that "
        "changes it, if any) unless it has the value the record has, so a record read with GET may be sent back "
        "whole with one value changed. On a create a read-only field is accepted only empty (null, \"\", [] or {}). "
        "A list's query parameters likewise: one it does not read is a 400."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

DJANGO_TABLES2_TEMPLATE = "tables/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}

AUDITLOG_INCLUDE_ALL_MODELS = False

# The one currency every amount is reported in (ISO 4217): cost records in other currencies are converted to it with
# the currency rates, and pages print its symbol ("$") or, for a code without a known symbol, the code.
# Upper-cased (" usd " is USD); anything but three letters (empty, DOLLARS) stops the start, before a check could
# label every amount with it (portfolio.E001 then compares it with the database's currency).
_REPORTING_CURRENCY = env("REPORTING_CURRENCY", default="USD")
REPORTING_CURRENCY = _REPORTING_CURRENCY.strip().upper()
if not re.fullmatch(r"[A-Z]{3}", REPORTING_CURRENCY):
    raise ImproperlyConfigured(f"REPORTING_CURRENCY={_REPORTING_CURRENCY!r} is not an ISO 4217 currency code: set it "
                               "to three letters such as USD or EUR (unset, it is USD).")

# Largest cost export a person may upload to "Run now" (streamed to disk, refused past this size).
INGESTION_MAX_FILE_MB = env.int("INGESTION_MAX_FILE_MB", default=500)
# The folders a file source's configured `path` may read from (comma-separated). Set it in production: unset, an
# administrator may point a source at any file the server can read.
INGESTION_EXPORTS_DIRS = env.list("INGESTION_EXPORTS_DIRS", default=[])

# Sprawl detection: sentence embeddings of what each initiative does. The default runs all-MiniLM-L6-v2 offline
# (ONNX, shipped by PyPI packages); EMBEDDINGS_BACKEND=onnx-minilm+use adds the Universal Sentence Encoder beside it;
# EMBEDDINGS_URL points at a self-hosted OpenAI-compatible /v1/embeddings instead.
TOLLGATE_EMBEDDER = (
    {"backend": "http", "base_url": env("EMBEDDINGS_URL"), "model": env("EMBEDDINGS_MODEL", default=""),
     "api_key_env": "EMBEDDINGS_API_KEY"}
    if env("EMBEDDINGS_URL", default="")
    else {"backend": env("EMBEDDINGS_BACKEND", default="onnx-minilm"),
          "threads": env.int("EMBEDDINGS_THREADS", default=0) or None}
)

# Plain lines by default (`make run`); LOG_FORMAT=json: one JSON object a line (time, level, logger, message, the
# request's or Celery task's id -- the X-Request-ID response header -- and any extra), for a log collector.
LOG_FORMAT = env("LOG_FORMAT", default="") or "plain"
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusals_in_one_line": {"()": "tollgate.logging.RefusalsInOneLine"},
                "request_id": {"()": "tollgate.logging.RequestId"}},
    "formatters": {"json": {"()": "pythonjsonlogger.json.JsonFormatter", "timestamp": "time",
                            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
                            "rename_fields": {"levelname": "level", "name": "logger"}}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id", "refusals_in_one_line"],
                             **({"formatter": "json"} if LOG_FORMAT == "json" else {})}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Without this, Django's own default handler of "django" prints each refusal a second time, traceback and all;
        # its records go to the root's console handler, whose filter keeps a refusal to one line.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every layout step of a board pack at INFO, and fonttools each subset table.
        "weasyprint": {"level": "ERROR"},  # and warns of each SVG attribute it does not use
        "fontTools": {"level": "WARNING"},
        "matplotlib": {"level": "WARNING"},
    },
}
# The Celery worker and beat keep these handlers in JSON (their own plain format otherwise).
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"

# Prometheus scrapes /metrics from these addresses (as LOGIN_CLIENT_IP_HEADER gives the client's; networks allowed,
# e.g. 10.0.0.0/8), or with "Authorization: Bearer <METRICS_TOKEN>"; every other caller gets a 403.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# HTTPS. Behind a TLS-terminating proxy, Django learns a request was HTTPS only from a header the proxy sets, and only
# if the operator says which (SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO): assumed, any client could claim it.
# The README's production block turns on the redirect, HSTS and secure cookies; `make run` serves plain HTTP locally.
if env("SECURE_PROXY_SSL_HEADER", default=""):
    SECURE_PROXY_SSL_HEADER = (env("SECURE_PROXY_SSL_HEADER"), "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health/"]  # load balancers probe over plain HTTP inside the network
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts only from the app's own static files, never inline (charts are drawn
# by static/js/charts.js from json_script data; Swagger UI's start script is served as a file). Styles allow inline
# because Plotly styles the SVG it draws; nothing is loaded from another origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Single sign-on's logout also ends the identity provider's session: the logout form's answer redirects there, which
# form-action must allow (Chromium applies it to the redirects that follow a form), so the provider's origin is added.
if OIDC_RP_CLIENT_ID:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] += sorted({
        f"{parts.scheme}://{parts.netloc}" for parts in map(urlsplit, [OIDC_OP_ISSUER, OIDC_OP_END_SESSION_ENDPOINT])
        if parts.scheme in ("http", "https") and parts.netloc})
# Permissions-Policy (django-permissions-policy): the app uses no device or browser feature.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: [] for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone",
                                "payment", "usb", "browsing-topics")
}
