# SimpleSAMLphp (Debian `simplesamlphp`) as the upstream SAML 2.0 IdP on https://127.0.0.1:$SAML_IDP_PORT, served by
# the test environment's own Apache (private config, PidFile and runtime dir; nothing from /etc/apache2) with
# mod_proxy_fcgi -> php-cgi (FastCGI on a unix socket, as www-data). TLS with the test CA's server certificate.
#
# Users (exampleauth:UserPass): alice (admins, devs), bob (devs), carol (no groups); passwords <name>-pw.
# Archway's service providers are registered from $SAML_SP_BASES (each `<publicUrl>/login/sso/<source>`: entityID
# <base>/metadata, ACS <base>/callback (HTTP-POST), SLO <base>/logout (HTTP-Redirect)), trusting the SP signing key
# $STATE/saml-idp/cert/sp.{key,crt} (signed AuthnRequests and logout messages required); those in
# $SAML_SP_ENCRYPTED get their assertions encrypted to sp-enc.crt. Both IdP and SP keys stay across restarts.
#
# Pitfalls met on the way (see docs in the recipe that taught them): php8.2-cgi is named on the install line so apt
# does not pick libapache2-mod-php8.2 (which would reconfigure the system Apache); php8.2-xml is needed and not a
# dependency; php-cgi needs PHP_FCGI_CHILDREN or it exits for good after 500 requests; mod_proxy_fcgi needs
# `ProxyFCGIBackendType GENERIC` for php-cgi; SimpleSAMLphp does not sign HTTP-Redirect logout messages unless
# `sign.logout` is set; its error pages answer 200.
SAML_IDP_PORT=17443
SAML_SP_BASES="http://127.0.0.1:18095/login/sso/corp-saml http://127.0.0.1:18095/login/sso/corp-saml-enc
  http://127.0.0.1:18095/login/sso/other-saml http://127.0.0.1:18096/login/sso/corp-saml"
SAML_SP_ENCRYPTED="http://127.0.0.1:18095/login/sso/corp-saml-enc"
SAML_SSP=/usr/share/simplesamlphp

saml_dir() { echo "$STATE/saml-idp"; }
saml_base() { echo "https://127.0.0.1:$SAML_IDP_PORT/simplesamlphp"; }

saml_idp_alive() {
  pid_alive saml-idp-httpd apache2 && pid_alive saml-idp-php php-cgi
}

