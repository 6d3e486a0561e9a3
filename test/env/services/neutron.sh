# N neutron API servers (python3-neutron, Zed; the API half of neutron-server, as Debian's neutron-api runs it:
# no RPC workers) under uwsgi, one per cloud, ML2 with no mechanism drivers and no agents, the router service
# plugin loaded (so router and floatingip quotas exist), SQLite. Networks, subnets, security groups, routers and
# quotas work; ports stay DOWN. Registered as `network`.
#
# Where it bites: `neutron-db-manage upgrade heads` fails on SQLite (a Mitaka migration alters a constraint), so
# the template is built from the models (what neutron's own tests do) and stamped at heads.

NEUTRON_BASE_PORT=19695   # neutron-N listens on 19695+N

neutron_dir() { echo "$STATE/neutron/neutron-$1"; }
neutron_port() { echo $((NEUTRON_BASE_PORT + $1)); }
neutron_url() { echo "http://127.0.0.1:$(neutron_port "$1")"; }

# neutron_conf DIR CLOUD DB: neutron.conf, ml2_conf.ini, api-paste.ini (Debian's neutron-common one) and the WSGI
# file (neutron reads OS_NEUTRON_CONFIG_DIR / OS_NEUTRON_CONFIG_FILES itself).
neutron_conf() {
  local d=$1 i=$2 db=${3:-$1/neutron.sqlite}
  mkdir -p "$d/lock"
  cat >"$d/neutron.conf" <<CONF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = fake://
host = neutron-$i
state_path = $d
log_file = $d/neutron-api.log
api_paste_config = $d/api-paste.ini
# No agents and no nova: every notifier that would wait for them is off.
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
enable_traditional_dhcp = false
rpc_workers = 0
rpc_state_report_workers = 0
[database]
connection = sqlite:///$db
[oslo_concurrency]
lock_path = $d/lock
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
$(osapi_authtoken "$i")
CONF
  cat >"$d/ml2_conf.ini" <<'CONF'
[ml2]
type_drivers = local,flat,vlan
tenant_network_types = local
mechanism_drivers =
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:199
[securitygroup]
enable_security_group = true
CONF
  cat >"$d/api-paste.ini" <<'PASTE'
[composite:neutron]
use = egg:Paste#urlmap
/: neutronversions_composite
/v2.0: neutronapi_v2_0
[composite:neutronapi_v2_0]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi request_id catch_errors authtoken keystonecontext extensions neutronapiapp_v2_0
[composite:neutronversions_composite]
use = call:neutron.auth:pipeline_factory
keystone = cors http_proxy_to_wsgi neutronversions
[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
[filter:catch_errors]
paste.filter_factory = oslo_middleware:CatchErrors.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = neutron
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:keystonecontext]
paste.filter_factory = neutron.auth:NeutronKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:extensions]
paste.filter_factory = neutron.api.extensions:plugin_aware_extension_middleware_factory
[app:neutronversions]
paste.app_factory = neutron.pecan_wsgi.app:versions_factory
[app:neutronapiapp_v2_0]
paste.app_factory = neutron.api.v2.router:APIRouter.factory
PASTE
  cat >"$d/wsgi.py" <<PYW
import os, sys
os.environ['OS_NEUTRON_CONFIG_DIR'] = '$d'
os.environ['OS_NEUTRON_CONFIG_FILES'] = 'neutron.conf;ml2_conf.ini'
sys.argv = ['neutron-api']
from neutron.cmd.eventlet.server import main_api_eventlet
application = main_api_eventlet()
PYW
}

neutron_template_dir() { echo "$STATE/neutron/.template-$(dpkg-query -W -f='${Version}' python3-neutron | tr ':~+' '___')"; }
# The schema from the models, stamped at alembic heads (~5 s), once per package version; copied per cloud.
neutron_template() {
  local t
  t=$(neutron_template_dir)
  [[ -f $t/neutron.sqlite ]] && return 0
  rm -rf "$t"; mkdir -p "$t"; neutron_conf "$t" 1 "$t/neutron.sqlite.tmp"
  log "neutron: schema into the template database"
  { $PY -c 'import sys, sqlalchemy as sa
from neutron.db.migration.models import head
head.get_metadata().create_all(sa.create_engine("sqlite:///" + sys.argv[1]))' "$t/neutron.sqlite.tmp" &&
    $PY -c 'import sys; from neutron.db.migration.cli import main; sys.argv[0]="neutron-db-manage"; sys.exit(main())' \
      --config-file "$t/neutron.conf" --config-file "$t/ml2_conf.ini" stamp heads; } >"$t/sync.log" 2>&1 \
    || { cat "$t/sync.log" >&2; die "neutron template schema failed"; }
  mv "$t/neutron.sqlite.tmp" "$t/neutron.sqlite"
}

neutron_launch() {
  local i=$1 d
  d=$(neutron_dir "$i")
  pid_alive "neutron-$i" "$d/wsgi.py" && return 0
  mkdir -p "$d"; neutron_conf "$d" "$i"
  if [[ ! -f $d/neutron.sqlite ]]; then
    cp "$(neutron_template_dir)/neutron.sqlite" "$d/neutron.sqlite"; osapi_wal "$d/neutron.sqlite"
  fi
  osapi_launch "neutron-$i" "$(neutron_port "$i")" "$d/wsgi.py"
}
neutron_wait() { osapi_wait "neutron-$1" "$(neutron_port "$1")" "$(neutron_dir "$1")/wsgi.py" "$(neutron_dir "$1")/neutron-api.log"; }
neutron_up() { # one, after a failure test stopped it
  neutron_template; neutron_launch "$1"; neutron_wait "$1" || die "neutron-$1 did not start"; log "neutron-$1 up"
}
neutron_down() { osapi_stop "neutron-$1" "$(neutron_dir "$1")/wsgi.py"; }
neutron_status() {
  if pid_alive "neutron-$1" "$(neutron_dir "$1")/wsgi.py" && port_busy "$(neutron_port "$1")"; then
    echo "neutron-$1 UP pid=$(<"$PIDS/neutron-$1.pid") $(neutron_url "$1")"
  else echo "neutron-$1 DOWN"; fi
}
