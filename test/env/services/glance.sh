# N glance-api (python3-glance, Zed) one per cloud, SQLite, the file store, tokens validated by the cloud's admin,
# registered in that cloud's catalog as `image`. The interoperable import is on (glance-direct, web-download,
# copy-image), and web-download accepts loopback sources on GLANCE_WEB_PORTS (the tests' own http servers).
#
# Where it bites (measured here): glance refuses loopback web-download sources unless 127.0.0.1 is in
# [import_filtering_opts] allowed_hosts, and only allows ports 80/443 by default; both are ListOpts with
# `bounds=True`, so they must be written `[a,b]`, or every import answers `400 URI ... does not pass filtering`.
# `localhost` does not match `127.0.0.1` there. Imports are staged in node_staging_uri first. Debian's glance-api
# package brings only /etc files, dbconfig-common and an init script: the script writes the paste file itself and
# runs python3-glance's entry point (eventlet, workers = 0: one process, SQLite-safe), which writes its own pid.

GLANCE_BASE_PORT=19291                  # glance-N listens on 19291+N (19292-19294 for three clouds)
GLANCE_WEB_PORTS="19380 19381 19382 19383 19384"   # loopback ports web-download may fetch from

glance_dir() { echo "$STATE/glance/glance-$1"; }
glance_port() { echo $((GLANCE_BASE_PORT + $1)); }
glance_url() { echo "http://127.0.0.1:$(glance_port "$1")"; }

# glance_conf DIR CLOUD [DB]: glance-api.conf and its paste file.
glance_conf() {
  local d=$1 i=$2 db=${3:-$1/glance.sqlite} ports
  ports=$(echo "80 443 $GLANCE_WEB_PORTS" | tr ' ' ',')
  mkdir -p "$d/images" "$d/staging" "$d/lock" "$d/cache"
  cat >"$d/glance-api.conf" <<CONF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $(glance_port "$i")
workers = 0
log_file = $d/glance-api.log
node_staging_uri = file://$d/staging
image_cache_dir = $d/cache
enabled_import_methods = [glance-direct,web-download,copy-image]
hashing_algorithm = sha512
[database]
connection = sqlite:///$db
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = $d/images
[import_filtering_opts]
allowed_hosts = [127.0.0.1]
allowed_ports = [$ports]
[paste_deploy]
config_file = $d/glance-api-paste.ini
flavor = keystone
[oslo_concurrency]
lock_path = $d/lock
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
$(osapi_authtoken "$i")
CONF
  cat >"$d/glance-api-paste.ini" <<PASTE
[pipeline:glance-api-keystone]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation authtoken context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:healthcheck]
paste.filter_factory = oslo_middleware:Healthcheck.factory
backends = disable_by_file
disable_by_file_path = $d/healthcheck_disable
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = glance
oslo_config_program = glance-api
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory
PASTE
}

glance_manage() { # CONF ARGS...
  local conf=$1; shift
  $PY -c 'import sys; from glance.cmd.manage import main; sys.argv[0]="glance-manage"; sys.exit(main())' \
    --config-file "$conf" "$@"
}

# The schema, synced once per package version (~2 s) and copied per cloud.
glance_template_dir() { echo "$STATE/glance/.template-$(dpkg-query -W -f='${Version}' python3-glance | tr ':~+' '___')"; }
glance_template() {
  local t
  t=$(glance_template_dir)
  [[ -f $t/glance.sqlite ]] && return 0
  rm -rf "$t"; mkdir -p "$t"; glance_conf "$t" 1 "$t/glance.sqlite.tmp"
  log "glance: db_sync into the template database"
  glance_manage "$t/glance-api.conf" db_sync >"$t/sync.log" 2>&1 || { cat "$t/sync.log" >&2; die "glance db_sync failed"; }
  mv "$t/glance.sqlite.tmp" "$t/glance.sqlite"
}

glance_launch() {
  local i=$1 d port
  d=$(glance_dir "$i"); port=$(glance_port "$i")
  pid_alive "glance-$i" "$d/glance-api.conf" && return 0
  port_busy "$port" && die "port $port is busy but not ours (glance-$i)"
  mkdir -p "$d"; glance_conf "$d" "$i"
  if [[ ! -f $d/glance.sqlite ]]; then
    cp "$(glance_template_dir)/glance.sqlite" "$d/glance.sqlite"; osapi_wal "$d/glance.sqlite"
  fi
  rm -f "$PIDS/glance-$i.pid"
  # The process writes its own pid: `setsid CMD &` may fork when the caller has job control, and $! is then wrong.
  GLANCE_PIDFILE=$PIDS/glance-$i.pid setsid $PY -c 'import os, sys
open(os.environ["GLANCE_PIDFILE"], "w").write(str(os.getpid()))
from glance.cmd.api import main
sys.argv[0] = "glance-api"
sys.exit(main())' --config-file "$d/glance-api.conf" </dev/null >"$LOGS/glance-$i.log" 2>&1 &
  wait_for "glance-$i pid file" 10 test -s "$PIDS/glance-$i.pid" || die "glance-$i wrote no pid file"
}

glance_wait() {
  local i=$1 d
  d=$(glance_dir "$i")
  if ! wait_for "glance-$i" 120 curl -sf -o /dev/null "$(glance_url "$i")/healthcheck"; then
    log "ERROR: glance-$i not answering; last lines of $LOGS/glance-$i.log and $d/glance-api.log:"
    tail -n 15 "$LOGS/glance-$i.log" "$d/glance-api.log" >&2 2>/dev/null || true
    return 1
  fi
}

glance_register() {
  node "$ROOT/test/env/register-services.mjs" "$(ks_url "$1")" "$KEYSTONE_ADMIN_PASSWORD" "cloud-$1" \
    "image=glance=$(glance_url "$1")" || die "registering glance-$1 in keystone cloud-$1 failed"
}

# glances_up: every cloud's glance-api, launched together, then registered (idempotent).
glances_up() {
  local i rc=0
  glance_template
  for ((i = 1; i <= CLOUDS; i++)); do glance_launch "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do glance_wait "$i" || rc=1; done
  ((rc == 0)) || die "glance did not start (see above)"
  for ((i = 1; i <= CLOUDS; i++)); do glance_register "$i"; done
  log "glance up: $(for ((i = 1; i <= CLOUDS; i++)); do printf '%s ' "$(glance_url "$i")"; done)"
}
glance_up() { # one, after a failure test stopped it
  glance_template; glance_launch "$1"; glance_wait "$1" || die "glance-$1 did not start"; glance_register "$1"
  log "glance-$1 up"
}
# SIGTERM: eventlet's wsgi server closes its sockets and exits in 1-2 s (stop_pid escalates to KILL after 5 s).
glance_down() { stop_pid "glance-$1" "$(glance_dir "$1")/glance-api.conf"; }
glance_status() {
  if pid_alive "glance-$1" "$(glance_dir "$1")/glance-api.conf" && port_busy "$(glance_port "$1")"; then
    echo "glance-$1 UP pid=$(<"$PIDS/glance-$1.pid") $(glance_url "$1")"
  else echo "glance-$1 DOWN"; fi
}
