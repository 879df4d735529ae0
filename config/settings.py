"""Maklumat settings: one module, configured by environment variables.

Every value that differs between a laptop, CI and production comes from the
environment. Defaults are the embedded ones used by `make run` (SQLite, a
filesystem Celery broker, console email; scripts/run.sh files email under var/mail
instead), so the app starts with nothing else installed. Production sets DATABASE_URL, CELERY_BROKER_URL, CACHE_URL,
EMAIL_URL, SECRET_KEY and ALLOWED_HOSTS (see README.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MAKLUMAT_VAR_DIR") or BASE_DIR / "var")

env = environ.Env()

DEBUG: bool = env.bool("DEBUG", default=False)
TESTING: bool = env.bool("MAKLUMAT_TESTING", default=False)

SECRET_KEY: str = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

# Rotating SECRET_KEY: the previous keys still verify what they signed (docs/operations.md).
SECRET_KEY_FALLBACKS: list[str] = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if (DEBUG or TESTING) else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "accounts.admin_apps.MaklumatAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "core",
    "accounts",
    "agencies",
    "imports",
    "services",
    "charter",
    "delivery",
    "oversight",
    "notifications",
    "lifeevents",
    "cases",
    "feedback",
    "compliance",
    "staff",
    "public_site",
    "opendata",
    "demo",
]

MIDDLEWARE = [
    # First: counts and times every answer (core.metrics, served at /metrics).
    "core.metrics.MetricsMiddleware",
    # The request id (X-Request-ID) in every log line, response and task (core/logs.py).
    "core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policy headers too.
    "csp.middleware.CSPMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "core.middleware.ApiLanguageMiddleware",
    "core.middleware.ApiQueryGuardMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Which database a request reads: the replica for anonymous public reads (core/db_router.py).
    "core.db_router.ReplicaReadsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # A view limited with @ratelimit(block=True) answers RATELIMIT_VIEW's 429 page, not 403.
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'maklumat.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file under `make run`: WAL and an
    # immediate write lock turn "database is locked" into a short wait.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# A streaming read replica (PostgreSQL) for reads that may lag: anonymous public pages, open
# data and the API (core/db_router.py, docs/operations.md "Read replica").
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"]["CONN_MAX_AGE"]
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_REPLICA_CONNECT_TIMEOUT", default=2
    )
    # Test runs create no second database: the replica is the default one.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.db_router.ReplicaRouter"]
# An unreachable replica is left alone this long (per process) before it is tried again.
DATABASE_REPLICA_RETRY_SECONDS: float = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=5.0)
# A replica holding WAL it has not replayed for longer than this serves nobody.
DATABASE_REPLICA_MAX_LAG: float = env.float("DATABASE_REPLICA_MAX_LAG", default=30.0)
# How long a visitor's read floor (cookie maklumat_lsn) lasts after a POST or a primary read.
DATABASE_REPLICA_PIN_SECONDS: int = env.int("DATABASE_REPLICA_PIN_SECONDS", default=300)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache ----------------------------------------------------------------
# Web, worker and beat are separate processes: the default is a file cache they share
# (Django's in-memory cache is private to each process). Production sets Redis.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's, reusing its Redis client (core/cache.py).
    CACHES["default"]["BACKEND"] = "core.cache.RedisCache"
REDIS_URL: str = env.str("REDIS_URL", default="")
# Anonymous public pages served from that cache (core.page_cache). Off in the test suite, whose
# pinned query counts measure rendering; the page cache's own tests turn it on.
PUBLIC_PAGE_CACHE: bool = env.bool("MAKLUMAT_PAGE_CACHE", default=not TESTING)
# How long performance figures on a cached page may stand before the page is rebuilt.
PUBLIC_PAGE_FIGURES_SECONDS: int = env.int("MAKLUMAT_PAGE_FIGURES_SECONDS", default=300)
# The figures themselves are computed ahead by beat (delivery.report_figures, every 5 minutes,
# delivery/figures.py); a snapshot older than this is not shown (its page computes anew).
FIGURES_MAX_AGE_SECONDS: int = env.int("MAKLUMAT_FIGURES_MAX_AGE_SECONDS", default=3600)
# How long a web process trusts the page generations it read (0: ask the cache every time).
# A change shows at once in the process that made it, within this many seconds elsewhere.
PUBLIC_PAGE_LOCAL_SECONDS: float = env.float(
    "MAKLUMAT_PAGE_LOCAL_SECONDS", default=0.0 if TESTING else 1.0
)

# How long the results of a search are kept per normalised query (public_site.search_cache);
# a publish anywhere makes them stale at once.
SEARCH_RESULTS_SECONDS: int = env.int("MAKLUMAT_SEARCH_RESULTS_SECONDS", default=60)

# --- Auth -----------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "staff:dashboard"
LOGOUT_REDIRECT_URL = "public:home"
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    # FileSystemStorage that cleans up and explains a full or read-only disk (core/storage.py).
    "default": {"BACKEND": "core.storage.SafeFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Under runserver and in tests, serve app and project static files straight from their finders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 60 * 1024 * 1024

# --- Email ------------------------------------------------------------------
EMAIL_URL: str = env.str("EMAIL_URL", default="consolemail://")
if EMAIL_URL == "emlfile://":
    # scripts/run.sh's default: each message an .eml file under var/mail, one line printed.
    EMAIL_BACKEND = "core.mail.EmlFileBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
else:
    vars().update(env.email_url_config(EMAIL_URL))
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="Maklumat <noreply@maklumat.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's default is ./control: a runtime folder in the repository.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND: str | None = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_DEFAULT_QUEUE: str = env.str("CELERY_TASK_DEFAULT_QUEUE", default="maklumat")
CELERY_TASK_ALWAYS_EAGER: bool = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if TESTING:
    # pytest-xdist workers share one Redis: keep their caches and queues apart.
    _xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    CACHES["default"]["KEY_PREFIX"] = f"test-{_xdist_worker}"
    _location = str(CACHES["default"].get("LOCATION", ""))
    if _location.startswith("redis://") and _xdist_worker.startswith("gw"):
        # cache.clear() flushes a whole Redis database: give each worker its own.
        _base, _sep, _db = _location.rpartition("/")
        CACHES["default"]["LOCATION"] = f"{_base}/{int(_db or 0) + int(_xdist_worker[2:])}"
    if _xdist_worker.startswith("gw"):
        VAR_DIR = VAR_DIR / _xdist_worker
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        MEDIA_ROOT = str(VAR_DIR / "media")
    CELERY_TASK_DEFAULT_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-{_xdist_worker}"

# --- Celery queues ----------------------------------------------------------------
# Separate queues, so that a large import or report never delays a breach notice: each has
# its own workers in production (docker-compose.yml, docs/operations.md). A worker started
# without -Q (`make run`) consumes all of them. Tasks not routed here use the default queue.
# Off in the test suite, whose worker tests give each task the queue they consume
# (tests/ops/test_queues.py turns it on for its own workers).
CELERY_SEPARATE_QUEUES: bool = env.bool("MAKLUMAT_CELERY_QUEUES", default=not TESTING)
if CELERY_SEPARATE_QUEUES:
    from kombu import Queue

    CELERY_TASK_ROUTES = {
        "oversight.*": {"queue": "sweep"},
        "imports.sweep": {"queue": "sweep"},
        "notifications.*": {"queue": "notifications"},
        "accounts.login_lock_notice": {"queue": "notifications"},
        "*.import": {"queue": "imports"},
        "*.import_*": {"queue": "imports"},
        "*.report": {"queue": "reports"},
        "*.report_*": {"queue": "reports"},
        "opendata.*": {"queue": "reports"},
    }
    # Each bound with its own routing key: never two queues on one key (a copy in each).
    CELERY_TASK_QUEUES = [
        Queue(name, routing_key=name)
        for name in (CELERY_TASK_DEFAULT_QUEUE, "sweep", "notifications", "imports", "reports")
    ]


# --- Metrics (core/metrics.py) ----------------------------------------------------
# /metrics answers only a request with "Authorization: Bearer <METRICS_TOKEN>"; without a
# token set it is 404. Every process of a host writes its counters under one directory.
METRICS_TOKEN: str = env.str("METRICS_TOKEN", default="")
if TESTING and _xdist_worker.startswith("gw"):
    # Each pytest-xdist worker (and the processes its tests start) counts on its own.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(VAR_DIR / "metrics")
_metrics_dir = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics")))
try:
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    _metrics_writable = os.access(_metrics_dir, os.W_OK)
except OSError:
    _metrics_writable = False
if not _metrics_writable:
    # Never fail the app for its metrics: this process then counts only for itself.
    del os.environ["PROMETHEUS_MULTIPROC_DIR"]

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    # Machines use agency API keys (first: an anonymous write gets 401 with its scheme);
    # people use their session, behind the same two-factor rule as the staff area
    # (accounts.middleware.TwoFactorMiddleware).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agencies.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "core.api_parsers.SafeJSONParser",
        "core.api_parsers.SafeFormParser",
        "core.api_parsers.SafeMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "core.api.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        # Views that name a `throttle_scope` (core.api_conventions.ReadThrottleMixin).
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    # Per client address without credentials, per person or API key with them.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("MAKLUMAT_API_ANON_RATE", default="100000/min" if TESTING else "120/min"),
        "user": env.str("MAKLUMAT_API_USER_RATE", default="100000/min" if TESTING else "600/min"),
        # Public reads of /api/v1/, per address (anonymous) or per person or key.
        "read": env.str("MAKLUMAT_API_READ_RATE", default="100000/min" if TESTING else "300/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Maklumat API",
    "DESCRIPTION": "Registry of public-service standards and citizen charters.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from our own static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.problem_responses_hook",
    ],
}

# --- Security ---------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Every script, style, image and font comes from our own origin (axe-core, ReDoc and the
# admin's are vendored or packaged), and no page has inline code: templates/ is scanned for
# it by tests/core/test_template_csp.py. The one page that needs more is the API docs:
# ReDoc injects its styles at run time (see core.views.api_docs). A page that ever needs an
# inline script gets a nonce through csp_update({"script-src": [NONCE]}) on its view.
# Permissions-Policy and Cross-Origin-Resource-Policy: core.middleware.SecurityHeadersMiddleware.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": [reverse_lazy("csp-report")],
    }
}
if not (DEBUG or TESTING):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
RATELIMIT_ENABLE: bool = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "core.views.ratelimited"
# How many reverse proxies in front of the app append the address they received the
# request from to X-Forwarded-For (1 for one nginx or one load balancer). 0: the header is
# ignored and REMOTE_ADDR is the client. Too low and every client shares the proxy's
# address and rate limits; too high and a client can forge its address.
TRUSTED_PROXY_COUNT: int = env.int("MAKLUMAT_TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("MAKLUMAT_TRUSTED_PROXY_COUNT must be 0 or more.")
# django-ratelimit's key="ip" asks the same helper as everything else (core/client_ip.py).
RATELIMIT_IP_META_KEY = "core.client_ip.client_ip"
# Login throttling (accounts/throttle.py). Per account: after LOGIN_ACCOUNT_FAILURES failed
# passwords or codes the account is locked for LOGIN_ACCOUNT_LOCK_SECONDS, doubling with
# every further lock up to LOGIN_ACCOUNT_LOCK_MAX_SECONDS. Per client address: a much
# higher limit, so one person's typos never lock out an office behind one address but a
# password spray from one address is stopped.
LOGIN_ACCOUNT_FAILURES: int = env.int("MAKLUMAT_LOGIN_ACCOUNT_FAILURES", default=5)
LOGIN_ACCOUNT_LOCK_SECONDS: int = env.int("MAKLUMAT_LOGIN_ACCOUNT_LOCK_SECONDS", default=60)
LOGIN_ACCOUNT_LOCK_MAX_SECONDS: int = env.int(
    "MAKLUMAT_LOGIN_ACCOUNT_LOCK_MAX_SECONDS", default=3600
)
LOGIN_IP_FAILURE_RATE: str = env.str("MAKLUMAT_LOGIN_IP_FAILURE_RATE", default="100/15m")
if (
    LOGIN_ACCOUNT_FAILURES < 1
    or not 0 < LOGIN_ACCOUNT_LOCK_SECONDS <= LOGIN_ACCOUNT_LOCK_MAX_SECONDS
):
    raise ImproperlyConfigured(
        "MAKLUMAT_LOGIN_ACCOUNT_FAILURES must be 1 or more and 0 < "
        "MAKLUMAT_LOGIN_ACCOUNT_LOCK_SECONDS <= MAKLUMAT_LOGIN_ACCOUNT_LOCK_MAX_SECONDS."
    )
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", LOGIN_IP_FAILURE_RATE):
    raise ImproperlyConfigured("MAKLUMAT_LOGIN_IP_FAILURE_RATE must look like 100/15m.")
OTP_TOTP_ISSUER = "Maklumat"
SILENCED_SYSTEM_CHECKS: list[str] = []
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "FileBasedCache")):
    # The embedded default: django-ratelimit warns that a file cache counts without atomic
    # increments (a burst may slip a few requests past a limit), and locmem per process.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The review desk's covering indexes (INCLUDE) are PostgreSQL's; SQLite builds them
    # without the extra columns, which is all the embedded demo needs.
    SILENCED_SYSTEM_CHECKS += ["models.W040"]

# --- Logging ----------------------------------------------------------------
# json: one object a line with the request id and task (core/logs.py); plain for people.
LOG_FORMAT: str = env.str("LOG_FORMAT", default="plain" if (DEBUG or TESTING) else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Domain settings (documented in README.md) ------------------------------
MAKLUMAT = {
    # Default review interval of a published standard, in months (common practice: yearly).
    "REVIEW_INTERVAL_MONTHS": env.int("MAKLUMAT_REVIEW_INTERVAL_MONTHS", default=12),
    # Minimum number of deliveries before a rate is shown or judged.
    "MIN_SAMPLE": env.int("MAKLUMAT_MIN_SAMPLE", default=30),
    # Years of working-day calendar kept materialised, around the current year.
    "CALENDAR_YEARS_BACK": env.int("MAKLUMAT_CALENDAR_YEARS_BACK", default=3),
    "CALENDAR_YEARS_AHEAD": env.int("MAKLUMAT_CALENDAR_YEARS_AHEAD", default=3),
}
# Maps on location pages (Leaflet from our own static files): the tile server's URL template
# and its attribution. Empty MAKLUMAT_MAP_TILE_URL: no map, the address and coordinates only.
# The tile server's origin is added to img-src on the map pages only.
MAP_TILE_URL: str = env.str(
    "MAKLUMAT_MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"
)
MAP_TILE_ATTRIBUTION: str = env.str(
    "MAKLUMAT_MAP_TILE_ATTRIBUTION", default="© OpenStreetMap contributors"
)
MAP_TILE_ATTRIBUTION_URL: str = env.str(
    "MAKLUMAT_MAP_TILE_ATTRIBUTION_URL", default="https://www.openstreetmap.org/copyright"
)
# After a sweep writes new outbox rows, ask a worker to drain at once instead of waiting
# for beat's next minute. Off in the test suite (whose workers are per-test); a broker
# that is down only delays the send (see notifications.tasks.kick_drain).
NOTIFICATIONS_KICK_DRAIN: bool = env.bool("MAKLUMAT_NOTIFICATIONS_KICK_DRAIN", default=not TESTING)
# Webhook targets (notifications/webhook_targets.py). Plain http only under DEBUG and the
# test suite: production posts signed breach payloads over https only.
WEBHOOK_ALLOW_HTTP: bool = DEBUG or TESTING
# Let webhooks reach loopback, private and shared (100.64/10) addresses too: off by
# default, also in the test suite (the tests with a local receiver turn it on); only for
# a deployment whose agency systems sit inside its own network. Link-local (the cloud
# metadata service), multicast, reserved and unspecified addresses stay refused.
WEBHOOK_ALLOW_PRIVATE_TARGETS: bool = env.bool(
    "MAKLUMAT_WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False
)
# Largest delivery CSV upload and bulk-API request body accepted.
DELIVERY_IMPORT_MAX_BYTES = env.int("MAKLUMAT_DELIVERY_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
DELIVERY_API_MAX_BODY_BYTES = env.int(
    "MAKLUMAT_DELIVERY_API_MAX_BODY_BYTES", default=20 * 1024 * 1024
)
# Every tabular upload (standards, deliveries) is read by core.tabular within these limits.
IMPORT_MAX_CELL_CHARS = env.int("MAKLUMAT_IMPORT_MAX_CELL_CHARS", default=10_000)
IMPORT_MAX_ROWS = env.int("MAKLUMAT_IMPORT_MAX_ROWS", default=500_000)
IMPORT_MAX_COLUMNS = env.int("MAKLUMAT_IMPORT_MAX_COLUMNS", default=100)
# An .xlsx is a zip: refused, before it is opened, when its parts would take more than
# this once decompressed, or when one part expands more than the ratio (a zip bomb).
IMPORT_MAX_UNPACKED_BYTES = env.int("MAKLUMAT_IMPORT_MAX_UNPACKED_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO = env.int("MAKLUMAT_IMPORT_MAX_COMPRESSION_RATIO", default=100)
for _name in (
    "IMPORT_MAX_CELL_CHARS",
    "IMPORT_MAX_ROWS",
    "IMPORT_MAX_COLUMNS",
    "IMPORT_MAX_UNPACKED_BYTES",
    "IMPORT_MAX_COMPRESSION_RATIO",
):
    if vars()[_name] < 1:
        raise ImproperlyConfigured(f"MAKLUMAT_{_name} must be a positive whole number.")
