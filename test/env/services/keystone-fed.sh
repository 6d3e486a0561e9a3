# Federated clouds: two more Keystones (fed-1, fed-2) under one Apache (mod_wsgi, one daemon process each), with
# mod_auth_openidc as an OAuth 2.0 resource server that checks Bearer JWTs against Archway's JWKS. Archway itself
# is started by the tests, on https://127.0.0.1:$ARCHWAY_IDP_PORT with the test CA's server certificate; Apache
# fetches its keys lazily, at the first federated login, so Archway need not run when this starts.
#
# Where it bites (see ../shared recipes): mod_auth_openidc only takes an https JWKS URL and checks signature and
# expiry, not iss or aud (the mapping rules do); claims pass as environment with ';' joining arrays; Keystone reads
# its config from the process environment, so each cloud gets a tiny WSGI file; SQLite means one thread each.

FED_CLOUDS=2
FED_BASE_PORT=15010       # fed-N listens on 15010+N
ARCHWAY_IDP_PORT=18443    # where the federation tests run Archway as the identity provider

# Apache's daemons run as www-data, which must reach every file they use: a checkout under /root (mode 700) would
# hide .testenv from them, so the federated clouds keep their state under /tmp, one folder per checkout.
FED_ROOT=${ARCHWAY_FED_DIR:-/tmp/archway-fed-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)}
fed_dir() { echo "$FED_ROOT/fed-$1"; }
fed_port() { echo $((FED_BASE_PORT + $1)); }
fed_url() { echo "http://127.0.0.1:$(fed_port "$1")/v3"; }
fed_apache_dir() { echo "$FED_ROOT/apache"; }

fed_conf() {
  local d; d=$(fed_dir "$1")
  keystone_conf "$d" "[auth]
methods = password,token,openid,mapped,application_credential
[federation]
trusted_dashboard = http://127.0.0.1:$(fed_port "$1")/dashboard/auth/websso/
[openid]
# mod_auth_openidc passes claims as environment variables prefixed OIDC_CLAIM_.
remote_id_attribute = OIDC_CLAIM_iss"
  cat >"$d/keystone.wsgi" <<WSGI
import os
os.environ['OS_KEYSTONE_CONFIG_DIR'] = '$d'
os.environ['OS_KEYSTONE_CONFIG_FILES'] = 'keystone.conf'
from keystone.server.wsgi import initialize_public_application
application = initialize_public_application()
WSGI
}

fed_setup() { keystone_setup "$(fed_dir "$1")" "$(fed_url "$1")" "fed-$1" "$2" fed_conf "$1"; } # $1 = number, $2 = template

fed_apache_conf() {
  local a i d port
  a=$(fed_apache_dir)
  mkdir -p "$a/run" "$a/logs"
  {
    cat <<CONF
ServerRoot "$a"
ServerName 127.0.0.1
PidFile $a/run/httpd.pid
DefaultRuntimeDir $a/run
Mutex file:$a/run default
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule auth_openidc_module /usr/lib/apache2/modules/mod_auth_openidc.so
LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so
ErrorLog $a/logs/error.log
LogLevel warn auth_openidc:info
LogFormat "%h %u %t \"%r\" %>s %b %Dus" timed
CustomLog $a/logs/access.log timed
StartServers 1
ServerLimit 2
ThreadsPerChild 10
MaxRequestWorkers 20
WSGIApplicationGroup %{GLOBAL}
WSGIPassAuthorization On

OIDCOAuthVerifyJwksUri https://127.0.0.1:$ARCHWAY_IDP_PORT/.well-known/jwks.json
OIDCCABundlePath $FED_ROOT/ca.crt
OIDCOAuthRemoteUserClaim sub
OIDCClaimPrefix OIDC_CLAIM_
OIDCClaimDelimiter ;
OIDCPassClaimsAs environment
OIDCCryptoPassphrase test-only-passphrase
CONF
    for ((i = 1; i <= FED_CLOUDS; i++)); do
      d=$(fed_dir "$i"); port=$(fed_port "$i")
      cat <<CONF

Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
  WSGIDaemonProcess fed-$i processes=1 threads=1 user=www-data group=www-data display-name=%{GROUP} home=$d
  WSGIProcessGroup fed-$i
  WSGIScriptAlias / $d/keystone.wsgi
  <Directory $d>
    Require all granted
  </Directory>
  <Location />
    Require all granted
  </Location>
  <Location ~ "^/v3/OS-FEDERATION/identity_providers/[^/]+/protocols/openid/auth$">
    AuthType oauth20
    Require valid-user
  </Location>
</VirtualHost>
CONF
    done
  } >"$a/httpd.conf"
}

fed_alive() {
  local a pid
  a=$(fed_apache_dir)
  [[ -f $a/run/httpd.pid ]] || return 1
  pid=$(<"$a/run/httpd.pid")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q apache2
}

keystone_fed_up() {
  local i template pids=()
  if fed_alive; then return 0; fi
  for ((i = 1; i <= FED_CLOUDS; i++)); do port_busy "$(fed_port "$i")" && die "port $(fed_port "$i") is busy but not ours"; done
  mkdir -p "$STATE/keystone" "$FED_ROOT"
  chmod 755 "$FED_ROOT"
  cp "$STATE/ca/ca.crt" "$FED_ROOT/ca.crt"
  template=$(ks_template)
  for ((i = 1; i <= FED_CLOUDS; i++)); do fed_setup "$i" "$template" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || die "federated keystone setup failed"; done
  # Apache's daemons run as www-data: they write the databases and read the keys and the CA.
  chown -R www-data:www-data "$FED_ROOT"
  fed_apache_conf
  /usr/sbin/apache2 -f "$(fed_apache_dir)/httpd.conf" -t >"$LOGS/apache-fed-configtest.log" 2>&1 \
    || die "apache config test failed; see $LOGS/apache-fed-configtest.log"
  /usr/sbin/apache2 -f "$(fed_apache_dir)/httpd.conf" -k start || die "apache did not start; see $(fed_apache_dir)/logs/error.log"
  for ((i = 1; i <= FED_CLOUDS; i++)); do
    wait_for "fed-$i" 90 curl -sf -o /dev/null "$(fed_url "$i")" || die "keystone fed-$i not ready; see $(fed_dir "$i")/keystone.log"
  done
  log "federated keystones up: $(for ((i = 1; i <= FED_CLOUDS; i++)); do printf '%s ' "$(fed_url "$i")"; done)"
}

keystone_fed_down() {
  local a pid
  a=$(fed_apache_dir)
  fed_alive || return 0
  pid=$(<"$a/run/httpd.pid")
  /usr/sbin/apache2 -f "$a/httpd.conf" -k stop 2>/dev/null || kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  log "federated keystones stopped (apache pid $pid)"
}

keystone_fed_status() {
  local i
  for ((i = 1; i <= FED_CLOUDS; i++)); do
    if fed_alive && curl -sf -o /dev/null "$(fed_url "$i")"; then
      echo "keystone-fed-$i UP apache pid=$(<"$(fed_apache_dir)/run/httpd.pid") $(fed_url "$i")"
    else echo "keystone-fed-$i DOWN"; fi
  done
}
