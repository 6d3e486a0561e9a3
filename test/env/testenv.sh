#!/usr/bin/env bash
# The real servers Archway's integration tests run against, all on 127.0.0.1, each stopped by its own PID.
#
#   testenv.sh install            install missing Debian packages (idempotent; skipped when present)
#   testenv.sh up                 install if needed, start everything (reusing what is up), write endpoints
#   testenv.sh down [--purge]     stop everything this script started; --purge also deletes .testenv/
#   testenv.sh status             one line per service
#   testenv.sh stop|start NAME    one service: redis redis-cluster slapd oidc saml-idp keystone-N nova-N cinder-N
#                                 neutron-N glance-N keystone-fed samba (for failure tests; starting redis-cluster also rewrites
#                                 endpoints.json; `start samba-fresh` puts the AD DC back to its provisioned data)
#
# State, logs, PID files and .testenv/endpoints.json live under .testenv/ (git-ignored).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for f in "$ROOT"/test/env/services/*.sh; do source "$f"; done

PACKAGES=(python3-keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3 python3-nova slapd ldap-utils
  redis-server openssl curl apache2 libapache2-mod-wsgi-py3 libapache2-mod-auth-openidc nginx-light chromium
  wrk python3-cinder python3-neutron samba samba-dsdb-modules samba-vfs-modules samba-ad-provision ldb-tools
  simplesamlphp php8.2-cli php8.2-cgi php8.2-xml python3-glance)

install() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "packages: all present"; return 0; fi
  ((EUID == 0)) || die "missing packages (${missing[*]}) and not root: install them or run as root"
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting system services: our servers run from .testenv only.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; added=1; fi
  apt-get -o DPkg::Lock::Timeout=600 update -q >"$LOGS/apt-update.log" 2>&1 || die "apt-get update failed; see $LOGS/apt-update.log"
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >"$LOGS/apt-install.log" 2>&1 \
    || die "apt-get install failed; see $LOGS/apt-install.log"
  ((added)) && rm -f "$policy"
  log "packages: installed"
}

write_endpoints() {
  local i keystones="" novas="" cinders="" neutrons="" glances="" feds="" cluster_nodes="" p
  for p in $REDIS_CLUSTER_PORTS; do cluster_nodes+="${cluster_nodes:+,}{\"host\":\"127.0.0.1\",\"port\":$p}"; done
  for ((i = 1; i <= FED_CLOUDS; i++)); do
    feds+="${feds:+,}{\"id\":\"fed-$i\",\"authUrl\":\"$(fed_url "$i")\",\"region\":\"fed-$i\",\"adminUsername\":\"admin\",\"adminPassword\":\"$KEYSTONE_ADMIN_PASSWORD\",\"adminProject\":\"admin\"}"
  done
  for ((i = 1; i <= CLOUDS; i++)); do
    keystones+="${keystones:+,}{\"id\":\"cloud-$i\",\"authUrl\":\"$(ks_url "$i")\",\"region\":\"cloud-$i\",\"adminUsername\":\"admin\",\"adminPassword\":\"$KEYSTONE_ADMIN_PASSWORD\",\"adminProject\":\"admin\"}"
    novas+="${novas:+,}{\"cloud\":\"cloud-$i\",\"url\":\"$(nova_url "$i")\"}"
    cinders+="${cinders:+,}{\"cloud\":\"cloud-$i\",\"url\":\"$(cinder_base "$i")/v3\"}"
    neutrons+="${neutrons:+,}{\"cloud\":\"cloud-$i\",\"url\":\"$(neutron_url "$i")\"}"
    glances+="${glances:+,}{\"cloud\":\"cloud-$i\",\"url\":\"$(glance_url "$i")\",\"name\":\"glance-$i\"}"
  done
  cat >"$STATE/endpoints.json.tmp" <<JSON
{
  "ca": {"certFile": "$STATE/ca/ca.crt", "keyFile": "$STATE/ca/ca.key", "otherCaCertFile": "$STATE/ca/other-ca.crt"},
  "redis": {"url": "redis://127.0.0.1:$REDIS_PORT", "port": $REDIS_PORT},
  "redisCluster": {"nodes": [$cluster_nodes]},
  "ldap": {"url": "ldap://127.0.0.1:$LDAP_PORT", "ldapsUrl": "ldaps://127.0.0.1:$LDAPS_PORT", "baseDn": "dc=example,dc=org",
    "peopleDn": "ou=people,dc=example,dc=org", "groupsDn": "ou=groups,dc=example,dc=org", "bulkDn": "ou=bulk,dc=example,dc=org",
    "bulkUsers": 10000, "bindDn": "cn=service,dc=example,dc=org", "bindPassword": "servicepw",
    "adminDn": "cn=admin,dc=example,dc=org", "adminPassword": "adminpw"},
  "ad": {"url": "ldap://127.0.0.1:389", "ldapsUrl": "ldaps://127.0.0.1:636", "caFile": "$STATE/ca/ca.crt",
    "realm": "$SAMBA_REALM", "netbiosDomain": "$SAMBA_NETBIOS", "dnsDomain": "$SAMBA_DNSDOMAIN", "baseDn": "$SAMBA_BASE",
    "peopleDn": "OU=people,$SAMBA_BASE", "groupsDn": "OU=groups,$SAMBA_BASE", "users": $SAMBA_USERS,
    "bindDn": "CN=svc-archway,CN=Users,$SAMBA_BASE", "bindPassword": "$SAMBA_SVC_PASSWORD",
    "adminDn": "CN=Administrator,CN=Users,$SAMBA_BASE", "adminPassword": "$SAMBA_ADMIN_PASSWORD"},
  "keystones": [$keystones],
  "novas": [$novas],
  "samlIdp": $(saml_idp_json),
  "cinders": [$cinders],
  "neutrons": [$neutrons],
  "glances": [$glances], "glanceWebDownloadPorts": [$(echo "$GLANCE_WEB_PORTS" | tr ' ' ',')],
  "federation": {"idpUrl": "https://127.0.0.1:$ARCHWAY_IDP_PORT", "idpPort": $ARCHWAY_IDP_PORT,
    "tls": {"certFile": "$STATE/ca/server.crt", "keyFile": "$STATE/ca/server.key"}, "keystones": [$feds]},
  "oidc": {"issuer": "https://127.0.0.1:$OIDC_PORT", "caFile": "$STATE/ca/ca.crt",
    "clients": [
      {"clientId": "archway", "clientSecret": "archway-secret", "redirectUris": ["http://127.0.0.1:18080/callback", "http://127.0.0.1:18081/auth/oidc/corp/callback"]},
      {"clientId": "archway-short", "clientSecret": "archway-short-secret", "redirectUris": ["http://127.0.0.1:18080/callback", "http://127.0.0.1:18081/auth/oidc/corp/callback"]}],
    "users": [
      {"username": "alice", "password": "alice-pw", "email": "alice@example.org", "name": "Alice Anders", "groups": ["admins", "devs"]},
      {"username": "bob", "password": "bob-pw", "email": "bob@example.org", "name": "Bob Berg", "groups": ["devs"]},
      {"username": "carol", "password": "carol-pw", "email": "carol@example.org", "name": "Carol Contractor", "groups": ["contractors"]}]}
}
JSON
  mv "$STATE/endpoints.json.tmp" "$STATE/endpoints.json"
  { echo "clouds:"
    for ((i = 1; i <= CLOUDS; i++)); do
      cat <<YAML
  cloud-$i:
    auth: {auth_url: "$(ks_url "$i")", username: admin, password: $KEYSTONE_ADMIN_PASSWORD, project_name: admin, user_domain_id: default, project_domain_id: default}
    region_name: cloud-$i
    identity_api_version: 3
    interface: public
YAML
    done; } >"$STATE/clouds.yaml"
}

