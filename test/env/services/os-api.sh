# What cinder.sh and neutron.sh share: an OpenStack API under uwsgi (one process, one thread: SQLite), validating
# tokens against its cloud's Keystone as that cloud's admin, started with retries and a clear log on failure.
#
# Where it bites (measured here, see ../shared recipes): Debian's python3-cinder / python3-neutron ship no
# api-paste.ini, no WSGI entry files and no *-manage scripts (those are in cinder-common / neutron-common, which
# pull in dbconfig-common and init scripts), so the services write their own and call the Python entry points;
# no RabbitMQ: `transport_url = fake://` (oslo.messaging's in-process driver) swallows every cast.

# osapi_authtoken CLOUD: the [keystone_authtoken] section of a service of cloud N (the cloud's admin validates).
osapi_authtoken() {
  cat <<CONF
[keystone_authtoken]
www_authenticate_uri = $(ks_url "$1")
auth_url = $(ks_url "$1")
auth_type = password
username = admin
password = $KEYSTONE_ADMIN_PASSWORD
project_name = admin
user_domain_name = Default
project_domain_name = Default
CONF
}

# osapi_wal DB...: WAL, or a read cursor left open makes the next write fail with "database is locked".
osapi_wal() {
  $PY -c 'import sqlite3,sys
for f in sys.argv[1:]: sqlite3.connect(f).execute("PRAGMA journal_mode=WAL").fetchone()' "$@"
}

# osapi_launch NAME PORT WSGI_FILE: one uwsgi process serving WSGI_FILE on 127.0.0.1:PORT, pid in $PIDS/NAME.pid.
osapi_launch() {
  local name=$1 port=$2 wsgi=$3
  pid_alive "$name" "$wsgi" && return 0
  port_busy "$port" && die "port $port is busy but not ours ($name)"
  # "Connection: close": uwsgi's http-socket drops idle keep-alive connections without telling the client.
  setsid /usr/bin/uwsgi --plugin python3 --http-socket "127.0.0.1:$port" --add-header "Connection: close" \
    --wsgi-file "$wsgi" --master --processes 1 --threads 1 --lazy-apps --die-on-term --need-app \
    --disable-logging --buffer-size 65535 --skip-atexit-teardown --worker-reload-mercy 2 \
    --logto "$LOGS/$name.log" </dev/null >/dev/null 2>&1 &
  echo $! >"$PIDS/$name.pid"
}

# osapi_wait NAME PORT WSGI_FILE APP_LOG: until GET / answers; a process that dies is launched again (twice at
# most: a first start can lose a race for its SQLite file); on failure the tails of both logs go to stderr.
osapi_wait() {
  local name=$1 port=$2 wsgi=$3 app_log=$4 tries=0 deadline
  deadline=$((SECONDS + 120))
  until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/") =~ ^(200|300)$ ]]; do
    if ! pid_alive "$name" "$wsgi"; then
      if ((++tries > 2)); then osapi_failed "$name" "$app_log" "died three times"; return 1; fi
      log "$name exited during start; launching it again (attempt $((tries + 1)))"
      osapi_launch "$name" "$port" "$wsgi"
    fi
    if ((SECONDS >= deadline)); then osapi_failed "$name" "$app_log" "not answering after 120 s"; return 1; fi
    sleep 0.2
  done
}

osapi_failed() { # NAME APP_LOG WHY
  log "ERROR: $1 $3; last lines of $LOGS/$1.log and $2:"
  tail -n 15 "$LOGS/$1.log" >&2 2>/dev/null || true
  tail -n 15 "$2" >&2 2>/dev/null || true
}

# osapi_stop NAME WSGI_FILE: uwsgi stops at once on SIGINT (SIGTERM is a graceful reload that takes seconds).
osapi_stop() {
  local name=$1 wsgi=$2 pid
  if pid_alive "$name" "$wsgi"; then
    pid=$(<"$PIDS/$name.pid"); kill -INT "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
    log "$name stopped (pid $pid)"
  fi
  rm -f "$PIDS/$name.pid"
}

# volume_network_launch: every cloud's cinder-api and neutron API, their databases copied from templates built
# once per package version (cinder and neutron templates in parallel). Only launches: the APIs reach Keystone at
# their first request, so this may run in the background while nova starts; volume_network_wait finishes the job.
# A marker file (not a variable: the caller may run this in a subshell) says whether anything was launched.
volume_network_launch() {
  local i need=0 pids=() p
  for ((i = 1; i <= CLOUDS; i++)); do
    pid_alive "cinder-$i" "$(cinder_dir "$i")/wsgi.py" || need=1
    pid_alive "neutron-$i" "$(neutron_dir "$i")/wsgi.py" || need=1
  done
  rm -f "$STATE/.volume-network-launched"
  ((need)) || return 0
  cinder_template & pids+=($!)
  neutron_template & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || die "building the cinder/neutron template databases failed"; done
  for ((i = 1; i <= CLOUDS; i++)); do cinder_launch "$i"; neutron_launch "$i"; done
  touch "$STATE/.volume-network-launched"
}

# volume_network_wait: waits for every cloud's cinder and neutron, then registers them in that cloud's catalog
# (skipped when all were already running: the registration is kept in each Keystone's database).
volume_network_wait() {
  local i rc=0
  [[ -f $STATE/.volume-network-launched ]] || return 0
  for ((i = 1; i <= CLOUDS; i++)); do cinder_wait "$i" || rc=1; neutron_wait "$i" || rc=1; done
  ((rc == 0)) || die "cinder/neutron did not start (see above)"
  for ((i = 1; i <= CLOUDS; i++)); do volume_network_register "$i"; done
  rm -f "$STATE/.volume-network-launched"
  log "cinder + neutron up: $(for ((i = 1; i <= CLOUDS; i++)); do printf '%s %s ' "$(cinder_base "$i")" "$(neutron_url "$i")"; done)"
}

# volume_network_register N: volumev3 and block-storage (keystoneauth treats them as aliases; the openstack CLI
# asks for either) and network, in cloud N's catalog. Idempotent.
volume_network_register() {
  local i=$1
  node "$ROOT/test/env/register-services.mjs" "$(ks_url "$i")" "$KEYSTONE_ADMIN_PASSWORD" "cloud-$i" \
    "volumev3=cinderv3=$(cinder_base "$i")/v3/%(project_id)s" \
    "block-storage=cinder=$(cinder_base "$i")/v3/%(project_id)s" \
    "network=neutron=$(neutron_url "$i")" \
    || die "registering cinder-$i and neutron-$i in keystone cloud-$i failed"
}
