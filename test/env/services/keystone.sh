# N independent Keystones (python3-keystone, Zed) under uwsgi, one SQLite database each: the clouds.
# Schema is db_synced once into a template and copied (8 s saved per instance); fernet keys are made in bash.

ks_dir() { echo "$STATE/keystone/cloud-$1"; }
ks_port() { echo $((KEYSTONE_BASE_PORT + $1)); }
ks_url() { echo "http://127.0.0.1:$(ks_port "$1")/v3"; }

# keystone-manage prints a harmless eventlet traceback at exit; keep real errors, drop that noise.
km() { /usr/bin/keystone-manage "$@" 2> >(grep -v -E 'getcurrent|_removeHandlerRef|^Exception ignored|^Traceback|^  File|^    |^TypeError' >&2); }

# keystone_conf DIR [EXTRA]: the keystone.conf every test Keystone shares, plus EXTRA sections (federation).
keystone_conf() {
  local d=$1
  cat >"$d/keystone.conf" <<CONF
[DEFAULT]
log_file = $d/keystone.log
[database]
connection = sqlite:///$d/keystone.db
# Enforce foreign keys as MySQL would: without them, deleting an application credential leaves its role rows, and
# SQLite hands the next credential the same internal id (409 "Duplicate entry").
sqlite_fk = true
[token]
provider = fernet
expiration = 3600
[fernet_tokens]
key_repository = $d/fernet-keys
max_active_keys = 3
[fernet_receipts]
key_repository = $d/fernet-keys
[credential]
key_repository = $d/credential-keys
[identity]
# bcrypt 12 costs ~230 ms a login; tests need many.
password_hash_rounds = 4
[cache]
# Without it every token validation runs ~160 SQL queries. Coherent because each Keystone is one process.
enabled = true
backend = dogpile.cache.memory
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
CONF
  [[ -z ${2:-} ]] || printf '%s\n' "$2" >>"$d/keystone.conf"
}
ks_conf() { keystone_conf "$(ks_dir "$1")"; }

ks_template() {
  local t=$STATE/keystone/.template
  if [[ ! -f $t/keystone.db ]]; then
    mkdir -p "$t"
    printf '[database]\nconnection = sqlite:///%s/keystone.db.tmp\n[DEFAULT]\nlog_file = %s/db_sync.log\n' "$t" "$t" >"$t/keystone.conf"
    log "keystone: db_sync into the template database"
    km --config-file "$t/keystone.conf" db_sync || die "keystone db_sync failed; see $t/db_sync.log"
    ks_cascade "$t/keystone.db.tmp"
    mv "$t/keystone.db.tmp" "$t/keystone.db"
  fi
  echo "$t/keystone.db"
}

# ks_cascade DB: deleting an application credential deletes its role and access-rule rows, whatever the connection's
# foreign-key setting. sqlite_fk alone still left orphans on these machines; SQLite then hands the next credential
# the same internal id and Keystone answers 409 "Duplicate entry". Idempotent: also clears orphans already there.
ks_cascade() {
  /usr/bin/python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=30)
db.executescript("""
CREATE TRIGGER IF NOT EXISTS archway_test_appcred_cascade AFTER DELETE ON application_credential BEGIN
  DELETE FROM application_credential_role WHERE application_credential_id = OLD.internal_id;
  DELETE FROM application_credential_access_rule WHERE application_credential_id = OLD.internal_id;
END;
DELETE FROM application_credential_role WHERE application_credential_id NOT IN (SELECT internal_id FROM application_credential);
DELETE FROM application_credential_access_rule WHERE application_credential_id NOT IN (SELECT internal_id FROM application_credential);
""")
db.commit()
PY
}

fernet_key() { head -c 32 /dev/urandom | base64 | tr '+/' '-_'; }