up() {
  local t0=$SECONDS
  install
  ensure_ca
  samba_begin
  redis_up
  redis_cluster_up
  slapd_up
  oidc_up
  saml_idp_up
  keystones_up
  keystone_fed_up
  # cinder + neutron (templates, then six APIs) start while nova does; they reach Keystone only when first called.
  local vn; volume_network_launch & vn=$!
  novas_up
  wait "$vn" || die "starting cinder/neutron failed"
  volume_network_wait
  glances_up
  samba_wait
  write_endpoints
  log "environment up in $((SECONDS - t0)) s; endpoints in $STATE/endpoints.json"
}

down() {
  local i
  for ((i = 1; i <= CLOUDS; i++)); do glance_down "$i"; cinder_down "$i"; neutron_down "$i"; nova_down "$i"; keystone_down "$i"; done
  keystone_fed_down
  saml_idp_down; oidc_down; slapd_down; samba_down; redis_cluster_down; redis_down
  if [[ ${1:-} == --purge ]]; then rm -rf "$STATE" "$FED_ROOT"; log "state deleted"; fi
}

status() {
  local i
  redis_status; redis_cluster_status; slapd_status; oidc_status; saml_idp_status; samba_status
  for ((i = 1; i <= CLOUDS; i++)); do keystone_status "$i"; done
  keystone_fed_status
  for ((i = 1; i <= CLOUDS; i++)); do nova_status "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do cinder_status "$i"; neutron_status "$i"; done
  for ((i = 1; i <= CLOUDS; i++)); do glance_status "$i"; done
}

one() { # start|stop NAME
  local action=$1 name=${2:?service name}
  case $name in
    redis | slapd | oidc) "${name}_$([[ $action == start ]] && echo up || echo down)" ;;
    saml-idp) if [[ $action == start ]]; then saml_idp_up; saml_idp_patch_endpoints; else saml_idp_down; fi ;;
    redis-cluster) if [[ $action == start ]]; then redis_cluster_up; write_endpoints; else redis_cluster_down; fi ;;
    samba) "samba_$([[ $action == start ]] && echo up || echo down)" ;;
    samba-fresh) samba_fresh ;;
    keystone-fed) "keystone_fed_$([[ $action == start ]] && echo up || echo down)" ;;
    keystone-[0-9]*) "keystone_$([[ $action == start ]] && echo up || echo down)" "${name#keystone-}" ;;
    nova-[0-9]*) "nova_$([[ $action == start ]] && echo up || echo down)" "${name#nova-}" ;;
    cinder-[0-9]* | neutron-[0-9]*)
      if [[ $action == start ]]; then "${name%-*}_up" "${name##*-}"; volume_network_register "${name##*-}"; write_endpoints
      else "${name%-*}_down" "${name##*-}"; fi ;;
    glance-[0-9]*) if [[ $action == start ]]; then glance_up "${name#glance-}"; write_endpoints; else glance_down "${name#glance-}"; fi ;;
    *) die "unknown service '$name' (redis redis-cluster slapd oidc saml-idp keystone-N nova-N cinder-N neutron-N glance-N keystone-fed samba samba-fresh)" ;;
  esac
}

case ${1:-} in
  install) install ;;
  up) up ;;
  down) shift; down "${1:-}" ;;
  status) status ;;
  start | stop) one "$1" "${2:-}" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
