"""The one settings module. Every value comes from the environment through typed
helpers (``blend.web.env``); a bad value stops start-up with ImproperlyConfigured.
Production variables are documented in docs/deployment.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from blend.web import env

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(env.env_str("BLEND_BASE_DIR", str(Path.cwd())))
VAR_DIR = BASE_DIR / "var"
# `make demo` writes local.env in var/ (debug, the demo seed, the public URL with its port), so
# that every `blend` command typed afterwards works with nothing exported. The environment
# wins over it; `check --deploy` refuses it (blend.web.checks). BLEND_LOCAL_SETTINGS="" reads none.
LOCAL_SETTINGS_FILE = env.env_str("BLEND_LOCAL_SETTINGS", str(VAR_DIR / "local.env"))
try:
    LOCAL_SETTINGS_APPLIED = (
        env.load_local_settings(Path(LOCAL_SETTINGS_FILE)) if LOCAL_SETTINGS_FILE else []
    )
except env.EnvError as error:
    raise ImproperlyConfigured(str(error)) from error
# Trial folders registered with `blend trial add` are copied here (docs/trials.md).
BLEND_TRIALS_DIR = Path(env.env_str("BLEND_TRIALS_DIR", str(VAR_DIR / "trials")))
# Large web uploads wait here for the background import (exports.jobs; docs/exports.md).
IMPORT_UPLOAD_DIR = Path(env.env_str("BLEND_IMPORT_UPLOAD_DIR", str(VAR_DIR / "imports")))

try:
    DEBUG = env.env_bool("BLEND_DEBUG", False)
    SECRET_KEY = env.env_secret("BLEND_SECRET_KEY") or (
        "insecure-development-key-do-not-use-in-production" if DEBUG else None
    )
    if SECRET_KEY is None:
        raise env.EnvError(
            "BLEND_SECRET_KEY: expected a secret (or BLEND_SECRET_KEY_FILE), got nothing. "
            "On a developer's machine, run `make demo` (it writes local.env in var/) or set "
            "BLEND_DEBUG=1; in production see docs/deployment.md"
        )
    ALLOWED_HOSTS = env.env_list("BLEND_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
    CSRF_TRUSTED_ORIGINS = env.env_list("BLEND_CSRF_TRUSTED_ORIGINS", [])
    DATABASE_URL = env.env_secret("BLEND_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'blend.sqlite3'}"
    SESSION_COOKIE_AGE = env.env_int("BLEND_SESSION_SECONDS", 30 * 60, minimum=60)
    AXES_FAILURE_LIMIT = env.env_int("BLEND_LOGIN_FAILURE_LIMIT", 5, minimum=1)
    AXES_COOLOFF_MINUTES = env.env_int("BLEND_LOCKOUT_MINUTES", 30, minimum=1)
    SECURE = env.env_bool("BLEND_SECURE", not DEBUG)
    EMAIL_URL_HOST = env.env_str("BLEND_EMAIL_HOST", "")
    EMAIL_PORT = env.env_int("BLEND_EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env.env_str("BLEND_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = env.env_secret("BLEND_EMAIL_PASSWORD", "") or ""
    EMAIL_USE_TLS = env.env_bool("BLEND_EMAIL_TLS", True)
    DEFAULT_FROM_EMAIL = env.env_str("BLEND_FROM_EMAIL", "present@example.org")
    SMS_BACKEND = env.env_str("BLEND_SMS_BACKEND", "blend.apps.outbox.backends.ConsoleSMSBackend")
    RANDOMIZATION_SEED = env.env_secret("BLEND_RANDOMIZATION_SEED")
    # Each further trial has its own secret seed: BLEND_RANDOMIZATION_SEED_<CODE> (or
    # _<CODE>_FILE); the one above is the default trial's (BLEND's).
    RANDOMIZATION_SEEDS = env.trial_secrets("BLEND_RANDOMIZATION_SEED")
    # The key of each trial's allocation chain (a MAC per log record), held like the seed
    # outside the database: BLEND_CHAIN_KEY for the default trial, BLEND_CHAIN_KEY_<CODE>
    # (or _FILE) for the others. Each allocation's chain head is appended to
    # <BLEND_CHAIN_ANCHOR_DIR>/<CODE>.log ("" turns the anchor file off), and sent as a
    # receipt to BLEND_CHAIN_RECEIPT_EMAIL (the trial office) when it is set.
    CHAIN_KEY = env.env_secret("BLEND_CHAIN_KEY")
    CHAIN_KEYS = env.trial_secrets("BLEND_CHAIN_KEY")
    # The secret of the pseudonymised registry-linkage key (docs/interoperability.md §3),
    # shared with the trusted third party only: BLEND_LINKAGE_KEY (or _FILE).
    LINKAGE_KEY = env.env_secret("BLEND_LINKAGE_KEY")
    CHAIN_ANCHOR_DIR = env.env_str("BLEND_CHAIN_ANCHOR_DIR", str(VAR_DIR / "anchors"))
    CHAIN_RECEIPT_EMAIL = env.env_str("BLEND_CHAIN_RECEIPT_EMAIL", "")
    PUBLIC_BASE_URL = env.env_str("BLEND_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    API_RATE_LIMIT_PER_MINUTE = env.env_int("BLEND_API_RATE_PER_MINUTE", 120, minimum=1)
    EMAIL_TIMEOUT = env.env_int("BLEND_EMAIL_TIMEOUT_SECONDS", 10, minimum=1)
    TASK_BACKEND = env.env_str("BLEND_TASK_BACKEND", "django_tasks_db.DatabaseBackend")
except env.EnvError as error:
    raise ImproperlyConfigured(str(error)) from error

try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except ValueError as error:
    raise ImproperlyConfigured(f"BLEND_DATABASE_URL: {error}; got {DATABASE_URL!r}") from error
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers work while one writer commits; the timeout waits for the lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

BLEND_APPS = [
    "blend.apps.accounts",
    "blend.apps.audit",
    "blend.apps.trials",
    "blend.apps.registry",
    "blend.apps.overview",  # before the rest so the menu starts with Participants
    "blend.apps.consent",
    "blend.apps.outbox",
    "blend.apps.screening",
    "blend.apps.prescreening",  # next to screening in the menu; sits above allocation (LAYERS)
    "blend.apps.allocation",
    "blend.apps.offers",
    "blend.apps.treatment",
    "blend.apps.followup",
    "blend.apps.questionnaires",
    "blend.apps.safety",
    "blend.apps.disclosure",
    "blend.apps.datamanagement",
    "blend.apps.linkage",
    "blend.apps.exports",
    "blend.apps.fhir",  # read-only FHIR R4 (/api/fhir/...); sits above exports (LAYERS)
    "blend.apps.api",
    "blend.apps.demo",
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "ninja",  # serves Swagger UI for /api/docs from its own static files, not from a CDN
    # Django's tasks framework (the django-tasks backport until Django 6) with its database
    # backend: the outbox retries a failed delivery in the background (`blend db-worker`).
    "django_tasks",
    "django_tasks_db",
    *BLEND_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (blend.web.csp)
    "blend.apps.api.middleware.BodyLimit",  # an oversized API body: 413 in the API's JSON
    "blend.web.middleware.RejectNulCharacters",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "blend.web.middleware.NoStore",  # below WhiteNoise: every page no-store, static files cached
    "django.contrib.sessions.middleware.SessionMiddleware",
    "blend.apps.api.sessions.IdleSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "blend.web.middleware.ExplainRefusedWrites",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    "blend.apps.api.throttle.LoginThrottleMiddleware",
]

ROOT_URLCONF = "blend.web.urls"
WSGI_APPLICATION = "blend.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blend.apps.accounts.context.role",
                "blend.apps.trials.context.trial_switcher",
            ],
            # Filters every app's form templates use (the project's, not one app's).
            "libraries": {"blend_forms": "blend.web.templatetags.blend_forms"},
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Django's common passwords and 30,000 more from breaches, shipped as data
    # (src/blend/apps/accounts/data/breached-passwords.txt; docs/security.md section 6).
    {"NAME": "blend.apps.accounts.passwords.BreachedPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
AXES_LOCKOUT_PARAMETERS = ["username"]
# Lock the account, not the address: a hospital's staff share one NAT address, and an
# IP lockout would shut out the whole ward after one colleague's typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
from datetime import timedelta  # noqa: E402

AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)

# --- Cache, sessions, throttles and database connections (docs/deployment.md "Cache,
# sessions and throttles"; docs/security.md sections 7 and 13) ---------------------------
# One cache shared by every worker: Redis when BLEND_CACHE_URL is set, else a table in the
# database (created by `migrate`). The API rate limit and the per-address throttles count in
# it, so a limit holds across gunicorn workers. The database cache's incr() is atomic
# (blend.apps.api.cache), Django's own is a read-then-write.
try:
    CACHE_URL = env.env_secret("BLEND_CACHE_URL", "") or ""
    API_TOKEN_DAYS = env.env_int("BLEND_API_TOKEN_DAYS", 90, minimum=1)
    API_TOKEN_IDLE_DAYS = env.env_int("BLEND_API_TOKEN_IDLE_DAYS", 30, minimum=1)
    IP_FAILURE_LIMIT = env.env_int("BLEND_IP_FAILURE_LIMIT", 30, minimum=1)
    IP_FAILURE_MINUTES = env.env_int("BLEND_IP_FAILURE_MINUTES", 15, minimum=1)
    PROXY_COUNT = env.env_int("BLEND_PROXY_COUNT", 0, minimum=0)
except env.EnvError as error:
    raise ImproperlyConfigured(str(error)) from error
CACHES: dict[str, dict[str, Any]]
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            "BLEND_CACHE_URL: expected a Redis URL (redis://, rediss:// or unix://), "
            f"got {CACHE_URL.split('://')[0]!r}"
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "blend",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "blend.apps.api.cache.DatabaseCache",
            "LOCATION": "blend_cache",
            # Past MAX_ENTRIES a write culls expired rows first (live counters only beyond
            # 10,000 tokens and addresses active in one minute); every add counts the rows.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
# The session is saved only when it changes; blend.apps.api.sessions.IdleSessionMiddleware
# re-saves it at most once a SESSION_TOUCH_SECONDS, which moves its expiry on, so that
# SESSION_COOKIE_AGE stays an idle timeout without a write per page view.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
# A connection kept between requests (CONN_MAX_AGE) is checked before it is reused, so a
# database restart costs a reconnect instead of one 500 per worker.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = (DATABASES["default"].get("CONN_MAX_AGE") or 0) > 0
# The address the throttles (and django-axes) count by: REMOTE_ADDR, or the address the
# nearest of BLEND_PROXY_COUNT trusted reverse proxies put in X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "blend.apps.api.throttle.axes_client_ip"
# --- end of cache, sessions, throttles and database connections -----------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Nederlands"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
WHITENOISE_AUTOREFRESH = DEBUG  # no collectstatic needed in development
STATICFILES_DIRS = [PACKAGE_DIR / "web" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

if EMAIL_URL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = EMAIL_URL_HOST
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Background tasks (docs/deployment.md): the database backend keeps each task in a table
# that `blend db-worker` works through; a failed SAE notification is retried from there.
TASKS = {"default": {"BACKEND": TASK_BACKEND, "QUEUES": ["default"]}}

SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4; blend.web.csp holds the policy and its reasons).
# BLEND_CSP_EXTRA adds a hospital's own sources; BLEND_CSP_REPORT_URI receives violation
# reports (docs/deployment.md, "Content-Security-Policy").
from blend.web import csp as _csp  # noqa: E402

try:
    CONTENT_SECURITY_POLICY = _csp.policy(
        extra=env.env_str("BLEND_CSP_EXTRA", ""),
        report_uri=env.env_str("BLEND_CSP_REPORT_URI", ""),
    )
except _csp.PolicyError as error:
    raise ImproperlyConfigured(str(error)) from error

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

AXES_LOCKOUT_URL = "/accounts/locked/"

from blend.web import checks as _checks  # noqa: E402,F401  (registers the deploy checks)
