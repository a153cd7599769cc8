"""hcserver settings: one module, laptop defaults, production by environment.

Every variable read here is documented in docs/configuration.md.
"""

import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Local state of the embedded default (SQLite file, generated secret key).
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SQLITE_URL = f"sqlite:///{DATA_DIR / 'hc.sqlite3'}"
DATABASE_URL = env.str("DATABASE_URL", default="")
EMBEDDED = not DATABASE_URL


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not EMBEDDED and not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. hcserver refuses to start with a database "
            "configured by DATABASE_URL and no SECRET_KEY: set SECRET_KEY to a long "
            "random string, e.g. from: python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'."
        )
    # Embedded default: generate once, keep it beside the SQLite file.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

SITE_ROOT = env.str("SITE_ROOT", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="hcserver")
PING_ENDPOINT = env.str("PING_ENDPOINT", default=f"{SITE_ROOT}/ping/")
PING_EMAIL_DOMAIN = env.str("PING_EMAIL_DOMAIN", default="localhost")


def _ping_body_limit() -> int | None:
    """Bytes of a ping body kept (the rest is cut); 0 or "none" = unlimited."""
    value = env.str("PING_BODY_LIMIT", default="100000").strip().lower()
    if value in ("", "0", "none"):
        return None
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise ImproperlyConfigured(
            f"PING_BODY_LIMIT={value!r}: expected a number of bytes, or 0 or 'none' "
            "for no limit."
        )
    return limit


PING_BODY_LIMIT = _ping_body_limit()
PING_LOG_LIMIT = env.int("PING_LOG_LIMIT", default=100)
# On PostgreSQL, pings that arrive together are recorded in one transaction
# (checks/group_commit.py); off = one transaction per ping.
PING_GROUP_COMMIT = env.bool("PING_GROUP_COMMIT", default=True)
CHECK_LIMIT = env.int("CHECK_LIMIT", default=10000)
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
MASTER_BADGE_LABEL = env.str("MASTER_BADGE_LABEL", default=SITE_NAME)

_site = urlsplit(SITE_ROOT)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[_site.hostname or "127.0.0.1", "localhost", "127.0.0.1"]
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}"]
)
# Take the client address and scheme of pings from X-Forwarded-For/-Proto: only
# behind a reverse proxy that sets them, or clients can spoof what the log shows.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "checks",
    "integrations",
    "integrations.aws",
]

MIDDLEWARE = [
    "hcserver.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Dashboard pages: Content-Security-Policy (scripts from /static/ only).
    "checks.dashboard.middleware.SecurityHeadersMiddleware",
    # Dashboard times in the signed-in user's time zone (account settings).
    "checks.dashboard.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "hcserver.urls"
WSGI_APPLICATION = "hcserver.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db_url_config(DATABASE_URL or SQLITE_URL)}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# A reused connection is checked with `SELECT 1` before each request: one more round
# trip per ping, in exchange for no error after a database restart or failover.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool(
    "DB_CONN_HEALTH_CHECKS", default=True
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL lets the web server and the alert loop read while one of them writes;
    # IMMEDIATE makes a ping's transaction take the write lock up front.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when configured; otherwise tasks run in-process (the laptop). Eager
# tasks still open the (in-memory) broker; naming its host keeps kombu from warning.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request (e.g. ping pruning after commit) must not hang when Redis
# is down: connect within 2 s, retry twice quickly, then raise to the caller, which
# logs it (the work is recorded in the database and found again later).
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}