saml_idp_keys() {
  local c
  c=$(saml_dir)/cert
  [[ -f $c/sp-enc.crt ]] && return 0
  mkdir -p "$c"
  local name
  for name in idp sp sp-enc; do
    openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 -subj "/CN=archway test saml $name" \
      -keyout "$c/$name.key" -out "$c/$name.crt" 2>/dev/null
  done
  chgrp www-data "$c"/*.key
  chmod 640 "$c"/*.key
}

saml_idp_config() {
  local d base salt spcert enccert sp
  d=$(saml_dir); base=$(saml_base)
  mkdir -p "$d"/{config,metadata,log,data,tmp,sessions,run,apache/logs}
  [[ -f $d/salt ]] || openssl rand -hex 24 >"$d/salt"
  salt=$(<"$d/salt")
  spcert=$(grep -v -- '-----' "$d/cert/sp.crt" | tr -d '\n')
  enccert=$(grep -v -- '-----' "$d/cert/sp-enc.crt" | tr -d '\n')
  cat >"$d/config/config.php" <<EOF
<?php
\$config = [
    'baseurlpath' => '/simplesamlphp/',
    'certdir' => '$d/cert/',
    'loggingdir' => '$d/log/',
    'datadir' => '$d/data/',
    'tempdir' => '$d/tmp',
    'metadatadir' => '$d/metadata/',
    'metadata.sources' => [['type' => 'flatfile']],
    'secretsalt' => '$salt',
    'auth.adminpassword' => 'adminpw',
    'admin.protectindexpage' => true,
    'admin.protectmetadata' => false,
    'technicalcontact_name' => 'Archway tests',
    'technicalcontact_email' => 'na@example.org',
    'timezone' => 'UTC',
    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'showerrors' => true,
    'errorreporting' => false,
    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],
    'trusted.url.domains' => ['127.0.0.1:18095', '127.0.0.1:18096'],
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => '$d/sessions',
    'session.cookie.secure' => true,
    'session.duration' => 8 * 3600,
    'language.default' => 'en',
];
EOF
  cat >"$d/config/authsources.php" <<'EOF'
<?php
$config = [
    'example-userpass' => [
        'exampleauth:UserPass',
        'alice:alice-pw' => ['uid' => ['alice'], 'mail' => ['alice@example.org'], 'displayName' => ['Alice Anders'],
            'memberOf' => ['admins', 'devs']],
        'bob:bob-pw' => ['uid' => ['bob'], 'mail' => ['bob@example.org'], 'displayName' => ['Bob Berg'],
            'memberOf' => ['devs']],
        'carol:carol-pw' => ['uid' => ['carol'], 'mail' => ['carol@example.org'], 'displayName' => ['Carol Contractor']],
    ],
];
EOF
  cat >"$d/metadata/saml20-idp-hosted.php" <<EOF
<?php
\$metadata['$base/saml2/idp/metadata.php'] = [
    'host' => '__DEFAULT__',
    'privatekey' => 'idp.key',
    'certificate' => 'idp.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'userid.attribute' => 'uid',
    'logouttype' => 'traditional',
    'sign.logout' => true,
    'metadata.sign.enable' => true,
    'metadata.sign.privatekey' => 'idp.key',
    'metadata.sign.certificate' => 'idp.crt',
    'metadata.sign.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'SingleSignOnServiceBinding' => ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'],
];
EOF
  {
    echo "<?php"
    for sp in $SAML_SP_BASES; do
      cat <<EOF
\$metadata['$sp/metadata'] = [
    'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => '$sp/callback', 'index' => 0]],
    'SingleLogoutService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'Location' => '$sp/logout']],
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'simplesaml.nameidattribute' => 'uid',
    'saml20.sign.response' => true,
    'saml20.sign.assertion' => true,
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'keys' => [
        ['type' => 'X509Certificate', 'signing' => true, 'encryption' => false, 'X509Certificate' => '$spcert'],
        ['type' => 'X509Certificate', 'signing' => false, 'encryption' => true, 'X509Certificate' => '$enccert'],
    ],
    'validate.authnrequest' => true,
    'validate.logout' => true,
    'assertion.encryption' => $([[ " $SAML_SP_ENCRYPTED " == *" $sp "* ]] && echo true || echo false),
    'attributes' => ['uid', 'mail', 'displayName', 'memberOf'],
];
EOF
    done
  } >"$d/metadata/saml20-sp-remote.php"
  cat >"$d/apache/httpd.conf" <<EOF
ServerRoot "$d/apache"
ServerName 127.0.0.1
Listen 127.0.0.1:$SAML_IDP_PORT
PidFile $PIDS/saml-idp-httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
User www-data
Group www-data
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
TypesConfig /etc/mime.types
ErrorLog $d/apache/logs/error.log
LogLevel warn
LogFormat "%h %t \"%r\" %>s %b %Dus" timed
CustomLog $d/apache/logs/access.log timed
StartServers 1
ServerLimit 2
ThreadsPerChild 10
MaxRequestWorkers 20
MinSpareThreads 5
MaxSpareThreads 20
ProxyFCGIBackendType GENERIC
SSLSessionCache shmcb:$d/run/ssl_scache(512000)
DocumentRoot $d/apache
<Directory />
  Require all denied
</Directory>
Alias /simplesamlphp $SAML_SSP/www
<Directory $SAML_SSP/www>
  Require all granted
  DirectoryIndex index.php
  SetEnv SIMPLESAMLPHP_CONFIG_DIR $d/config
  <FilesMatch "\.php\$">
    SetHandler "proxy:unix:$d/run/php-cgi.sock|fcgi://localhost"
  </FilesMatch>
</Directory>
<VirtualHost 127.0.0.1:$SAML_IDP_PORT>
  SSLEngine on
  SSLCertificateFile $STATE/ca/server.crt
  SSLCertificateKeyFile $d/server.key
</VirtualHost>
EOF
  # Apache reads the TLS key as root before it drops to www-data; a copy keeps the CA directory untouched.
  cp "$STATE/ca/server.key" "$d/server.key"
  chmod 600 "$d/server.key"
  chown -R www-data:www-data "$d"/{log,data,tmp,sessions,run}
}

saml_idp_up() {
  local d
  d=$(saml_dir)
  saml_idp_alive && return 0
  saml_idp_down
  port_busy "$SAML_IDP_PORT" && die "port $SAML_IDP_PORT is busy but not ours"
  [[ -d $SAML_SSP/www ]] && command -v php-cgi >/dev/null || die "simplesamlphp / php8.2-cgi are not installed: run install"
  saml_idp_keys
  saml_idp_config
  # PHP runs as www-data: it must reach the config through every parent directory.
  setpriv --reuid=www-data --regid=www-data --init-groups test -r "$d/config/config.php" \
    || die "www-data cannot read $d/config/config.php (a parent directory is not o+x)"
  rm -f "$d/run/php-cgi.sock"
  SIMPLESAMLPHP_CONFIG_DIR=$d/config PHP_FCGI_CHILDREN=4 PHP_FCGI_MAX_REQUESTS=100000 \
    setsid setpriv --reuid=www-data --regid=www-data --init-groups \
    php-cgi -d session.save_path="$d/sessions" -b "$d/run/php-cgi.sock" >"$LOGS/saml-idp-php.log" 2>&1 </dev/null &
  echo $! >"$PIDS/saml-idp-php.pid"
  wait_for php-cgi 10 test -S "$d/run/php-cgi.sock" || die "php-cgi did not start; see $LOGS/saml-idp-php.log"
  /usr/sbin/apache2 -f "$d/apache/httpd.conf" -t >"$LOGS/saml-idp-configtest.log" 2>&1 \
    || die "apache config test failed; see $LOGS/saml-idp-configtest.log"
  /usr/sbin/apache2 -f "$d/apache/httpd.conf" -k start || die "apache did not start; see $d/apache/logs/error.log"
  wait_for saml-idp 30 curl -sf -o /dev/null --cacert "$STATE/ca/ca.crt" "$(saml_base)/saml2/idp/metadata.php" \
    || die "SimpleSAMLphp did not answer; see $d/apache/logs/error.log and $d/log/"
  log "saml-idp (SimpleSAMLphp) up on $(saml_base)"
}

saml_idp_down() {
  local d pid
  d=$(saml_dir)
  if pid_alive saml-idp-httpd apache2; then
    pid=$(<"$PIDS/saml-idp-httpd.pid")
    /usr/sbin/apache2 -f "$d/apache/httpd.conf" -k stop 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "saml-idp apache stopped (pid $pid)"
  fi
  # The php-cgi parent has its own process group and takes its workers with it.
  stop_pid saml-idp-php php-cgi
  rm -f "$d/run/php-cgi.sock"
}

saml_idp_status() {
  if saml_idp_alive; then echo "saml-idp UP apache pid=$(<"$PIDS/saml-idp-httpd.pid") $(saml_base)"
  else echo "saml-idp DOWN"; fi
}

# The endpoints file's `samlIdp` entry.
saml_idp_json() {
  local d base
  d=$(saml_dir); base=$(saml_base)
  cat <<JSON
{"metadataUrl": "$base/saml2/idp/metadata.php", "entityId": "$base/saml2/idp/metadata.php", "caFile": "$STATE/ca/ca.crt",
    "idpKeyFile": "$d/cert/idp.key", "idpCertFile": "$d/cert/idp.crt", "spKeyFile": "$d/cert/sp.key", "spCertFile": "$d/cert/sp.crt",
    "spEncKeyFile": "$d/cert/sp-enc.key", "spEncCertFile": "$d/cert/sp-enc.crt",
    "spBases": [$(for sp in $SAML_SP_BASES; do printf '%s"%s"' "${sep:-}" "$sp"; sep=", "; done)], "encryptedSpBases": ["$SAML_SP_ENCRYPTED"],
    "users": [
      {"username": "alice", "password": "alice-pw", "email": "alice@example.org", "name": "Alice Anders", "groups": ["admins", "devs"]},
      {"username": "bob", "password": "bob-pw", "email": "bob@example.org", "name": "Bob Berg", "groups": ["devs"]},
      {"username": "carol", "password": "carol-pw", "email": "carol@example.org", "name": "Carol Contractor", "groups": []}]}
JSON
}

# Sets the `samlIdp` entry of an endpoints file written before this service existed (`start saml-idp` alone).
saml_idp_patch_endpoints() {
  [[ -f $STATE/endpoints.json ]] || return 0
  saml_idp_json | "$PY" -c '
import json, sys
path = sys.argv[1]
with open(path) as f: endpoints = json.load(f)
endpoints["samlIdp"] = json.load(sys.stdin)
with open(path + ".tmp", "w") as f: json.dump(endpoints, f, indent=2)
' "$STATE/endpoints.json" && mv "$STATE/endpoints.json.tmp" "$STATE/endpoints.json"
}