# keystone_setup DIR URL REGION TEMPLATE CONF_FN ARG: a Keystone's folder, config (CONF_FN ARG), database from the
# template, keys and bootstrap; idempotent (a bootstrapped one only gets its config rewritten).
keystone_setup() {
  local d=$1 url=$2 region=$3 template=$4 conf=$5 arg=$6 k
  if [[ -f $d/.bootstrapped ]]; then "$conf" "$arg"; ks_cascade "$d/keystone.db"; return 0; fi
  rm -rf "$d"; mkdir -p "$d/fernet-keys" "$d/credential-keys"
  chmod 700 "$d/fernet-keys" "$d/credential-keys"
  "$conf" "$arg"
  cp "$template" "$d/keystone.db"
  for k in fernet-keys credential-keys; do (umask 077; fernet_key >"$d/$k/0"; fernet_key >"$d/$k/1"); done
  km --config-file "$d/keystone.conf" bootstrap --bootstrap-username admin \
    --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id "$region" \
    --bootstrap-admin-url "$url" --bootstrap-internal-url "$url" --bootstrap-public-url "$url" \
    || die "keystone bootstrap of $region failed; see $d/keystone.log"
  # WAL: otherwise a leaked read cursor makes the next write fail with "database is locked".
  $PY -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()' "$d/keystone.db"
  touch "$d/.bootstrapped"
}
ks_setup() { keystone_setup "$(ks_dir "$1")" "$(ks_url "$1")" "cloud-$1" "$2" ks_conf "$1"; } # $1 = number, $2 = template

ks_launch() {
  local i=$1 d port
  d=$(ks_dir "$i"); port=$(ks_port "$i")
  pid_alive "keystone-$i" "127.0.0.1:$port" && return 0
  port_busy "$port" && die "port $port is busy but not ours"
  # One process, one thread: SQLite. "Connection: close" because uwsgi's http-socket drops idle keep-alive
  # connections without telling the client.
  OS_KEYSTONE_CONFIG_DIR=$d setsid /usr/bin/uwsgi --plugin python3 --http-socket "127.0.0.1:$port" \
    --add-header "Connection: close" --wsgi-file /usr/bin/keystone-wsgi-public --master --processes 1 \
    --threads 1 --lazy-apps --die-on-term --need-app --disable-logging --buffer-size 65535 \
    --skip-atexit-teardown --worker-reload-mercy 2 --logto "$LOGS/keystone-$i.log" </dev/null >/dev/null 2>&1 &
  echo $! >"$PIDS/keystone-$i.pid"
}

ks_wait() {
  wait_for "keystone-$1" 90 curl -sf -o /dev/null "$(ks_url "$1")" || die "keystone cloud-$1 not ready; see $LOGS/keystone-$1.log"
}

keystones_up() {
  local i template pids=()
  local need=0
  for ((i = 1; i <= CLOUDS; i++)); do pid_alive "keystone-$i" "127.0.0.1:$(ks_port "$i")" || need=1; done
  ((need)) || return 0
  mkdir -p "$STATE/keystone"
  template=$(ks_template)
  for ((i = 1; i <= CLOUDS; i++)); do ks_setup "$i" "$template" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || die "keystone setup failed"; done
  for ((i = 1; i <= CLOUDS; i++)); do ks_launch "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do ks_wait "$i"; done
  log "keystones up: $(for ((i = 1; i <= CLOUDS; i++)); do printf '%s ' "$(ks_url "$i")"; done)"
}
keystone_up() { # one, after a failure test stopped it
  local i=$1
  ks_launch "$i"; ks_wait "$i"; log "keystone cloud-$i up"
}
# uwsgi stops at once on SIGINT (SIGTERM takes seconds).
keystone_down() {
  local i=$1 pid
  if pid_alive "keystone-$i" "127.0.0.1:$(ks_port "$i")"; then
    pid=$(<"$PIDS/keystone-$i.pid"); kill -INT "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
    log "keystone cloud-$i stopped (pid $pid)"
  fi
  rm -f "$PIDS/keystone-$i.pid"
}
keystone_status() {
  local i=$1
  if pid_alive "keystone-$i" "127.0.0.1:$(ks_port "$i")" && curl -sf -o /dev/null "$(ks_url "$i")"; then
    echo "keystone-$i UP pid=$(<"$PIDS/keystone-$i.pid") $(ks_url "$i")"
  else echo "keystone-$i DOWN"; fi
}

# An admin token for cloud N (used to register Nova in the catalog).
ks_admin_token() {
  curl -sf -D - -o /dev/null -H 'Content-Type: application/json' "$(ks_url "$1")/auth/tokens" -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"},\"password\":\"$KEYSTONE_ADMIN_PASSWORD\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"id\":\"default\"}}}}}" \
    | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r'
}
