# Shared helpers for the test environment scripts (sourced, not run).
# Every server runs on 127.0.0.1, keeps its state under $STATE, and is tracked by its own PID file.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${ARCHWAY_TESTENV_DIR:-$ROOT/.testenv}
PIDS=$STATE/pids
LOGS=$STATE/logs
PY=/usr/bin/python3   # Debian's OpenStack packages live there; a pyenv python3 earlier on PATH lacks them
mkdir -p "$PIDS" "$LOGS"

log() { printf '[testenv %(%T)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid_alive NAME [PATTERN]: true when NAME's pid file names a live process whose command line matches PATTERN
# (so a recycled PID is never mistaken for ours).
pid_alive() {
  local pf=$PIDS/$1.pid pid
  [[ -f $pf ]] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ -z ${2:-} ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# stop_pid NAME [PATTERN]: TERM then KILL the process in NAME's pid file, only if it is ours.
stop_pid() {
  local name=$1 pattern=${2:-} pid
  if pid_alive "$name" "$pattern"; then
    pid=$(<"$PIDS/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    log "$name stopped (pid $pid)"
  fi
  rm -f "$PIDS/$name.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: retry COMMAND until it succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Ports (fixed so that tests, docs and the openstack CLI agree; all loopback).
REDIS_PORT=16379
LDAP_PORT=13389
LDAPS_PORT=13636
KEYSTONE_BASE_PORT=15000   # cloud-N listens on 15000+N
NOVA_BASE_PORT=18773       # nova-N listens on 18773+N
OIDC_PORT=15443
CLOUDS=3
KEYSTONE_ADMIN_PASSWORD=admin-secret
