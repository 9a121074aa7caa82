"""Settings for radio: every value can be set from the environment.

The defaults are safe for one process on a developer's machine: SQLite and
the in-memory channel layer. REDIS_URL switches to channels-redis (several
daphne workers), DATABASE_URL to another database such as PostgreSQL.
"""

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_float, env_int, env_json_list, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# Public (it is in the code), so only for DEBUG=1 on a developer's machine.
DEVELOPMENT_SECRET_KEY = "django-insecure-local-development-only"
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if SECRET_KEY == DEVELOPMENT_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set, and DEBUG is off: the built-in key is public, "
        "so anyone could forge sessions. Set SECRET_KEY in the environment to "
        "a long random value, such as the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))' "
        "(or set DEBUG=1 on a developer's machine; bin/run does)."
    )
# Served over HTTPS, by a proxy that sets X-Forwarded-Proto (docs/OPERATIONS.md).
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 3600)
# The pages' scripts read the CSRF token from a data-* attribute, never
# from the cookie; both cookies stay first-party (SameSite=Lax).
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# No page may be framed (clickjacking): radio has no embeddable player.
X_FRAME_OPTIONS = "DENY"
# Every page's scripts and styles are static files: no inline script, style
# attribute or event handler runs. The player plays MediaSource blob: URLs;
# the sockets and the API are same-origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # Its static files: the API docs page's Swagger UI, served by WhiteNoise.
    "ninja",
    "stations",
    "listeners",
    "stations.library",
    "stations.programme",
    "stations.webhooks",
    "stations.statistics",
    "stations.song_requests",
    "stations.calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "stations.api.cors.PublicReadCorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "stations.middleware.BusUnavailableMiddleware",
]

ROOT_URLCONF = "radio.urls"
ASGI_APPLICATION = "radio.asgi.application"

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
                "radio.context_processors.protocol",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
