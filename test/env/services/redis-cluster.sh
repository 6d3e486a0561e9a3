# A 3-master Redis Cluster (no replicas) on 127.0.0.1, for the store and the BullMQ queue on Cluster (issue 23).
# Sourced by testenv.sh; also runnable on its own, so a fault test can start a cluster of its own on other ports
# and kill one master (by the PID in its pid file):
#   ARCHWAY_TESTENV_DIR=DIR REDIS_CLUSTER_PORTS="p1 p2 p3" [REDIS_CLUSTER_NAME=name] [REDIS_CLUSTER_PERSIST=1] \
#     bash test/env/services/redis-cluster.sh up | down | status | start-node N
# State (one folder per node with its nodes.conf) under $STATE/<name>/, pid files $PIDS/<name>-N.pid.
REDIS_CLUSTER_PORTS=${REDIS_CLUSTER_PORTS:-"17001 17002 17003"}
REDIS_CLUSTER_NAME=${REDIS_CLUSTER_NAME:-redis-cluster}
# 2 s instead of Redis's 15 s: a lost master is noticed (cluster_state:fail) soon, and the cluster says ok soon
# after it is back.
REDIS_CLUSTER_NODE_TIMEOUT_MS=${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}

redis_cluster_ports() { read -r -a _rc_ports <<<"$REDIS_CLUSTER_PORTS"; }

# redis_cluster_node_start N: starts node N (1-based) with its folder and nodes.conf as they are.
redis_cluster_node_start() {
  local n=$1 port dir persist=(--appendonly no)
  redis_cluster_ports
  port=${_rc_ports[$((n - 1))]:?no port for node $n}
  dir=$STATE/$REDIS_CLUSTER_NAME/node-$n
  pid_alive "$REDIS_CLUSTER_NAME-$n" redis-server && return 0
  port_busy "$port" && die "port $port is busy but not ours"
  mkdir -p "$dir"
  [[ ${REDIS_CLUSTER_PERSIST:-0} == 1 ]] && persist=(--appendonly yes --appendfsync always)
  # Close every inherited descriptor above stderr first: a daemon started under `flock CMD` would otherwise hold
  # the integration lock for as long as it runs.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes --save "" "${persist[@]}" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT_MS" \
      --dir "$dir" --daemonize yes --pidfile "$PIDS/$REDIS_CLUSTER_NAME-$n.pid" \
      --logfile "$LOGS/$REDIS_CLUSTER_NAME-$n.log"
  )
  wait_for "$REDIS_CLUSTER_NAME-$n" 10 redis-cli -h 127.0.0.1 -p "$port" ping \
    || die "redis cluster node $n did not start; see $LOGS/$REDIS_CLUSTER_NAME-$n.log"
}

redis_cluster_ok() {
  redis_cluster_ports
  local p
  for p in "${_rc_ports[@]}"; do
    redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

redis_cluster_up() {
  local n i addrs=()
  redis_cluster_ports
  n=${#_rc_ports[@]}
  # Nodes that kept their nodes.conf find each other again: only a first start (or a broken state) creates.
  local known=1
  for ((i = 1; i <= n; i++)); do [[ -s $STATE/$REDIS_CLUSTER_NAME/node-$i/nodes.conf ]] || known=0; done
  for ((i = 1; i <= n; i++)); do redis_cluster_node_start "$i"; done
  if ((known)) && wait_for "$REDIS_CLUSTER_NAME state ok" 10 redis_cluster_ok; then
    log "$REDIS_CLUSTER_NAME up (kept state) on 127.0.0.1:${REDIS_CLUSTER_PORTS// /,}"
    return 0
  fi
  if ((known)); then
    log "$REDIS_CLUSTER_NAME: kept state did not form a cluster; starting afresh"
    redis_cluster_down
    rm -rf "${STATE:?}/$REDIS_CLUSTER_NAME"
    for ((i = 1; i <= n; i++)); do redis_cluster_node_start "$i"; done
  fi
  for ((i = 0; i < n; i++)); do addrs+=("127.0.0.1:${_rc_ports[$i]}"); done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes \
    >"$LOGS/$REDIS_CLUSTER_NAME-create.log" 2>&1 || die "redis-cli --cluster create failed; see $LOGS/$REDIS_CLUSTER_NAME-create.log"
  wait_for "$REDIS_CLUSTER_NAME state ok" 20 redis_cluster_ok || die "$REDIS_CLUSTER_NAME did not reach cluster_state:ok"
  log "$REDIS_CLUSTER_NAME up on 127.0.0.1:${REDIS_CLUSTER_PORTS// /,}"
}

redis_cluster_down() {
  local i
  redis_cluster_ports
  for ((i = 1; i <= ${#_rc_ports[@]}; i++)); do stop_pid "$REDIS_CLUSTER_NAME-$i" redis-server; done
}

redis_cluster_status() {
  local i up=0 pids=""
  redis_cluster_ports
  for ((i = 1; i <= ${#_rc_ports[@]}; i++)); do
    if pid_alive "$REDIS_CLUSTER_NAME-$i" redis-server; then up=$((up + 1)); pids+="${pids:+,}$(<"$PIDS/$REDIS_CLUSTER_NAME-$i.pid")"; fi
  done
  if ((up == ${#_rc_ports[@]})) && redis_cluster_ok; then
    echo "$REDIS_CLUSTER_NAME UP pids=$pids 127.0.0.1:${REDIS_CLUSTER_PORTS// /,} cluster_state:ok"
  else
    echo "$REDIS_CLUSTER_NAME DOWN ($up of ${#_rc_ports[@]} nodes running)"
  fi
}

# Run on its own (not sourced by testenv.sh).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
  case ${1:-} in
    up) redis_cluster_up ;;
    down) redis_cluster_down ;;
    status) redis_cluster_status ;;
    start-node) redis_cluster_node_start "${2:?node number}" ;;
    *) sed -n '2,6p' "$0" >&2; exit 2 ;;
  esac
fi
