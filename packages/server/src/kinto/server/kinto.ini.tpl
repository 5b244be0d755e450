# Configuration of a Kinto server, written by `kinto init` on ${created} (kinto-server ${version}).
#
#   kinto start --ini ${ini}         serve the API (http://${host}:8888/v1/)
#   kinto migrate --ini ${ini}       create or upgrade the database tables
#
# Every setting `kinto.x` of [app:main] can be overridden from the environment with KINTO_X
# (upper case, dots and dashes as underscores): KINTO_STORAGE_URL=... wins over this file.
# %(here)s is the folder of this file.

[server:main]
# Where `kinto start` listens (its --host, --port and --bind options win over these).
# `use` is only read by other PasteDeploy servers such as pserve; `kinto start` ignores it.
use = egg:waitress#main
host = ${host}
port = 8888


[app:main]
use = egg:kinto-server

# --- Backends ---------------------------------------------------------------------------------
# ${backend_comment}
kinto.storage_backend = ${storage_backend}
kinto.storage_url = ${storage_url}
kinto.permission_backend = ${permission_backend}
kinto.permission_url = ${permission_url}
kinto.cache_backend = ${cache_backend}
kinto.cache_url = ${cache_url}
# Connections per process, and how long a request waits for one (PostgreSQL), or for the
# write lock (SQLite), in seconds.
# kinto.storage_pool_size = 10
# kinto.storage_pool_timeout = 30
# The most objects one query may return (pages are cut to this size).
# kinto.storage_max_fetch_size = 10000

# --- Plugins --------------------------------------------------------------------------------------
# Packages to include, one per line: the server's built-in plugins (kinto.plugins.<name>, named as
# in Kinto; remove the `#` of a line to turn one on) and installed ones such as kinto_fxa,
# kinto_elasticsearch. default_bucket: /v1/buckets/default is each user's own bucket, the one
# kinto.js and kinto-http use by default. flush: POST /v1/__flush__ lets anybody empty the server
# (test servers only).
${includes}

# --- Authentication -----------------------------------------------------------------------------
# The HMAC key of user ids and of cached logins. Changing it changes every Basic Auth user id: keep it.
kinto.userid_hmac_secret = ${secret}
${authentication}
# Firefox Accounts (pip install kinto-fxa; add kinto_fxa to kinto.includes), before the others:
# multiauth.policies = fxa ${policies}
# multiauth.policy.fxa.use = kinto_fxa.authentication.FxAOAuthAuthenticationPolicy
# fxa-oauth.oauth_uri = https://oauth.accounts.firefox.com/v1
# fxa-oauth.required_scope = https://identity.mozilla.com/apps/kinto
# The HMAC key of personal bucket ids (kinto.plugins.default_bucket): changing it gives every user
# a new, empty default bucket.
kinto.default_bucket_hmac_secret = ${bucket_secret}

# --- Permissions --------------------------------------------------------------------------------
# Who may create buckets (space-separated principals: system.Everyone, system.Authenticated,
# account:<username>, basicauth:<id>, fxa:<uid>...); every user has their default bucket anyway.
# Other `kinto.<resource>_<permission>_principals` settings grant a permission on every object of a
# kind, e.g. kinto.bucket_read_principals.
kinto.bucket_create_principals = ${bucket_create_principals}
# GET /v1/permissions lists what the caller may do.
kinto.experimental_permissions_endpoint = true

# --- Features -------------------------------------------------------------------------------------
# Validate records against the JSON Schema stored in their collection's `schema` field (and
# buckets' `record:schema`, `collection:schema`, `group:schema`).
kinto.experimental_collection_schema_validation = true
# kinto.readonly = false
# kinto.batch_max_requests = 25
# kinto.paginate_by =
# kinto.retry_after_seconds = 3

# --- Events -------------------------------------------------------------------------------------
# kinto.event_listeners = audit
# kinto.event_listeners.audit.use = myproject.listeners
# kinto.event_listeners.audit.actions = create delete
# kinto.event_listeners.audit.resources = record

# --- Behind a proxy, CORS, service notices --------------------------------------------------------
# kinto.http_scheme = https
# kinto.http_host = kinto.example.com
# kinto.cors_origins = *
# kinto.backoff =
# kinto.eos =
# kinto.eos_message =
# kinto.eos_url =

# --- Logging --------------------------------------------------------------------------------------
# How each request summary line is written: kinto.core.logs.ClassicLogRenderer or
# kinto.core.logs.JsonLogRenderer (or kinto_fluent.FluentRenderer, with kinto-fluent).
# kinto.logging_renderer = kinto.core.logs.ClassicLogRenderer

[loggers]
keys = root, kinto

[handlers]
keys = console

[formatters]
keys = plain

[logger_root]
level = INFO
handlers = console

[logger_kinto]
level = INFO
handlers = console
qualname = kinto
propagate = 0

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = plain

[formatter_plain]
format = %(levelname)-5.5s %(message)s
