"""tagloop settings shared by every environment: everything read from the environment.

With no environment at all tagloop runs on embedded defaults (SQLite and a filesystem
Celery broker under ``var/``) so ``make run`` needs nothing but Python. ``DATABASE_URL``
and ``REDIS_URL`` switch to PostgreSQL and Redis, as production and CI do.

The strict parts (a weak DJANGO_SECRET_KEY or reporter salt refused with DEBUG off, DEBUG
off by default) live here, not in production.py: a process started without
DJANGO_SETTINGS_MODULE must be exactly as strict. Folders are not made here: importing the
settings writes nothing but a generated secret key (config/secret_key.py); the folders under
VAR_DIR are made when Django starts (config/var_dirs.py).
"""

import os
from pathlib import Path
from typing import Any

import environ

from config.secret_key import require_strong, secret_key_setting

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("TAGLOOP_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# DJANGO_SECRET_KEY, refused when weak with DEBUG off; unset, a random key kept in
# VAR_DIR/secret_key (one machine only). Why: config/secret_key.py.
SECRET_KEY, TAGLOOP_SECRET_KEY_GENERATED = secret_key_setting(os.environ, debug=DEBUG, var_dir=VAR_DIR)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.TagloopAdminConfig",  # django.contrib.admin with our site: config/admin_site.py
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files (no CDN)
    "django_filters",
    "common",  # shared errors, permissions, form pieces, chart tags, the roles registry
    "labeling",
    "predictions",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's MessageMiddleware for pages; API calls skip it (config/middleware.py).
    "config.middleware.PageMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite waits for a lock instead of failing at once, and takes the write lock at
# BEGIN, because the web process and the worker write to the same file.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'tagloop.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep each process's connection between requests: opening one costs milliseconds, which
# a predict request that writes (a canary's record) would otherwise pay every time.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "labeling:after-login"  # the queue for the team, the content otherwise
LOGOUT_REDIRECT_URL = "labeling:content-list"

# Password reset mails a link, so it is offered only with a mail server
# (EMAIL_URL=smtp://user:password@mail.example.org:587, or consolemail:// to print the mails).
# Without one a reset would "succeed" and send nothing; an admin sets a new password instead.
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url("EMAIL_URL"))  # EMAIL_HOST, EMAIL_PORT, EMAIL_BACKEND, ...
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="tagloop@localhost")
TAGLOOP_PASSWORD_RESET = bool(EMAIL_URL)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# A container image collects the static files at build time, outside its data volume.
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))

# --- cache ----------------------------------------------------------------------
# Throttle counters, the report budget and the quality report. Shared by every process as
# soon as Redis is configured: CACHE_URL when set, else REDIS_URL with the next database
# number (redis://h:6379/0 -> /1, the broker keeps its own); per-process memory only in the
# embedded default. On Redis the cache fails open (config/cache.py): Redis down means no
# rate limit and recomputed values, logged, never a 500. Keys carry TAGLOOP_CACHE_KEY_PREFIX
# and clearing the cache deletes only those keys, so it never empties a shared database.
from config.cache import caches_setting  # noqa: E402 - settings read the environment first

CACHES = caches_setting(
    cache_url=env("CACHE_URL", default=""),
    redis_url=env("REDIS_URL", default=""),
    key_prefix=env("TAGLOOP_CACHE_KEY_PREFIX", default="tagloop"),
)

# --- Celery -------------------------------------------------------------------
# Without REDIS_URL the broker is kombu's filesystem transport: a real worker process,
# no server to install. Progress and results live on database rows, so no result backend.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost//"
# visibility_timeout: an unacknowledged message (its worker died) comes back after this
# long. Nothing waits for that: the reconciler takes over a job whose heartbeat is
# stale within seconds. It stays above the longest task time limit (a retrain: 1900 s),
# so a message is never handed out again while its task may still be running.
# socket_connect_timeout: with the broker down, a web request that records work waits
# this long at most before answering (the job is kept and sent later).
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 30}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker" / "queue"),
        "data_folder_out": str(VAR_DIR / "broker" / "queue"),
        "processed_folder": str(VAR_DIR / "broker" / "processed"),
        "control_folder": str(VAR_DIR / "broker" / "control"),
        "store_processed": False,
    }
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="tagloop")
# One message per worker process at a time: a message held by a busy process is work
# nobody else can take, and one that a killed worker held comes back only after the
# visibility timeout (the reconciler covers it sooner, from the database).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A pool process loads the active model before it reports ready (config.celery's warm-up): seconds on a loaded
# machine, past Celery's default of 4 s, after which the parent would kill it and start another, again and again.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 60.0
# A worker keeps its database connection from task to task, as a web process does from request to request:
# CONN_MAX_AGE and the health checks decide when it closes (config.celery closes old connections around each task,
# as Django does around each request). Celery's Django fixup would close it after every task (it does so only every
# this many tasks); each re-prediction chunk then started a PostgreSQL backend with cold caches, about 20 us of the
# server's CPU per item (docs/benchmarks.md, "Re-prediction: the two workers' extra CPU").
CELERY_DB_REUSE_MAX = 1_000_000

