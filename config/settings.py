"""Settings, all read from the environment (django-environ; STYLE.md 9).

Embedded default (nothing set): SQLite in ``var/``, a filesystem Celery broker, local-memory
cache, DEBUG on. Production: set DATABASE_URL (mysql://…), REDIS_URL, SECRET_KEY, DEBUG=false,
ALLOWED_HOSTS; ``manage.py check --deploy`` is then clean.
"""

from datetime import timedelta
from pathlib import Path

import environ

from config.schedule import BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="django-insecure-embedded-default-key-change-me-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The benchmark's ceiling views under /_bench/ (manage.py bench turns this on for its gunicorn).
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm",
    "contacts",
    "leads",
    "tasks",
    "campaigns",
    "calling",
    "dashboard",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves static files (vendored htmx, CSS, Swagger/ReDoc sidecar) under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "crm.context_processors.notifications",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'crm.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # utf8mb4 so names and notes in any script (and emoji) survive; strict mode so bad data errors.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes an import. IMMEDIATE transactions
    # take the write lock when they begin, so a second writer waits (timeout) instead of failing
    # at once with "database is locked" when its read snapshot cannot be upgraded to a write.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "crm.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["crm.auth.UsernameOrEmailBackend"]
LOGIN_URL = "crm:login"
LOGIN_REDIRECT_URL = "dashboard:dashboard"  # also where "/" leads (crm:home)
LOGOUT_REDIRECT_URL = "crm:login"

# --- Cache, Celery ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "crm.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"leads.import_*": {"queue": "imports"}, "leads.resume_*": {"queue": "imports"},
                      "calling.*": {"queue": "calling"}, "campaigns.*": {"queue": "meta"}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 60
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- I18N, time ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="US")
# Lead search: a word matching more leads than this is filtered in the ordered scan, not by ids.
LEAD_SEARCH_ID_CAP = env.int("LEAD_SEARCH_ID_CAP", default=1_000)
# Several search words each too common for ids may still be rare together: each word's ids are
# read up to this many and intersected (leads.models.LeadQuerySet.search; on MariaDB one
# statement that stops once it has examined 3x this many rows per word, reading two words pair of
# branches by pair where their scans hold more than half this many rows: leads.models._rare_pairs).
LEAD_SEARCH_INTERSECT_CAP = env.int("LEAD_SEARCH_INTERSECT_CAP", default=50_000)
# A page of a search word too common for ids but matching at most this many index rows (a lead
# counts once per searched column it matches; by name: reading at most this many) may be read
# from the word's branch indexes, on MariaDB, where that costs less than walking the list's index to the page
# (leads.filters.LeadFilterSet._capped_search_rows; ~0.7 µs per row at 1M leads, ~70 ms at the cap).
LEAD_SEARCH_COVER_CAP = env.int("LEAD_SEARCH_COVER_CAP", default=100_000)
# By name, such a page reads each first name under the word from the first name's index in name
# order (a dive and a walk to the page each), up to this many first names; with more, the
# walk or the branches read whole (leads.models.name_ordered_search_rows).
LEAD_SEARCH_FIRST_NAMES_MOST = env.int("LEAD_SEARCH_FIRST_NAMES_MOST", default=24)
# Above this many matches a filtered list reports "at least N" instead of counting every row.
LEAD_COUNT_CAP = env.int("LEAD_COUNT_CAP", default=10_000)
# From this offset on, a page of the lead list in its default order is found through the per-day
# rollup (one small GROUP BY) instead of an OFFSET that walks every index entry before it.
LEAD_DAY_SEEK_OFFSET = env.int("LEAD_DAY_SEEK_OFFSET", default=10_000)
# A deep page in another order leaves a mark where it began, one per this many positions, and a
# later page reads on from the nearest mark before it (leads.filters.PageMarks; with the list
# cache on). 0: off.
LEAD_PAGE_MARK_STEP = env.int("LEAD_PAGE_MARK_STEP", default=500)
# CSV imports on MySQL/MariaDB write each batch with LOAD DATA LOCAL INFILE (twice the rows per
# second of INSERT) when the server allows it (MariaDB does by default; MySQL 8 needs
# --local-infile=1). Only the import's own writer connection turns it on. False: INSERT only.
LEAD_IMPORT_LOAD_DATA = env.bool("LEAD_IMPORT_LOAD_DATA", default=True)
# The same two list settings for contacts (contacts/models.py search, contacts/filters.py pages).
CONTACT_SEARCH_ID_CAP = env.int("CONTACT_SEARCH_ID_CAP", default=1_000)
CONTACT_DAY_SEEK_OFFSET = env.int("CONTACT_DAY_SEEK_OFFSET", default=10_000)
# Seconds a lead-list API response stays cached (leads/listcache.py; every lead write invalidates
# it), and with it what pages share (ListCache.memo): a search's resolved words and matching ids
# in list order, a deep page's rollup sums. On only with a shared cache (Redis): per-process
# caches could not see other processes' writes.
LEAD_LIST_CACHE_SECONDS = env.int("LEAD_LIST_CACHE_SECONDS", default=10 if REDIS_URL else 0)
# The same for the contact list (contacts/listcache.py: any SQL write to a contacts table bumps it).
CONTACT_LIST_CACHE_SECONDS = env.int("CONTACT_LIST_CACHE_SECONDS", default=10 if REDIS_URL else 0)
# Newest cards per board column; the column's "more" link opens the filtered list.
LEAD_BOARD_CARDS = env.int("LEAD_BOARD_CARDS", default=50)

