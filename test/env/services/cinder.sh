# N cinder-api (python3-cinder, Zed) under uwsgi, one per cloud, SQLite, no volume backend and no scheduler:
# quotas (limits and usage) and the API answer; a volume created stays `creating` for ever (its cast goes to
# oslo.messaging's fake driver) but it counts against the quota. Registered as volumev3 / block-storage.

CINDER_BASE_PORT=18875    # cinder-N listens on 18875+N

cinder_dir() { echo "$STATE/cinder/cinder-$1"; }
cinder_port() { echo $((CINDER_BASE_PORT + $1)); }
cinder_base() { echo "http://127.0.0.1:$(cinder_port "$1")"; }

# cinder_conf DIR CLOUD: cinder.conf, api-paste.ini (Debian's cinder-common one), resource_filters.json and the
# WSGI file (oslo.config has no OS_CINDER_CONFIG_DIR: the file sets sys.argv before the app is built).
cinder_conf() {
  local d=$1 i=$2
  mkdir -p "$d/lock"
  cat >"$d/cinder.conf" <<CONF
[DEFAULT]
auth_strategy = keystone
transport_url = fake://
state_path = $d
log_file = $d/cinder-api.log
api_paste_config = $d/api-paste.ini
resource_query_filters_file = $d/resource_filters.json
host = cinder-$i
my_ip = 127.0.0.1
enabled_backends =
[database]
connection = sqlite:///$d/cinder.sqlite
[oslo_concurrency]
lock_path = $d/lock
[coordination]
backend_url = file://$d/lock
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
$(osapi_authtoken "$i")
CONF
  cat >"$d/api-paste.ini" <<'PASTE'
[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: apiversions
/v3: openstack_volume_api_v3
[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
keystone = request_id cors http_proxy_to_wsgi faultwrap sizelimit authtoken keystonecontext apiv3
[filter:request_id]
paste.filter_factory = cinder.api.middleware.request_id:RequestId.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cinder
[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory
[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory
[pipeline:apiversions]
pipeline = request_id cors http_proxy_to_wsgi faultwrap osvolumeversionapp
[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory
PASTE
  # Without it every list call logs an ERROR (and still answers).
  cat >"$d/resource_filters.json" <<'JSON'
{"volume": ["name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size",
            "created_at", "updated_at", "consumes_quota"],
 "backup": ["name", "status", "volume_id"],
 "snapshot": ["name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"],
 "group": ["name"], "group_snapshot": ["name", "status", "group_id"],
 "attachment": ["volume_id", "status", "instance_id", "attach_status"],
 "message": ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
 "pool": ["name", "volume_type"], "volume_type": ["is_public", "extra_specs"]}
JSON
  cat >"$d/wsgi.py" <<PYW
import sys
sys.argv = ['cinder-api', '--config-file', '$d/cinder.conf']
from cinder.wsgi.wsgi import initialize_application
application = initialize_application()
PYW
}

# The schema, synced once per package version (~4 s) and copied per cloud.
cinder_template_dir() { echo "$STATE/cinder/.template-$(dpkg-query -W -f='${Version}' python3-cinder | tr ':~+' '___')"; }
cinder_template() {
  local t
  t=$(cinder_template_dir)
  [[ -f $t/cinder.sqlite ]] && return 0
  rm -rf "$t"; cinder_conf "$t" 1
  sed -i "s|sqlite:///$t/cinder.sqlite|sqlite:///$t/cinder.sqlite.tmp|" "$t/cinder.conf"
  log "cinder: db sync into the template database"
  $PY -c 'import sys; from cinder.cmd.manage import main; sys.argv[0]="cinder-manage"; sys.exit(main())' \
    --config-file "$t/cinder.conf" db sync >"$t/sync.log" 2>&1 || { cat "$t/sync.log" >&2; die "cinder db sync failed"; }
  mv "$t/cinder.sqlite.tmp" "$t/cinder.sqlite"
}

cinder_launch() {
  local i=$1 d t
  d=$(cinder_dir "$i")
  pid_alive "cinder-$i" "$d/wsgi.py" && return 0
  mkdir -p "$d"; cinder_conf "$d" "$i"
  if [[ ! -f $d/cinder.sqlite ]]; then
    t=$(cinder_template_dir)
    cp "$t/cinder.sqlite" "$d/cinder.sqlite"; osapi_wal "$d/cinder.sqlite"
  fi
  osapi_launch "cinder-$i" "$(cinder_port "$i")" "$d/wsgi.py"
}
cinder_wait() { osapi_wait "cinder-$1" "$(cinder_port "$1")" "$(cinder_dir "$1")/wsgi.py" "$(cinder_dir "$1")/cinder-api.log"; }
cinder_up() { # one, after a failure test stopped it
  cinder_template; cinder_launch "$1"; cinder_wait "$1" || die "cinder-$1 did not start"; log "cinder-$1 up"
}
cinder_down() { osapi_stop "cinder-$1" "$(cinder_dir "$1")/wsgi.py"; }
cinder_status() {
  if pid_alive "cinder-$1" "$(cinder_dir "$1")/wsgi.py" && port_busy "$(cinder_port "$1")"; then
    echo "cinder-$1 UP pid=$(<"$PIDS/cinder-$1.pid") $(cinder_base "$1")/v3"
  else echo "cinder-$1 DOWN"; fi
}