# --- durable work (predictions.services.jobs and .reconciler) ---------------------
# Every piece of work is a Job row; the broker only wakes workers. A worker writes its
# job's heartbeat this often; a running job silent for longer than the stale bound lost
# its worker and is taken over. The reconciler runs this often (celery beat, one run per
# period however many beats), and re-sends a job nobody took this long after it was
# sent while the queue is empty (its message was lost). Items lacking the active model's
# prediction that no job holds are looked for on the sweep's slower period.
TAGLOOP_HEARTBEAT_SECONDS = env.float("TAGLOOP_HEARTBEAT_SECONDS", default=5)
TAGLOOP_STALE_AFTER_SECONDS = env.float("TAGLOOP_STALE_AFTER_SECONDS", default=30)
TAGLOOP_RECONCILE_EVERY_SECONDS = env.float("TAGLOOP_RECONCILE_EVERY_SECONDS", default=10)
TAGLOOP_DISPATCH_GRACE_SECONDS = env.float("TAGLOOP_DISPATCH_GRACE_SECONDS", default=20)
TAGLOOP_SWEEP_EVERY_SECONDS = env.float("TAGLOOP_SWEEP_EVERY_SECONDS", default=60)

# --- tagloop ------------------------------------------------------------------
MODEL_DIR = Path(env("TAGLOOP_MODEL_DIR", default=str(VAR_DIR / "models")))
# Where trained models are kept (predictions.artifact_store): "database", a row per version
# that every machine sharing the database reads, or "local", files in MODEL_DIR that only
# this machine reads. Database by default unless the database is SQLite: a server database
# may be shared by machines that share nothing else, a SQLite file never is.
TAGLOOP_MODEL_STORE = env(
    "TAGLOOP_MODEL_STORE",
    default="local" if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else "database",
)
if TAGLOOP_MODEL_STORE not in ("local", "database"):
    raise ValueError(f"TAGLOOP_MODEL_STORE must be 'local' or 'database', not {TAGLOOP_MODEL_STORE!r}")
