# N nova-api (python3-nova, Zed) serving os-keypairs, SQLite, validating tokens against cloud N's Keystone, each
# registered in that Keystone's catalog as `compute`. Only the API process runs (no conductor, no rabbit).

nova_dir() { echo "$STATE/nova/nova-$1"; }
nova_port() { echo $((NOVA_BASE_PORT + $1)); }
nova_url() { echo "http://127.0.0.1:$(nova_port "$1")/v2.1"; }

nova_manage() { # conf args...
  local conf=$1; shift
  $PY -c 'import sys; from nova.cmd.manage import main; sys.argv[0]="nova-manage"; sys.exit(main())' --config-file "$conf" "$@"
}

nova_paste() { # python3-nova ships no api-paste.ini (it is in nova-common): write the keypair-capable pipeline.
  cat >"$1/api-paste.ini" <<'PASTE'
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21
[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = cors http_proxy_to_wsgi compute_req_id faultwrap request_log sizelimit authtoken keystonecontext osapi_compute_app_v21
[filter:request_log]
paste.filter_factory = nova.api.openstack.requestlog:RequestLog.factory
[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = nova
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = cors faultwrap request_log http_proxy_to_wsgi oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = cors compute_req_id faultwrap request_log http_proxy_to_wsgi oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
PASTE
}

nova_conf() { # dir cloud-number
  local d=$1 i=$2
  cat >"$d/nova.conf" <<CONF
[DEFAULT]
host = nova-$i
state_path = $d
use_stderr = true
debug = false
# Never contacted by keypair calls; a dead port keeps anything else from reaching a real broker.
transport_url = rabbit://guest:guest@127.0.0.1:1/
[api]
auth_strategy = keystone
[api_database]
connection = sqlite:///$d/nova_api.sqlite
[database]
connection = sqlite:///$d/nova.sqlite
[oslo_concurrency]
lock_path = $d/lock
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
[wsgi]
api_paste_config = $d/api-paste.ini
[quota]
key_pairs = -1
[keystone_authtoken]
www_authenticate_uri = $(ks_url "$i")
auth_url = $(ks_url "$i")
auth_type = password
username = admin
password = $KEYSTONE_ADMIN_PASSWORD
project_name = admin
user_domain_name = Default
project_domain_name = Default
CONF
}

nova_template() {
  local t=$STATE/nova/.template
  [[ -f $t/.done ]] && return 0
  rm -rf "$t"; mkdir -p "$t/lock"
  nova_conf "$t" 1
  log "nova: syncing the template databases"
  nova_manage "$t/nova.conf" api_db sync >"$t/sync.log" 2>&1 || die "nova api_db sync failed; see $t/sync.log"
  nova_manage "$t/nova.conf" db sync >>"$t/sync.log" 2>&1 || die "nova db sync failed; see $t/sync.log"
  touch "$t/.done"
}

nova_launch() {
  local i=$1 d port
  d=$(nova_dir "$i"); port=$(nova_port "$i")
  pid_alive "nova-$i" "$d/serve.py" && return 0
  port_busy "$port" && die "port $port is busy but not ours"
  if [[ ! -f $d/nova_api.sqlite ]]; then
    mkdir -p "$d/lock"
    cp "$STATE/nova/.template/nova_api.sqlite" "$STATE/nova/.template/nova.sqlite" "$d/"
    $PY -c 'import sqlite3,sys
for f in sys.argv[1:]: sqlite3.connect(f).execute("PRAGMA journal_mode=WAL").fetchone()' "$d/nova_api.sqlite" "$d/nova.sqlite"
  fi
  nova_conf "$d" "$i"; nova_paste "$d"
  cp "$ROOT/test/env/nova-serve.py" "$d/serve.py"
  rm -f "$d/ready"
  OS_NOVA_CONFIG_DIR=$d READY_FILE=$d/ready setsid $PY "$d/serve.py" 127.0.0.1 "$port" >"$LOGS/nova-$i.log" 2>&1 </dev/null &
  echo $! >"$PIDS/nova-$i.pid"
}

nova_wait() {
  local i=$1
  wait_for "nova-$i" 120 test -f "$(nova_dir "$i")/ready" || die "nova-$i not ready; see $LOGS/nova-$i.log"
  wait_for "nova-$i" 30 curl -sf -o /dev/null "http://127.0.0.1:$(nova_port "$i")/" || die "nova-$i not answering"
}

novas_up() {
  local i need=0
  for ((i = 1; i <= CLOUDS; i++)); do pid_alive "nova-$i" "$(nova_dir "$i")/serve.py" || need=1; done
  ((need)) || return 0
  mkdir -p "$STATE/nova"
  nova_template
  for ((i = 1; i <= CLOUDS; i++)); do nova_launch "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do nova_wait "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do
    node "$ROOT/test/env/register-services.mjs" "$(ks_url "$i")" "$KEYSTONE_ADMIN_PASSWORD" "cloud-$i" "compute=nova=$(nova_url "$i")" \
      || die "registering nova-$i in keystone cloud-$i failed"
  done
  log "novas up: $(for ((i = 1; i <= CLOUDS; i++)); do printf '%s ' "$(nova_url "$i")"; done)"
}
nova_up() { nova_launch "$1"; nova_wait "$1"; log "nova-$1 up"; }
nova_down() { stop_pid "nova-$1" "$(nova_dir "$1")/serve.py"; }
nova_status() {
  pid_alive "nova-$1" "$(nova_dir "$1")/serve.py" && echo "nova-$1 UP pid=$(<"$PIDS/nova-$1.pid") $(nova_url "$1")" || echo "nova-$1 DOWN"
}
