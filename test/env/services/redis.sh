# redis-server on 127.0.0.1:$REDIS_PORT, no persistence.
redis_up() {
  if pid_alive redis redis-server; then return 0; fi
  port_busy "$REDIS_PORT" && die "port $REDIS_PORT is busy but not ours"
  mkdir -p "$STATE/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes --save "" --appendonly no \
    --dir "$STATE/redis" --daemonize yes --pidfile "$PIDS/redis.pid" --logfile "$LOGS/redis.log"
  wait_for redis 10 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping || die "redis did not start; see $LOGS/redis.log"
  log "redis up on 127.0.0.1:$REDIS_PORT"
}
redis_down() { stop_pid redis redis-server; }
redis_status() { pid_alive redis redis-server && echo "redis UP pid=$(<"$PIDS/redis.pid") redis://127.0.0.1:$REDIS_PORT" || echo "redis DOWN"; }