# Fitted models each process keeps loaded, least recently used out first: the active
# model, a canary's candidate and one more (a comparison page) by default.
TAGLOOP_MODEL_CACHE_SIZE = env.int("TAGLOOP_MODEL_CACHE_SIZE", default=3)
# Online predictions by linear models use their compiled form (ml.compiled: the same
# probabilities without scikit-learn's per-call checks); off serves every call through
# the pipeline, for comparison.
TAGLOOP_LEAN_PREDICT = env.bool("TAGLOOP_LEAN_PREDICT", default=True)
# A re-prediction chunk's statements are prepared on the worker's kept connection, planned once instead of every
# chunk (common.bulk_update.parameters_bound). Turn it off behind a pooler in transaction mode that does not track
# protocol-level prepared statements (PgBouncer before 1.21, or with max_prepared_statements = 0).
TAGLOOP_PREPARE_BULK_STATEMENTS = env.bool("TAGLOOP_PREPARE_BULK_STATEMENTS", default=True)
# The encoder of a served model (minilm-linear) encodes the texts of concurrent requests in one
# process together (ml.batching), up to this many at once; 1 turns it off. Batches form only
# where a process serves several requests at a time (gunicorn's gthread workers); a leader may
# hold its batch open this many ms for more requests (0: batches are what queued while the
# previous one ran, so nothing ever waits on an idle server).
TAGLOOP_ENCODER_BATCH = env.int("TAGLOOP_ENCODER_BATCH", default=16)
TAGLOOP_ENCODER_BATCH_WAIT_MS = env.float("TAGLOOP_ENCODER_BATCH_WAIT_MS", default=0.0)
# A web process (anything that imports config.wsgi: gunicorn, runserver) loads the URLs and
# the serving models when it starts, so its first request does not pay for them; with
# gunicorn --preload that happens once, before the workers fork, and they share the pages.
TAGLOOP_WARM_AT_BOOT = env.bool("TAGLOOP_WARM_AT_BOOT", default=True)
# Predictions whose confidence is below this go to the review queue.
TAGLOOP_REVIEW_THRESHOLD = env.float("TAGLOOP_REVIEW_THRESHOLD", default=0.6)
TAGLOOP_DEFAULT_ALGORITHM = env("TAGLOOP_DEFAULT_ALGORITHM", default="minilm-linear")
# Share of gold labels held out for evaluation; assigned once per item.
TAGLOOP_HOLDOUT_SHARE = env.float("TAGLOOP_HOLDOUT_SHARE", default=0.2)
# Items per re-prediction job: large enough that per-chunk costs (claiming the job, loading
# the thresholds, one round trip per statement: ~20 ms a chunk) are small beside predicting and
# writing, small enough that a pass's last job leaves the other workers idle for under a second
# (docs/benchmarks.md, "Re-prediction: new rows by COPY and the chunk's fixed costs").
TAGLOOP_PREDICT_CHUNK_SIZE = env.int("TAGLOOP_PREDICT_CHUNK_SIZE", default=5000)
TAGLOOP_TRAIN_RANDOM_STATE = env.int("TAGLOOP_TRAIN_RANDOM_STATE", default=42)
# Salt for hashing anonymous reporters, so the raw IP is never stored (a weak one makes
# the hashes reversible by trying every address, so it is checked like the key).
TAGLOOP_REPORTER_SALT = env("TAGLOOP_REPORTER_SALT", default=SECRET_KEY)
if not DEBUG and "TAGLOOP_REPORTER_SALT" in os.environ:
    require_strong("TAGLOOP_REPORTER_SALT", TAGLOOP_REPORTER_SALT)