DATABASES = {
    "default": (
        dj_database_url.parse(DATABASE_URL, conn_max_age=0)
        if DATABASE_URL
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # daphne runs ORM calls in threads; WAL lets readers and
            # the one writer work side by side instead of failing.
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
    # Each thread keeps its connection: opening one, with its PRAGMA, for
    # every query cost the inbox a third of its CPU (docs/PERFORMANCE.md).
    DATABASES["default"]["CONN_MAX_AGE"] = None
    # A file beside the database (not in memory): live tests' daphne
    # processes open it too. Named after it, so runs on other files never meet.
    _database = Path(DATABASES["default"]["NAME"])
    DATABASES["default"].setdefault(
        "TEST", {"NAME": _database.with_name(f"test-{_database.name}")}
    )

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# The sign-in throttles count in the cache: in Redis every worker sees the
# same counts; in memory each process counts on its own.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "radio",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic gathers the files that WhiteNoise serves when DEBUG is off.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Serve static files straight from the apps while developing.
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One handler, on the root logger: daphne's own set-up is replaced, so no
# line is printed twice.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "filters": {
        "repeats": {"()": "radio.logfilters.Repeats"},
        "cancellations": {"()": "radio.logfilters.Cancellations"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "stations": {"level": env_str("LOG_LEVEL", "INFO")},
        "listeners": {"level": env_str("LOG_LEVEL", "INFO")},
        # Its reader logs every retry while Redis is away, and a traceback
        # for each consumer whose cleanup a stopping worker cancels.
        "channels_redis.pubsub": {"filters": ["repeats", "cancellations"]},
    },
}

# --- Streaming -------------------------------------------------------------
# Audio a listener gets at once on joining an on-air station.
RADIO_BURST_SECONDS = env_float("RADIO_BURST_SECONDS", 2.5)
# With this many listeners of a station on a worker (0: never), its audio is
# written to each of them once per RADIO_BATCH_MS rather than once per packet
# (a write costs about the same whatever its size), or less often where that
# would be more than RADIO_AUDIO_WRITES_PER_SECOND writes (0: no bound).
RADIO_BATCH_FROM_LISTENERS = env_int("RADIO_BATCH_FROM_LISTENERS", 2000)
RADIO_BATCH_MS = env_float("RADIO_BATCH_MS", 250.0)
RADIO_AUDIO_WRITES_PER_SECOND = env_float("RADIO_AUDIO_WRITES_PER_SECOND", 30000.0)
# A listener whose socket has not drained for this long is closed with 4408;
# until then it skips ahead, losing audio rather than delaying anyone.
RADIO_LISTENER_MAX_STALL_SECONDS = env_float("RADIO_LISTENER_MAX_STALL_SECONDS", 10.0)
# A live DJ that sends no audio for this long is taken off air.
RADIO_DJ_IDLE_TIMEOUT_SECONDS = env_float("RADIO_DJ_IDLE_TIMEOUT_SECONDS", 10.0)
# A DJ whose connection drops may reconnect this soon and carry on.
RADIO_DJ_RECONNECT_GRACE_SECONDS = env_float("RADIO_DJ_RECONNECT_GRACE_SECONDS", 5.0)
# A DJ may send audio ahead of real time by this much at most (a network
# hiccup's backlog) ...
RADIO_DJ_AUDIO_HEAD_START_SECONDS = env_float("RADIO_DJ_AUDIO_HEAD_START_SECONDS", 10.0)
# ... and catch up at this many times real time; faster ends the broadcast.
RADIO_DJ_MAX_AUDIO_SPEED = env_float("RADIO_DJ_MAX_AUDIO_SPEED", 2.0)
# Title changes a DJ may send at once, then how many more per second.
RADIO_NOW_PLAYING_BURST = env_int("RADIO_NOW_PLAYING_BURST", 5)
RADIO_NOW_PLAYING_PER_SECOND = env_float("RADIO_NOW_PLAYING_PER_SECOND", 0.5)
# Largest binary audio message a DJ may send (daphne refuses over 1 MiB).
RADIO_MAX_AUDIO_CHUNK_BYTES = env_int("RADIO_MAX_AUDIO_CHUNK_BYTES", 256 * 1024)
# Largest JSON message any client may send.
RADIO_MAX_TEXT_FRAME_BYTES = env_int("RADIO_MAX_TEXT_FRAME_BYTES", 4096)
# Inbox messages one sender may send at once (a token bucket's size) ...
RADIO_INBOX_BURST = env_int("RADIO_INBOX_BURST", 10)
# ... and how many more each second after that, on each worker.
RADIO_INBOX_MESSAGES_PER_SECOND = env_float("RADIO_INBOX_MESSAGES_PER_SECOND", 1.0)
# Other messages that write to the database (marking read, blocking and
# unblocking, chat moderation) one user may send at once, then per second.
RADIO_WRITES_BURST = env_int("RADIO_WRITES_BURST", 20)
RADIO_WRITES_PER_SECOND = env_float("RADIO_WRITES_PER_SECOND", 2.0)
# WebSockets and stream.mp3 responses one client address (an IPv6 /64) may
# hold open in one worker; 0: no cap (load tests, trusted proxies). Behind
# a proxy, daphne needs --proxy-headers to see the client's address.
RADIO_MAX_CONNECTIONS_PER_IP = env_int("RADIO_MAX_CONNECTIONS_PER_IP", 50)
# A connection must have sent its whole HTTP request (a WebSocket's opening
# handshake too) this many seconds after it opened, or it is dropped.
RADIO_HANDSHAKE_TIMEOUT_SECONDS = env_float("RADIO_HANDSHAKE_TIMEOUT_SECONDS", 8.0)
# Listener counts are pushed to clients at most this often.
RADIO_LISTENER_COUNT_INTERVAL_SECONDS = env_float(
    "RADIO_LISTENER_COUNT_INTERVAL_SECONDS", 1.0
)
RADIO_FFMPEG = env_str("RADIO_FFMPEG", "ffmpeg")

# --- AutoDJ library ----------------------------------------------------------
# Each server process plays the stations' libraries while no DJ is live
# (one process per station at a time); 0 turns the AutoDJ off.
RADIO_AUTODJ = env_bool("RADIO_AUTODJ", True)
# Longest track the library takes, in seconds (3 hours).
RADIO_MAX_TRACK_SECONDS = env_int("RADIO_MAX_TRACK_SECONDS", 3 * 60 * 60)
# Largest audio file the library takes, in megabytes (MiB).
RADIO_MAX_UPLOAD_MB = env_int("RADIO_MAX_UPLOAD_MB", 300)

# --- Recordings (stations/programme/recording.py, sweeper.py) ---------------
# A recording's audio is written to its file at least this often, in seconds:
# at most this much is lost when a worker dies.
RADIO_RECORDING_FLUSH_SECONDS = env_float("RADIO_RECORDING_FLUSH_SECONDS", 1.0)
# How often a recording tells the database it is alive, in seconds.
RADIO_RECORDING_HEARTBEAT_SECONDS = env_float("RADIO_RECORDING_HEARTBEAT_SECONDS", 5.0)
# A recording silent this long, in seconds, lost its worker: the sweeper
# finishes its episode from what its file holds. Longer than the reconnect
# grace, through which a dropped DJ's recording is silent.
RADIO_RECORDING_STALE_SECONDS = env_float("RADIO_RECORDING_STALE_SECONDS", 30.0)
# How often each worker sweeps (stale recordings, retention), in seconds.
RADIO_RECORDING_SWEEP_SECONDS = env_float("RADIO_RECORDING_SWEEP_SECONDS", 60.0)
# Episodes older than this many days are deleted with their files ...
RADIO_RECORDINGS_KEEP_DAYS = env_float("RADIO_RECORDINGS_KEEP_DAYS", 90.0)
# ... and, oldest first, those over this total size in gigabytes (GiB).
RADIO_RECORDINGS_MAX_GB = env_float("RADIO_RECORDINGS_MAX_GB", 20.0)
# An nginx internal location that serves MEDIA_ROOT (e.g. "/protected/"):
# episode audio is then sent by nginx through X-Accel-Redirect.
RADIO_RECORDINGS_ACCEL_REDIRECT = env_str("RADIO_RECORDINGS_ACCEL_REDIRECT", "")

# --- Source ports ------------------------------------------------------------
# Desktop encoders (BUTT, Mixxx, OBS, ffmpeg, Liquidsoap) go live here:
# Icecast's source protocol on RADIO_SOURCE_PORT, Shoutcast v1 on the port
# after it. Every worker opens both (SO_REUSEPORT); 0 turns them off.
RADIO_SOURCE_HOST = env_str("RADIO_SOURCE_HOST", "127.0.0.1")
RADIO_SOURCE_PORT = env_int("RADIO_SOURCE_PORT", 8001)
# A source must have sent its request's headers within this time.
RADIO_SOURCE_HEADER_TIMEOUT_SECONDS = env_float(
    "RADIO_SOURCE_HEADER_TIMEOUT_SECONDS", 15.0
)
# 1: the source ports are behind a proxy that sends the PROXY protocol (v1)
# line with the client's address (nginx's stream proxy_protocol on).
RADIO_SOURCE_PROXY_PROTOCOL = env_bool("RADIO_SOURCE_PROXY_PROTOCOL", False)
# Source sockets not logged in yet that one worker holds at most.
RADIO_MAX_PENDING_SOURCES = env_int("RADIO_MAX_PENDING_SOURCES", 64)

# --- Slots (stations that keep DJs to their shows' slots) --------------------
# A DJ may go live this many minutes before their slot starts ...
RADIO_SLOT_EARLY_MINUTES = env_float("RADIO_SLOT_EARLY_MINUTES", 5.0)
# ... and is taken off air this many minutes after it ends.
RADIO_SLOT_OVERRUN_MINUTES = env_float("RADIO_SLOT_OVERRUN_MINUTES", 5.0)

# --- Chat ------------------------------------------------------------------
# Chat messages a user may send at once (a token bucket's size) ...
RADIO_CHAT_BURST_MESSAGES = env_int("RADIO_CHAT_BURST_MESSAGES", 5)
# ... and how fast the bucket refills, in messages per second sustained.
RADIO_CHAT_MESSAGES_PER_SECOND = env_float("RADIO_CHAT_MESSAGES_PER_SECOND", 1.0)

# --- Call-ins (stations/calls/) --------------------------------------------
# The WebRTC ICE servers the caller's and the DJ's browsers use to reach
# each other, as a JSON array of RTCIceServer objects, e.g.
# [{"urls": "stun:stun.example.org"}, {"urls": "turn:turn.example.org",
# "username": "radio", "credential": "..."}]. Empty: only the addresses the
# two machines have (enough on one network); across NATs, a TURN server.
RADIO_ICE_SERVERS = env_json_list("RADIO_ICE_SERVERS", [])
# WebRTC signals (descriptions, candidates) one user may send at once,
# then per second: a call takes a few dozen.
RADIO_CALL_SIGNALS_BURST = env_int("RADIO_CALL_SIGNALS_BURST", 60)
RADIO_CALL_SIGNALS_PER_SECOND = env_float("RADIO_CALL_SIGNALS_PER_SECOND", 10.0)

# --- Sign-in and sign-up throttles (listeners/throttle.py) -----------------
# Failed sign-ins for one account, from anywhere, that lock it ...
RADIO_SIGNIN_FAILURES_PER_ACCOUNT = env_int("RADIO_SIGNIN_FAILURES_PER_ACCOUNT", 10)
# ... and from one client address (an IPv6 /64), for any accounts: higher,
# as many people may share one address behind a NAT. Wrong API keys from
# one address have a limit of their own, of this size.
RADIO_SIGNIN_FAILURES_PER_ADDRESS = env_int("RADIO_SIGNIN_FAILURES_PER_ADDRESS", 50)
# How long failures count, and a lock lasts, in seconds.
RADIO_SIGNIN_LOCKOUT_SECONDS = env_int("RADIO_SIGNIN_LOCKOUT_SECONDS", 15 * 60)
# Accounts one client address may make in an hour.
RADIO_SIGNUPS_PER_ADDRESS_PER_HOUR = env_int("RADIO_SIGNUPS_PER_ADDRESS_PER_HOUR", 10)

# --- Encoders (Icecast and Shoutcast sources, stations/sources/) -----------
# Failed source logins from one client address within a minute that block
# it ...
RADIO_SOURCE_FAILURES_PER_MINUTE = env_int("RADIO_SOURCE_FAILURES_PER_MINUTE", 10)
# ... from logging in as a source, with any password, for this many seconds.
RADIO_SOURCE_BLOCK_SECONDS = env_int("RADIO_SOURCE_BLOCK_SECONDS", 60)

# --- Play history (stations/programme/) ------------------------------------
# Plays on one page of a station's history page.
RADIO_HISTORY_PAGE_PLAYS = env_int("RADIO_HISTORY_PAGE_PLAYS", 100)
# Most days of plays one CSV export may ask for.
RADIO_HISTORY_EXPORT_MAX_DAYS = env_int("RADIO_HISTORY_EXPORT_MAX_DAYS", 366)

# --- Public API (stations/api/) --------------------------------------------
# Seconds a built now-playing object, schedule or history page is served
# before it is built again, whatever the request rate.
RADIO_API_CACHE_SECONDS = env_float("RADIO_API_CACHE_SECONDS", 5.0)
# Seconds between keep-alive comments on an idle Server-Sent Events stream.
RADIO_API_SSE_KEEPALIVE_SECONDS = env_float("RADIO_API_SSE_KEEPALIVE_SECONDS", 15.0)

# --- Webhooks (stations/webhooks/, docs/WEBHOOKS.md) ------------------------
# The site's public address (https://radio.example), for links in webhooks.
RADIO_SITE_URL = env_str("RADIO_SITE_URL", "http://localhost:8000")
# Let webhooks go to loopback and private addresses (tests, private networks);
# off, such targets are refused as server-side request forgery.
RADIO_WEBHOOK_ALLOW_PRIVATE = env_bool("RADIO_WEBHOOK_ALLOW_PRIVATE", False)
# Seconds a target has to answer a delivery, in all.
RADIO_WEBHOOK_TIMEOUT_SECONDS = env_float("RADIO_WEBHOOK_TIMEOUT_SECONDS", 5.0)
# Tries of a delivery before it is marked failed.
RADIO_WEBHOOK_MAX_ATTEMPTS = env_int("RADIO_WEBHOOK_MAX_ATTEMPTS", 5)
# Seconds before the second try; each later try waits twice as long.
RADIO_WEBHOOK_RETRY_BASE_SECONDS = env_float("RADIO_WEBHOOK_RETRY_BASE_SECONDS", 10.0)
# Fewest seconds between two song_changed sent to one webhook.
RADIO_WEBHOOK_SONG_INTERVAL_SECONDS = env_float(
    "RADIO_WEBHOOK_SONG_INTERVAL_SECONDS", 10.0
)
# Seconds between a worker's looks for due deliveries (queued ones go at once).
RADIO_WEBHOOK_POLL_SECONDS = env_float("RADIO_WEBHOOK_POLL_SECONDS", 1.0)
# Seconds between looks at listener counts and new episodes: changes within
# them are told as one.
RADIO_WEBHOOK_WATCH_SECONDS = env_float("RADIO_WEBHOOK_WATCH_SECONDS", 10.0)

# --- Listener statistics (stations/statistics/) -----------------------------
# 0: listening sessions are not recorded.
RADIO_STATS_ENABLED = env_bool("RADIO_STATS_ENABLED", True)
# Finished sessions are written together at most this many seconds after the
# first of them ended (one insert for all).
RADIO_STATS_FLUSH_SECONDS = env_float("RADIO_STATS_FLUSH_SECONDS", 5.0)
# Sessions shorter than this many seconds are players probing, not listening.
RADIO_STATS_MIN_SESSION_SECONDS = env_float("RADIO_STATS_MIN_SESSION_SECONDS", 1.0)
# Sessions are deleted this many days after they ended.
RADIO_STATS_RETENTION_DAYS = env_float("RADIO_STATS_RETENTION_DAYS", 365.0)
# The salt of the listeners' address hashes; empty: derived from SECRET_KEY.
RADIO_STATS_SALT = env_str("RADIO_STATS_SALT", "")