# Alerting (checks/alerts.py, docs/alerts.md). Durations in seconds.
# How often beat (or the embedded loop) scans for due checks and new flips.
ALERT_SCAN_INTERVAL = env.float("ALERT_SCAN_INTERVAL", default=2.0)
# How often notifications lost by the broker or stuck in "sending" are re-queued.
ALERT_REQUEUE_INTERVAL = env.float("ALERT_REQUEUE_INTERVAL", default=10.0)
# A queued notification no worker claimed within this is queued again.
ALERT_REQUEUE_AFTER = env.float("ALERT_REQUEUE_AFTER", default=60.0)
# A notification "sending" for longer than this is presumed lost with its worker.
ALERT_SENDING_TIMEOUT = env.float("ALERT_SENDING_TIMEOUT", default=300.0)
# Failed deliveries are retried with backoff (1 min doubling to 1 h) until this.
ALERT_RETRY_HORIZON = env.float("ALERT_RETRY_HORIZON", default=6 * 3600.0)
# A gap this long between scans (or no scan on record yet) is an outage...
ALERT_OUTAGE_AFTER = env.float("ALERT_OUTAGE_AFTER", default=60.0)
# ...and deadlines that fell inside it are pushed this far past the recovery.
ALERT_OUTAGE_GRACE = env.float("ALERT_OUTAGE_GRACE", default=300.0)
# Rows handled per scan transaction (keeps row locks short).
ALERT_BATCH_SIZE = env.int("ALERT_BATCH_SIZE", default=500)
# At most this many of one channel's notifications are delivered by one task.
ALERT_DELIVERY_BATCH = env.int("ALERT_DELIVERY_BATCH", default=50)
# Each periodic task expires after its period: a backlog never piles up scans.
# Without Redis, checks.alerts.run_loop runs these same entries in-process.
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": every, "options": {"expires": every}}
    for name, task, every in [
        ("scan", "checks.scan", ALERT_SCAN_INTERVAL),
        ("requeue", "checks.requeue_notifications", ALERT_REQUEUE_INTERVAL),
        ("reminders", "checks.send_reminders", 60.0),
        ("reports", "checks.send_reports", 300.0),
    ]
}
# A worker started without -Q consumes all three; see docs/alerts.md for splitting.
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {
    "celery": {},
    "alerts": {},
    "deliver": {},
}
CELERY_TASK_ROUTES = {
    "checks.deliver_notifications": {"queue": "deliver"},
    "checks.deliver_notification": {"queue": "deliver"},
    "checks.scan": {"queue": "alerts"},
    "checks.requeue_notifications": {"queue": "alerts"},
    "checks.send_reminders": {"queue": "alerts"},
    "checks.send_reports": {"queue": "alerts"},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: SMTP when EMAIL_HOST is set, else messages are written to var/mail/.
EMAIL_HOST = env.str("EMAIL_HOST", default="")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=bool(EMAIL_HOST))
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <hc@localhost>"
)
# A new email channel's address other than its creator's own must confirm by link.
EMAIL_USE_VERIFICATION = env.bool("EMAIL_USE_VERIFICATION", default=True)
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")

# Secure defaults; cookies are Secure when the site is served over https.
_https = _site.scheme == "https"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

# --- Operations (deploy): log format, request log, retention -----------------------
# "plain" for people, "json" (one object per line) for log collectors.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured('LOG_FORMAT must be "plain" or "json".')
# One line per request (method, path, status, duration); off: pings are the bulk.
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=False)
if LOG_REQUESTS:
    MIDDLEWARE.insert(1, "hcserver.logs.RequestLogMiddleware")
