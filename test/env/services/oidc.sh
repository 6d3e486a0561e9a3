# oidc-provider (npm) as the upstream corporate SSO on https://127.0.0.1:$OIDC_PORT.
oidc_up() {
  pid_alive oidc "oidc/provider.mjs" && return 0
  port_busy "$OIDC_PORT" && die "port $OIDC_PORT is busy but not ours"
  [[ -d $ROOT/node_modules/oidc-provider ]] || die "oidc-provider is not installed: run npm ci first"
  rm -f "$STATE/oidc.json"
  (cd "$ROOT" && exec setsid node test/env/oidc/provider.mjs "$OIDC_PORT" "$STATE/ca/server.crt" "$STATE/ca/server.key" \
    "$STATE/oidc.json" >"$LOGS/oidc.log" 2>&1 </dev/null) &
  echo $! >"$PIDS/oidc.pid"
  wait_for oidc 20 test -f "$STATE/oidc.json" || die "oidc-provider did not start; see $LOGS/oidc.log"
  log "oidc-provider up on https://127.0.0.1:$OIDC_PORT"
}
oidc_down() { stop_pid oidc "oidc/provider.mjs"; }
oidc_status() { pid_alive oidc "oidc/provider.mjs" && echo "oidc UP pid=$(<"$PIDS/oidc.pid") https://127.0.0.1:$OIDC_PORT" || echo "oidc DOWN"; }