# --- AI calling (calling app) -------------------------------------------------------------------
# Provider adapters: base URLs are settings so tests point them at a local replay server.
VAPI_BASE_URL = env.str("VAPI_BASE_URL", default="https://api.vapi.ai")
VAPI_API_KEY = env.str("VAPI_API_KEY", default="")
# Vapi webhooks: the credential's secret (X-Vapi-Secret / Bearer) or HMAC key (X-Vapi-Signature).
VAPI_WEBHOOK_SECRET = env.str("VAPI_WEBHOOK_SECRET", default="")
RETELL_BASE_URL = env.str("RETELL_BASE_URL", default="https://api.retellai.com")
RETELL_API_KEY = env.str("RETELL_API_KEY", default="")
# Retell signs webhooks with an API key that has the "webhook" badge (default: RETELL_API_KEY).
RETELL_WEBHOOK_KEY = env.str("RETELL_WEBHOOK_KEY", default="") or RETELL_API_KEY
CALL_PROVIDER_HTTP_TIMEOUT = env.float("CALL_PROVIDER_HTTP_TIMEOUT", default=10.0)
# Seconds a simulated call "lasts" before it reports its outcome.
CALL_SIMULATED_DURATION = env.int("CALL_SIMULATED_DURATION", default=20)
# A call with no final report after this long counts as failed (and is retried).
CALL_TIMEOUT_MINUTES = env.int("CALL_TIMEOUT_MINUTES", default=15)
# Leads claimed per scheduler transaction.
CALL_SCHEDULER_BATCH = env.int("CALL_SCHEDULER_BATCH", default=2_000)
# Contact list totals: above this many matches the list reports "at least N" (issue 3).
CONTACT_COUNT_CAP = env.int("CONTACT_COUNT_CAP", default=10_000)
# Most items one POST/PATCH /contacts/bulk call may carry (issue 3).
CONTACT_BULK_LIMIT = env.int("CONTACT_BULK_LIMIT", default=1_000)

# --- Meta (Marketing API sync, Lead Ads webhook; campaigns app) --------------------------------
# The Graph API base URL is a setting so tests and demos can point it at a local replay server.
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com")
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v21.0")
META_ACCESS_TOKEN = env.str("META_ACCESS_TOKEN", default="")
META_AD_ACCOUNT_ID = env.str("META_AD_ACCOUNT_ID", default="")  # digits or act_<digits>
META_APP_SECRET = env.str("META_APP_SECRET", default="")  # signs webhooks; appsecret_proof
META_VERIFY_TOKEN = env.str("META_VERIFY_TOKEN", default="")  # the webhook handshake's hub.verify_token
META_LEAD_OWNER = env.str("META_LEAD_OWNER", default="")  # username; else the least-loaded sales user
META_SYNC_TRAILING_DAYS = env.int("META_SYNC_TRAILING_DAYS", default=28)  # conversions keep arriving
META_HTTP_TIMEOUT = env.float("META_HTTP_TIMEOUT", default=30.0)
META_MAX_RETRIES = env.int("META_MAX_RETRIES", default=5)
META_RETRY_BASE_SECONDS = env.float("META_RETRY_BASE_SECONDS", default=2.0)
META_MAX_WAIT_SECONDS = env.float("META_MAX_WAIT_SECONDS", default=120.0)  # longer: end the run, retry later
META_USAGE_THROTTLE_PCT = env.float("META_USAGE_THROTTLE_PCT", default=90.0)

# --- Static, uploads ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# CSV uploads are streamed to disk by Django and then by the import job; keep memory flat.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.CachedJWTAuthentication",
        "crm.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Counted in the cache (Redis in production), per user, per API key, per IP (crm/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "crm.throttling.UserThrottle",
        "crm.throttling.ApiKeyThrottle",
        "crm.throttling.AnonThrottle",
    ],
    # "" turns a scope off. manage.py bench's load would trip the defaults, so there they are
    # raised out of reach (the throttle still runs and costs what it costs).
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("THROTTLE_USER", default="1000000/minute" if BENCH_ENDPOINTS else "1200/minute"),
        "api_key": env.str("THROTTLE_API_KEY", default="1000000/minute" if BENCH_ENDPOINTS else "600/minute"),
        "anon": env.str("THROTTLE_ANON", default="1000000/minute" if BENCH_ENDPOINTS else "600/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.CRMPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "UNAUTHENTICATED_USER": None,
    "PAGE_SIZE": 20,
}
# Failed logins (crm/throttling.py LoginGuard): slowed, then blocked for a while, never for good.
LOGIN_SLOWDOWN_AFTER = env.int("LOGIN_SLOWDOWN_AFTER", default=5)  # failures per account
LOGIN_LOCKOUT_AFTER = env.int("LOGIN_LOCKOUT_AFTER", default=10)
LOGIN_IP_SLOWDOWN_AFTER = env.int("LOGIN_IP_SLOWDOWN_AFTER", default=20)  # failures per client IP
LOGIN_IP_LOCKOUT_AFTER = env.int("LOGIN_IP_LOCKOUT_AFTER", default=50)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
# Dashboard: a read recomputes rollup days the worker has left dirty this many seconds (-1: never,
# e.g. when the dashboard reads a replica); the worker normally does it within a second or two.
DASHBOARD_REFRESH_ON_READ_AFTER = env.int("DASHBOARD_REFRESH_ON_READ_AFTER", default=5)
# Outgoing webhooks (crm/webhooks.py): per-attempt timeout, attempts before "failed", backoff base.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Leads, timeline, imports and more. Every list takes limit/offset or page/per_page.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security (production) ----------------------------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every request URL at INFO, and Graph API URLs carry the access token.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