# Flips and finished notifications older than this are deleted by the periodic prune.
FLIP_RETENTION_DAYS = env.int("FLIP_RETENTION_DAYS", default=90)
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=90)
# The prune (and the per-check log limit sweep) runs hourly from beat.
CELERY_BEAT_SCHEDULE["prune"] = {
    "task": "checks.prune_history",
    "schedule": 3600.0,
    "options": {"expires": 3600.0},
}
# Celery workers log through LOGGING below instead of their own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Management API (checks/api): requests per API key per minute, 0 = unlimited.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=0)
SPECTACULAR_SETTINGS = {
    "TITLE": f"{SITE_NAME} Management API",
    "DESCRIPTION": "Healthchecks-compatible Management API (v1, v2, v3). "
    "Authenticate with the `X-Api-Key` header.",
    "VERSION": "3",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["checks.api.schema.only_api_paths"],
    "COMPONENT_SPLIT_REQUEST": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "hcserver.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Alert channels (integrations/): outbound HTTP guard, timeouts, per-kind servers.
# Documented in docs/channels.md and docs/configuration.md.
# Outbound guard: refuse loopback/private/link-local/... targets unless allowed here.
ALLOW_PRIVATE_TARGETS = env.bool("ALLOW_PRIVATE_TARGETS", default=False)
ALLOWED_TARGET_NETWORKS = env.list("ALLOWED_TARGET_NETWORKS", default=[])
OUTBOUND_CONNECT_TIMEOUT = env.float("OUTBOUND_CONNECT_TIMEOUT", default=5.0)
OUTBOUND_READ_TIMEOUT = env.float("OUTBOUND_READ_TIMEOUT", default=15.0)
OUTBOUND_MAX_REDIRECTS = env.int("OUTBOUND_MAX_REDIRECTS", default=3)
OUTBOUND_MAX_RESPONSE_BYTES = env.int("OUTBOUND_MAX_RESPONSE_BYTES", default=65536)
# CA certificates (PEM file) for https targets; empty = the bundled public CAs.
OUTBOUND_CA_BUNDLE = env.str("OUTBOUND_CA_BUNDLE", default="")
# Shell commands run on the worker host: off unless the operator turns them on.
SHELL_ENABLED = env.bool("SHELL_ENABLED", default=False)
SHELL_TIMEOUT = env.float("SHELL_TIMEOUT", default=30.0)
# Fixed-host services: base URLs are settings so a test (or a proxy) can stand in.
TELEGRAM_API_URL = env.str("TELEGRAM_API_URL", default="https://api.telegram.org")
TELEGRAM_TOKEN = env.str("TELEGRAM_TOKEN", default="")
PAGERDUTY_API_URL = env.str("PAGERDUTY_API_URL", default="https://events.pagerduty.com")
OPSGENIE_API_URL_US = env.str("OPSGENIE_API_URL_US", default="https://api.opsgenie.com")
OPSGENIE_API_URL_EU = env.str(
    "OPSGENIE_API_URL_EU", default="https://api.eu.opsgenie.com"
)
PUSHOVER_API_URL = env.str("PUSHOVER_API_URL", default="https://api.pushover.net")
PUSHOVER_API_TOKEN = env.str("PUSHOVER_API_TOKEN", default="")
PUSHOVER_EMERGENCY_RETRY_DELAY = env.int("PUSHOVER_EMERGENCY_RETRY_DELAY", default=300)
PUSHOVER_EMERGENCY_EXPIRATION = env.int("PUSHOVER_EMERGENCY_EXPIRATION", default=86400)
MATRIX_HOMESERVER = env.str("MATRIX_HOMESERVER", default="")
MATRIX_ACCESS_TOKEN = env.str("MATRIX_ACCESS_TOKEN", default="")
NTFY_DEFAULT_URL = env.str("NTFY_DEFAULT_URL", default="https://ntfy.sh")
# --- end of alert channels

# AWS autoscaling integration (docs/aws.md). An endpoint URL points boto3 at an
# emulator (moto) or a VPC endpoint; empty = AWS's public endpoints.
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
# Seconds between queue polls and reconciles (Celery beat).
AWS_POLL_INTERVAL = env.int("AWS_POLL_INTERVAL", default=30)
AWS_RECONCILE_INTERVAL = env.int("AWS_RECONCILE_INTERVAL", default=600)
# A record younger than this is not retired for being missing from AWS's lists:
# EC2's API is eventually consistent right after a launch.
AWS_RECONCILE_MIN_AGE = env.int("AWS_RECONCILE_MIN_AGE", default=300)
# SNS signing certificates must come from a host matching this (https, no port).
AWS_SNS_CERT_HOST_PATTERN = env.str(
    "AWS_SNS_CERT_HOST_PATTERN",
    default=r"^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$",
)
# Oldest SNS message accepted (seconds): SNS itself stops retrying after an hour.
AWS_SNS_MAX_AGE = env.int("AWS_SNS_MAX_AGE", default=3600)
# Boto's debug logs print signed requests and AssumeRole answers: keep them quiet.
LOGGING["loggers"] = {
    name: {"level": "WARNING"}
    for name in ("boto3", "botocore", "urllib3", "s3transfer")
}