# --- API ----------------------------------------------------------------------
# HTTP Basic on the API (a password with every request): off unless turned on; people use
# their API tokens (Authorization: Bearer, made at /accounts/tokens/) instead.
TAGLOOP_API_BASIC_AUTH = env.bool("TAGLOOP_API_BASIC_AUTH", default=False)
# A process keeps a checked API token (and its user) this long: no query per request; a token revoked
# elsewhere, an account deactivated, is refused within this time (labeling/services/api_tokens.py).
TAGLOOP_API_TOKEN_CACHE_SECONDS = env.float("TAGLOOP_API_TOKEN_CACHE_SECONDS", default=5.0)
_API_AUTHENTICATION = [
    # DRF's session login, whose refusals are a 401 naming the schemes below (labeling/api/auth.py).
    "labeling.api.auth.SessionAuthentication",
    # A person's API token (labeling/api/auth.py).
    "labeling.api.auth.UserTokenAuthentication",
    # DRF's Basic behind the login lockout (labeling.login_throttle); it answers only while
    # TAGLOOP_API_BASIC_AUTH is on, which tests may change at run time.
    "labeling.api.auth.ThrottledBasicAuthentication",
]
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": _API_AUTHENTICATION,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Errors as RFC 9457 problem+json, never HTML (config/api_errors.py).
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    # The API speaks JSON only (a form cannot say null, which the schema allows), and JSON nested
    # too deeply for Python is a 400 (config/api_parsers.py); other media types are a 415.
    "DEFAULT_PARSER_CLASSES": ["config.api_parsers.JSONParserDepthSafe"],
    # DRF's negotiation, with the common Accept headers answered without parsing (config/api_negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api_negotiation.JSONFirstNegotiation",
    "DEFAULT_THROTTLE_RATES": {
        "reports": env("TAGLOOP_REPORT_RATE", default="30/hour"),
        "predict": env("TAGLOOP_PREDICT_RATE", default="6000/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "tagloop API",
    "DESCRIPTION": "Online predictions, wrong-tag reports, and the data: content, tags, gold labels, review tasks, reports and model versions. Sign in with a personal API token (`Authorization: Bearer <key>`, made at /accounts/tokens/).",
    "VERSION": "1.0.0",
    # The docs page loads its scripts from our own static files: the default is a CDN,
    # which leaves the page blank on machines without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema documents the API, not itself.
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status": each its own enum, by name.
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "labeling.models.ReviewStatus",
        "ReportStatusEnum": "labeling.models.ReportStatus",
        "ModelStatusEnum": "predictions.models.ModelStatus",
        # Every field that takes an active tag's slug (read from the database when the schema is made).
        "TagSlugEnum": "labeling.api.reports.active_tag_slugs",
    },
    # The schema offers Basic only where it is on.
    "AUTHENTICATION_WHITELIST": [
        *(path for path in _API_AUTHENTICATION if TAGLOOP_API_BASIC_AUTH or not path.endswith("BasicAuthentication")),
        "labeling.api.ingest.SourceTokenAuthentication",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "forbidden_without_traceback": {"()": "config.log_filters.ForbiddenWithoutTraceback"},
        "database_unavailable_without_traceback": {"()": "config.log_filters.DatabaseUnavailableWithoutTraceback"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["forbidden_without_traceback", "database_unavailable_without_traceback"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- review queue -------------------------------------------------------------
# How long an annotator holds a task before someone else may take it.
TAGLOOP_REVIEW_LEASE_SECONDS = env.int("TAGLOOP_REVIEW_LEASE_SECONDS", default=600)

# --- promotion gates ------------------------------------------------------------
# A candidate may lose at most this much weighted F1 against the active model on the
# same holdout, overall and on any slice, unless an admin overrides with a reason.
TAGLOOP_GATE_MAX_F1_DROP = env.float("TAGLOOP_GATE_MAX_F1_DROP", default=0.01)
TAGLOOP_GATE_MAX_SLICE_F1_DROP = env.float("TAGLOOP_GATE_MAX_SLICE_F1_DROP", default=0.05)
# Slices with fewer holdout items than this are too noisy to block a promotion.
TAGLOOP_GATE_MIN_SLICE_SIZE = env.int("TAGLOOP_GATE_MIN_SLICE_SIZE", default=10)

# --- canary ----------------------------------------------------------------------
# The share of content items (and online texts) a candidate serves when an admin starts
# a canary without choosing one, and the most any canary may take.
TAGLOOP_CANARY_SHARE = env.float("TAGLOOP_CANARY_SHARE", default=0.1)
TAGLOOP_CANARY_MAX_SHARE = env.float("TAGLOOP_CANARY_MAX_SHARE", default=0.5)

# --- automatic retrain ----------------------------------------------------------
# Celery beat checks this often; a retrain starts when at least this many gold labels
# were decided since the active model's training snapshot (0 turns it off). It never promotes.
TAGLOOP_AUTO_RETRAIN_MIN_NEW_LABELS = env.int("TAGLOOP_AUTO_RETRAIN_MIN_NEW_LABELS", default=50)
TAGLOOP_AUTO_RETRAIN_EVERY_SECONDS = env.int("TAGLOOP_AUTO_RETRAIN_EVERY_SECONDS", default=600)
CELERY_BEAT_SCHEDULE = {
    "auto-retrain": {"task": "predictions.tasks.auto_retrain", "schedule": TAGLOOP_AUTO_RETRAIN_EVERY_SECONDS},
    "reconcile": {
        "task": "predictions.tasks.reconcile",
        "schedule": TAGLOOP_RECONCILE_EVERY_SECONDS,
        # A tick that waited longer than a period in a backlog is useless: the next one comes.
        "options": {"expires": TAGLOOP_RECONCILE_EVERY_SECONDS},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# An annotator may undo their last answer for this long.
TAGLOOP_UNDO_SECONDS = env.int("TAGLOOP_UNDO_SECONDS", default=120)
# Answers a day the team asks of each annotator, shown as a progress bar on the review screen; 0: no goal.
TAGLOOP_DAILY_GOAL = env.int("TAGLOOP_DAILY_GOAL", default=0)

# --- audit samples and agreement -----------------------------------------------------
# Share of incoming items sent to review whatever the model's confidence (a random,
# fair sample: it measures the live model and the annotators), and how many annotators
# answer each one, blind, before the decision rule (unanimous, or a reviewer adjudicates).
TAGLOOP_AUDIT_SHARE = env.float("TAGLOOP_AUDIT_SHARE", default=0.05)
TAGLOOP_AUDIT_ANNOTATORS = env.int("TAGLOOP_AUDIT_ANNOTATORS", default=2)

# --- model selection --------------------------------------------------------------
# Folds of the cross-validation on the train split (fewer than 2 turns it off). The
# review threshold of each version is the out-of-fold confidence reaching this precision.
TAGLOOP_CV_FOLDS = env.int("TAGLOOP_CV_FOLDS", default=5)
TAGLOOP_TARGET_PRECISION = env.float("TAGLOOP_TARGET_PRECISION", default=0.95)
# Gold labels the model confidently disagrees with (out of fold) open review tasks, at most this many per run.
TAGLOOP_SUSPECTS_PER_RUN = env.int("TAGLOOP_SUSPECTS_PER_RUN", default=20)

# --- streaming ingestion and monitoring ---------------------------------------------
# POST /api/v1/content: at most this many items per request, bodies up to this size
# (larger: 413), and a rate per source token.
TAGLOOP_INGEST_MAX_ITEMS = env.int("TAGLOOP_INGEST_MAX_ITEMS", default=500)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("TAGLOOP_MAX_BODY_BYTES", default=5 * 1024 * 1024)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["ingest"] = env("TAGLOOP_INGEST_RATE", default="600/minute")
MIDDLEWARE = ["config.middleware.RequestTooBigMiddleware", "config.middleware.RejectNulInQueryMiddleware", *MIDDLEWARE]
# Window drift checks: each source's (and all sources') last N predicted items, or, when
# TAGLOOP_DRIFT_WINDOW_HOURS is set, those ingested in the last H hours, against the
# active model's outputs on the gold holdout; windows smaller than the minimum are skipped.
TAGLOOP_DRIFT_WINDOW_ITEMS = env.int("TAGLOOP_DRIFT_WINDOW_ITEMS", default=100)
TAGLOOP_DRIFT_WINDOW_HOURS = env.int("TAGLOOP_DRIFT_WINDOW_HOURS", default=0)
TAGLOOP_DRIFT_MIN_ITEMS = env.int("TAGLOOP_DRIFT_MIN_ITEMS", default=20)
TAGLOOP_DRIFT_ALPHA = env.float("TAGLOOP_DRIFT_ALPHA", default=0.01)
TAGLOOP_DRIFT_EVERY_SECONDS = env.int("TAGLOOP_DRIFT_EVERY_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["check-drift"] = {"task": "predictions.tasks.check_drift", "schedule": TAGLOOP_DRIFT_EVERY_SECONDS}
# Online evaluation: the sliding window is the last N decided audit samples / accepted reports.
TAGLOOP_LIVE_WINDOW_ITEMS = env.int("TAGLOOP_LIVE_WINDOW_ITEMS", default=200)
# --- the threshold keeps its promise on the live stream (predictions.services.trust) ---
# The promise is per window of TAGLOOP_TRUST_WINDOW_ITEMS arriving items of a source:
# precision >= TAGLOOP_TARGET_PRECISION among what the window auto-accepts. Blind audits of
# the active model judge, per source, over the last TAGLOOP_TRUST_WINDOW_AUDITS answered
# audits (or, when TAGLOOP_TRUST_WINDOW_HOURS is set, those decided in the last H hours),
# the chance that a window misses the target at the threshold in force (a beta-binomial
# on the evidence; errors already seen in the current window count against it); a
# threshold may run at most TAGLOOP_TRUST_RISK of it. TAGLOOP_TRUST_CONFIDENCE is the level
# of the Wilson lower bound shown beside it. Judged on at
# least TAGLOOP_TRUST_MIN_AUDITS accepted audits: a risk above the allowed one raises the
# source's threshold to the lowest one the audits prove (or sends everything to review)
# and audits TAGLOOP_TRUST_RAISED_AUDIT_SHARE of its new items; it is lowered again when
# TAGLOOP_TRUST_RELEASE_AUDITS new audits prove a lower one. TAGLOOP_TRUST_WARMUP audits at
# the raised share while a source has fewer audits than the minimum. Beat runs the check
# every TAGLOOP_TRUST_EVERY_SECONDS, and a worker after each answered audit.
# A model's starting threshold anticipates drift: training predicts the newest
# TAGLOOP_TRUST_TIME_FOLDS slices of TAGLOOP_TRUST_TIME_SHARE of the train split (time order)
# with models trained on what came before each, and takes the lowest threshold that
# evidence proves (never below the cross-validated one; 0 folds turns this off). The live
# judgement pools the audits with that evidence, each item counting
# TAGLOOP_TRUST_PRIOR_WEIGHT audits (0: audits alone). Audits are front-loaded: the raised
# share at first, falling to the base one over TAGLOOP_TRUST_SETTLE_AUDITS accepted audits.
# TAGLOOP_TRUST_SECOND_OPINION: thresholds apply to a trust score, not the bare confidence: the
# chance a prediction is right on newer content given its confidence and whether the keyword
# rules confirm, contradict or say nothing of its tag (ml.second_opinion), fitted on the same
# time-ordered validation; a model trained with it off (or too few errors to fit) uses the confidence.
TAGLOOP_TRUST_SECOND_OPINION = env.bool("TAGLOOP_TRUST_SECOND_OPINION", default=True)
TAGLOOP_TRUST_ENABLED = env.bool("TAGLOOP_TRUST_ENABLED", default=True)
TAGLOOP_TRUST_CONFIDENCE = env.float("TAGLOOP_TRUST_CONFIDENCE", default=0.95)
TAGLOOP_TRUST_WINDOW_AUDITS = env.int("TAGLOOP_TRUST_WINDOW_AUDITS", default=200)
TAGLOOP_TRUST_WINDOW_HOURS = env.int("TAGLOOP_TRUST_WINDOW_HOURS", default=0)
TAGLOOP_TRUST_MIN_AUDITS = env.int("TAGLOOP_TRUST_MIN_AUDITS", default=20)
TAGLOOP_TRUST_RELEASE_AUDITS = env.int("TAGLOOP_TRUST_RELEASE_AUDITS", default=30)
TAGLOOP_TRUST_RAISED_AUDIT_SHARE = env.float("TAGLOOP_TRUST_RAISED_AUDIT_SHARE", default=0.25)
TAGLOOP_TRUST_WARMUP = env.bool("TAGLOOP_TRUST_WARMUP", default=True)
TAGLOOP_TRUST_SETTLE_AUDITS = env.int("TAGLOOP_TRUST_SETTLE_AUDITS", default=20)
TAGLOOP_TRUST_PRIOR_WEIGHT = env.float("TAGLOOP_TRUST_PRIOR_WEIGHT", default=1.0)
TAGLOOP_TRUST_WINDOW_ITEMS = env.int("TAGLOOP_TRUST_WINDOW_ITEMS", default=30)
TAGLOOP_TRUST_RISK = env.float("TAGLOOP_TRUST_RISK", default=0.05)
TAGLOOP_TRUST_TIME_FOLDS = env.int("TAGLOOP_TRUST_TIME_FOLDS", default=3)
TAGLOOP_TRUST_TIME_SHARE = env.float("TAGLOOP_TRUST_TIME_SHARE", default=0.2)
TAGLOOP_TRUST_EVERY_SECONDS = env.int("TAGLOOP_TRUST_EVERY_SECONDS", default=300)
CELERY_BEAT_SCHEDULE["trust-check"] = {
    "task": "predictions.tasks.trust_check",
    "schedule": TAGLOOP_TRUST_EVERY_SECONDS,
    "options": {"expires": TAGLOOP_TRUST_EVERY_SECONDS},
}
# /metrics (Prometheus text) answers only with "Authorization: Bearer <this>"; empty turns it off.
TAGLOOP_METRICS_TOKEN = env("TAGLOOP_METRICS_TOKEN", default="")
# --- webhooks (README "Webhooks") -------------------------------------------------------
# Attempts per delivery; the wait after the n-th failure is BACKOFF * 2**(n-1) seconds, at most BACKOFF_MAX.
TAGLOOP_WEBHOOK_MAX_ATTEMPTS = env.int("TAGLOOP_WEBHOOK_MAX_ATTEMPTS", default=8)
TAGLOOP_WEBHOOK_BACKOFF_SECONDS = env.float("TAGLOOP_WEBHOOK_BACKOFF_SECONDS", default=10.0)
TAGLOOP_WEBHOOK_BACKOFF_MAX_SECONDS = env.float("TAGLOOP_WEBHOOK_BACKOFF_MAX_SECONDS", default=3600.0)
TAGLOOP_WEBHOOK_TIMEOUT_SECONDS = env.float("TAGLOOP_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Webhook URLs must resolve to public addresses (webhooks/addresses.py); true allows private ones too.
# Development and the tests default to true, for receivers on localhost.
TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool("TAGLOOP_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False)
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "webhooks.tasks.sweep", "schedule": 60.0}
# Predictions a re-prediction wrote for an item deleted meanwhile (predictions.services.orphans): rare, harmless
# for a while, and the sweep reads every prediction, so once a day.
TAGLOOP_ORPHAN_SWEEP_EVERY_SECONDS = env.int("TAGLOOP_ORPHAN_SWEEP_EVERY_SECONDS", default=86400)
CELERY_BEAT_SCHEDULE["sweep-orphaned-predictions"] = {
    "task": "predictions.tasks.sweep_orphaned_predictions",
    "schedule": TAGLOOP_ORPHAN_SWEEP_EVERY_SECONDS,
    "options": {"expires": 3600},
}
# The open-task counts gain a row per statement that changes review tasks; folding them this often keeps
# reading the counts (every queue page) a sum of a few dozen rows.
TAGLOOP_REVIEW_COUNTS_COMPACT_EVERY_SECONDS = env.float("TAGLOOP_REVIEW_COUNTS_COMPACT_EVERY_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE["compact-review-counts"] = {
    "task": "labeling.tasks.compact_review_counts",
    "schedule": TAGLOOP_REVIEW_COUNTS_COMPACT_EVERY_SECONDS,
    "options": {"expires": TAGLOOP_REVIEW_COUNTS_COMPACT_EVERY_SECONDS},
}
# /healthz gives the broker this long to answer.
TAGLOOP_HEALTH_BROKER_TIMEOUT = env.float("TAGLOOP_HEALTH_BROKER_TIMEOUT", default=2.0)

# --- production: HTTPS, proxies, login throttling (README "Production and scaling") ------
# Everything off by default so `make run` serves plain HTTP on loopback; the production
# environment in .env.example turns it on (`manage.py check --deploy` is then clean).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# Load balancers probe health over plain HTTP: a redirect would read as "down".
SECURE_REDIRECT_EXEMPT = [r"^healthz(/|$)"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
# "X-Forwarded-Proto" (meaning "=https") or "Header-Name=value": the header the proxy in
# front sets on HTTPS requests. Only with a proxy that overwrites it: a client could send it.
_proxy_ssl_header, _, _proxy_ssl_value = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="").partition("=")
if _proxy_ssl_header.strip():
    SECURE_PROXY_SSL_HEADER = (
        "HTTP_" + _proxy_ssl_header.strip().upper().replace("-", "_"),
        _proxy_ssl_value.strip() or "https",
    )
# How many proxies in front of the web processes append to X-Forwarded-For. 0: the client
# is REMOTE_ADDR and the header is ignored (anyone can write it); N: the N-th address from
# the right, the one the outermost trusted proxy saw. Rate limits (DRF's NUM_PROXIES), the
# login lockout and anonymous reporters' identity all use this one rule (labeling/clients.py).
TAGLOOP_NUM_PROXIES = env.int("TAGLOOP_NUM_PROXIES", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TAGLOOP_NUM_PROXIES
# Login lockout on the login page, the admin's and HTTP Basic on the API (labeling/login_throttle.py):
# this many failures for one username from one address within the window lock that pair
# out for the lockout, even with the right password; a success resets the count.
TAGLOOP_LOGIN_MAX_FAILURES = env.int("TAGLOOP_LOGIN_MAX_FAILURES", default=5)
TAGLOOP_LOGIN_FAILURE_WINDOW_SECONDS = env.int("TAGLOOP_LOGIN_FAILURE_WINDOW_SECONDS", default=900)
TAGLOOP_LOGIN_LOCKOUT_SECONDS = env.int("TAGLOOP_LOGIN_LOCKOUT_SECONDS", default=900)
