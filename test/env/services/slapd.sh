# OpenLDAP slapd: ldap://127.0.0.1:$LDAP_PORT (StartTLS) and ldaps://127.0.0.1:$LDAPS_PORT, directory generated
# once by gen-ldif.mjs (users, groups with nesting and a cycle, locked users, 10,000 bulk users). The syncprov
# overlay serves RFC 4533 content synchronisation (refreshAndPersist) for Archway's departure watch; its session
# log lets a consumer that reconnects with a cookie be sent the deletes it missed.
SLAPD_DIR=$STATE/slapd

slapd_conf() {
  local rootpw; rootpw=$(slappasswd -s adminpw)
  cat >"$SLAPD_DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $SLAPD_DIR/openssh-lpk.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
moduleload syncprov
pidfile $PIDS/slapd.pid
argsfile $SLAPD_DIR/slapd.args
loglevel none
sizelimit unlimited
TLSCACertificateFile $STATE/ca/ca.crt
TLSCertificateFile $STATE/ca/server.crt
TLSCertificateKeyFile $STATE/ca/server.key
database mdb
maxsize 1073741824
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw $rootpw
directory $SLAPD_DIR/data
index objectClass eq
index uid,cn,mail eq,sub
index member,memberOf eq
index entryUUID eq
index modifyTimestamp eq
index entryCSN eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay ppolicy
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 10000
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by * read
CONF
}

slapd_up() {
  if pid_alive slapd slapd; then return 0; fi
  port_busy "$LDAP_PORT" && die "port $LDAP_PORT is busy but not ours"
  if [[ ! -f $SLAPD_DIR/.loaded ]]; then
    rm -rf "$SLAPD_DIR"; mkdir -p "$SLAPD_DIR/data"
    cp "$ROOT/test/env/openssh-lpk.schema" "$SLAPD_DIR/"
    slapd_conf
    node "$ROOT/test/env/gen-ldif.mjs" >"$SLAPD_DIR/base.ldif"
    slaptest -Q -u -f "$SLAPD_DIR/slapd.conf" || die "slapd.conf is invalid"
    slapadd -q -f "$SLAPD_DIR/slapd.conf" -l "$SLAPD_DIR/base.ldif" || die "slapadd failed"
    touch "$SLAPD_DIR/.loaded"
  else
    # The data stays; the configuration is written anew, so a directory loaded by an older script gains what
    # this one adds (the syncprov overlay). The schema is copied so the file never points into a worktree.
    cp "$ROOT/test/env/openssh-lpk.schema" "$SLAPD_DIR/"
    slapd_conf
    slaptest -Q -u -f "$SLAPD_DIR/slapd.conf" || die "slapd.conf is invalid"
  fi
  # slapd daemonizes and writes its own pid file.
  slapd -f "$SLAPD_DIR/slapd.conf" -h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/" 2>>"$LOGS/slapd.log" \
    || die "slapd did not start; see $LOGS/slapd.log"
  wait_for slapd 15 ldapsearch -x -H "ldap://127.0.0.1:$LDAP_PORT" -b "" -s base namingContexts \
    || die "slapd not answering; see $LOGS/slapd.log"
  log "slapd up on ldap://127.0.0.1:$LDAP_PORT and ldaps://127.0.0.1:$LDAPS_PORT"
}
slapd_down() { stop_pid slapd slapd; }
slapd_status() { pid_alive slapd slapd && echo "slapd UP pid=$(<"$PIDS/slapd.pid") ldap://127.0.0.1:$LDAP_PORT" || echo "slapd DOWN"; }
