# Samba 4.17 (Debian `samba`) as an Active Directory domain controller: realm AD.EXAMPLE.ORG, NetBIOS domain AD,
# base DC=ad,DC=example,DC=org, on 127.0.0.1 only: ldap://127.0.0.1:389 (StartTLS; simple binds need TLS) and
# ldaps://127.0.0.1:636 with a certificate from the test environment's CA (ca.sh). Samba cannot move its LDAP
# ports (no `ldap port` option), so there is one DC per machine; 3268/3269 (global catalog) bind as well.
#
# Everything lives under $STATE/samba (its own smb.conf, never /etc/samba, no DNS server, no systemd). A clean
# provision plus data takes 25-40 s, so it is built once into $SAMBA_TEMPLATE and copied: a start with state is
# a ~1.5 s `samba -D`, and `testenv.sh start samba-fresh` replaces the running copy with the template's data.
# `up` runs the first build in the background while the other services start (samba_begin / samba_wait).
#
# Data (see samba_populate): Administrator, the service account svc-archway (plain user, read-only use),
# OU=people with user0001..user$SAMBA_USERS (password Passw0rd-NNNN, UPN userNNNN@ad.example.org), some disabled,
# one expired (accountExpires), one who must change their password, one with a lockout policy; OU=groups with
# g-inner (user0001) in g-outer (with user0002) in g-top, and g-all with everyone; an SSH key in user0001's
# altSecurityIdentities next to a Kerberos mapping (not a key); gone0001 deleted (a tombstone).
SAMBA_DIR=$STATE/samba
SAMBA_TEMPLATE=$STATE/samba-template
SAMBA_REALM=AD.EXAMPLE.ORG
SAMBA_NETBIOS=AD
SAMBA_DNSDOMAIN=ad.example.org
SAMBA_BASE="DC=ad,DC=example,DC=org"
SAMBA_ADMIN_PASSWORD='Admin-Passw0rd!'
SAMBA_SVC_PASSWORD='Svc-Passw0rd-1'
SAMBA_USERS=520
SAMBA_DISABLED="user0050 user0100 user0150 user0200 user0250"
SAMBA_EXPIRED=user0299
SAMBA_SSH_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user0001@ad-test'

# samba_conf DIR: the complete smb.conf, every path inside DIR. Provision keeps a non-empty smb.conf as it is
# (with --targetdir alone it would copy Debian's /etc/samba/smb.conf globals and shares into its own).
samba_conf() {
  local d=$1
  mkdir -p "$d"/{etc,private,state,cache,lock,run,log,bind-dns,tls}
  cat >"$d/etc/smb.conf" <<CONF
# Written by test/env/services/samba.sh: an AD DC for tests, nothing under /etc/samba, /var/lib/samba or /run/samba.
[global]
	netbios name = DC1
	workgroup = $SAMBA_NETBIOS
	realm = $SAMBA_REALM
	server role = active directory domain controller
	# LDAP only: no DNS (dnsupdate would send updates off the loopback), no file server, no winbindd, no KDC.
	server services = ldap
	interfaces = 127.0.0.1
	bind interfaces only = yes
	private dir = $d/private
	lock directory = $d/lock
	state directory = $d/state
	cache directory = $d/cache
	binddns dir = $d/bind-dns
	pid directory = $d/run
	ncalrpc dir = $d/run/ncalrpc
	winbindd socket directory = $d/run/winbindd
	ntp signd socket directory = $d/run/ntp_signd
	log file = $d/log/log.samba
	log level = 0
	max log size = 10000
	tls enabled = yes
	tls keyfile = $d/tls/server.key
	tls certfile = $d/tls/server.crt
	tls cafile = $d/tls/ca.crt
	load printers = no
	printcap name = /dev/null
	disable spoolss = yes
[sysvol]
	path = $d/state/sysvol
	read only = no
[netlogon]
	path = $d/state/sysvol/$SAMBA_DNSDOMAIN/scripts
	read only = no
CONF
}

# samba_tls DIR: the DC's certificate from the test CA (SAN: 127.0.0.1, localhost, dc1.ad.example.org). Samba's
# own would be RSA-4096 (seconds to make) with no subjectAltName, so no client could check it against 127.0.0.1.
samba_tls() {
  local d=$1/tls
  [[ -f $d/server.crt ]] && return 0
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
    -subj "/CN=dc1.$SAMBA_DNSDOMAIN" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:dc1.%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    "$SAMBA_DNSDOMAIN" >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$STATE/ca/ca.crt" -CAkey "$STATE/ca/ca.key" -CAcreateserial \
    -out "$d/server.crt" -days 30 -extfile "$d/ext.cnf" 2>/dev/null
  cp "$STATE/ca/ca.crt" "$d/ca.crt"
  chmod 600 "$d/server.key" # samba refuses a key others can read
}

_samba_tool() { local d=$1; shift; samba-tool "$@" -s "$d/etc/smb.conf"; }

# samba_populate DIR: the test data, written to the local sam.ldb (samba itself is not running yet).
samba_populate() {
  local d=$1 u
  _samba_st() { _samba_tool "$d" "$@" >/dev/null; }
  # Tests change passwords; a state older than 42 days would otherwise answer 532 (password expired).
  _samba_st domain passwordsettings set --min-pwd-age=0 --max-pwd-age=0
  _samba_st ou add OU=people
  _samba_st ou add OU=groups
  # The code `samba-tool user create` runs, in one process and one transaction: ~25 ms a user instead of ~0.5 s.
  CONF=$d/etc/smb.conf N=$SAMBA_USERS DNSDOMAIN=$SAMBA_DNSDOMAIN $PY - <<'PYTHON'
import os
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm(); lp.load(os.environ["CONF"])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
db.transaction_start()
try:
    for i in range(1, int(os.environ["N"]) + 1):
        u = "user%04d" % i
        db.newuser(u, "Passw0rd-%04d" % i, userou="OU=people", givenname="User", surname="%04d" % i,
                   mailaddress="%s@%s" % (u, os.environ["DNSDOMAIN"]), description="test user %d" % i)
except Exception:
    db.transaction_cancel(); raise
db.transaction_commit()
PYTHON
  for u in $SAMBA_DISABLED; do _samba_st user disable "$u"; done
  _samba_st user setexpiry "$SAMBA_EXPIRED" --days=-1
  _samba_st user setpassword user0297 --newpassword=Passw0rd-0297 --must-change-at-next-login
  # A lockout policy for user0298 only, so wrong-password tests never lock anyone else.
  _samba_st domain passwordsettings pso create pso-lockout 10 --account-lockout-threshold=3 --account-lockout-duration=5 \
    --reset-account-lockout-after=5 --min-pwd-age=0 --max-pwd-age=0
  _samba_st domain passwordsettings pso apply pso-lockout user0298
  for u in g-inner g-outer g-top g-all; do _samba_st group add "$u" --groupou=OU=groups; done
  _samba_st group addmembers g-inner user0001
  _samba_st group addmembers g-outer g-inner,user0002
  _samba_st group addmembers g-top g-outer
  _samba_st user create svc-archway "$SAMBA_SVC_PASSWORD" --description="Archway service account"
  _samba_st user setexpiry svc-archway --noexpiry
  _samba_st user create gone0001 'Passw0rd-gone' --userou=OU=people --description="deleted user"
  _samba_st user delete gone0001
  # Everyone in g-all, and the SSH key (AD's schema has no sshPublicKey) beside a mapping that is not a key.
  {
    printf 'dn: CN=g-all,OU=groups,%s\nchangetype: modify\nadd: member\n' "$SAMBA_BASE"
    for ((i = 1; i <= SAMBA_USERS; i++)); do printf 'member: CN=user%04d,OU=people,%s\n' "$i" "$SAMBA_BASE"; done
    printf '\ndn: CN=user0001,OU=people,%s\nchangetype: modify\nreplace: altSecurityIdentities\n' "$SAMBA_BASE"
    printf 'altSecurityIdentities: %s\naltSecurityIdentities: Kerberos:user0001@%s\n' "$SAMBA_SSH_KEY" "$SAMBA_REALM"
  } | ldbmodify -H "$d/private/sam.ldb" >/dev/null
}

# samba_build: provisions and populates the template once (the slow part). Never run from it.
samba_build() {
  [[ -f $SAMBA_TEMPLATE/.populated ]] && return 0
  local t=$SAMBA_TEMPLATE t0=$SECONDS
  command -v samba-tool >/dev/null || die "samba is not installed: run testenv.sh install"
  rm -rf "$t"
  samba_conf "$t"
  _samba_tool "$t" domain provision --realm="$SAMBA_REALM" --domain="$SAMBA_NETBIOS" --server-role=dc \
    --dns-backend=NONE --host-name=dc1 --host-ip=127.0.0.1 --adminpass="$SAMBA_ADMIN_PASSWORD" \
    >"$LOGS/samba-provision.log" 2>&1 || die "samba provision failed; see $LOGS/samba-provision.log"
  samba_populate "$t" >>"$LOGS/samba-provision.log" 2>&1 || die "samba populate failed; see $LOGS/samba-provision.log"
  touch "$t/.populated"
  log "samba AD template provisioned with $SAMBA_USERS users in $((SECONDS - t0)) s"
}

samba_pid() { [[ -f $SAMBA_DIR/run/samba.pid ]] && cat "$SAMBA_DIR/run/samba.pid"; }

# The pid file names a live /usr/sbin/samba (its command line is a title: "samba: root process").
samba_running() {
  local pid; pid=$(samba_pid 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == /usr/sbin/samba ]]
}

samba_up() {
  samba_running && return 0
  local p
  for p in 389 636 3268 3269; do port_busy "$p" && die "port $p is busy but not ours (Samba cannot move it)"; done
  samba_build
  if [[ ! -f $SAMBA_DIR/.populated ]]; then
    rm -rf "$SAMBA_DIR"
    cp -a "$SAMBA_TEMPLATE" "$SAMBA_DIR"
  fi
  # Written anew on every start: the copy's paths are its own, and the certificate follows the current CA.
  samba_conf "$SAMBA_DIR"
  rm -f "$SAMBA_DIR"/tls/server.*
  samba_tls "$SAMBA_DIR"
  rm -f "$SAMBA_DIR/run/samba.pid"
  # -l: else samba creates /var/log/samba/log.samba before it reads "log file". Descriptors above stderr are
  # closed first: a daemon started under `flock CMD` would otherwise hold the integration lock while it runs.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec samba -s "$SAMBA_DIR/etc/smb.conf" -D -l "$SAMBA_DIR/log" </dev/null >>"$LOGS/samba.log" 2>&1
  )
  wait_for samba 30 env LDAPTLS_CACERT="$STATE/ca/ca.crt" ldapsearch -x -H ldaps://127.0.0.1 \
    -D "user0001@$SAMBA_DNSDOMAIN" -w Passw0rd-0001 -b "" -s base dn \
    || die "samba did not answer; see $SAMBA_DIR/log/log.samba"
  log "samba AD DC up pid=$(samba_pid) on ldaps://127.0.0.1:636 and ldap://127.0.0.1:389 (StartTLS)"
}

samba_down() {
  if samba_running; then
    local pid; pid=$(samba_pid)
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    log "samba stopped (pid $pid)"
  fi
  rm -f "$SAMBA_DIR/run/samba.pid"
}

# samba_fresh: the running copy goes back to the template's data (tests that must start from it).
samba_fresh() {
  samba_down
  rm -rf "$SAMBA_DIR"
  samba_up
}

samba_status() { samba_running && echo "samba UP pid=$(samba_pid) ldaps://127.0.0.1:636" || echo "samba DOWN"; }

# samba_begin / samba_wait: `up` starts the DC in the background (its first build is the slowest step of all)
# and collects it after the other services.
SAMBA_BG_PID=
samba_begin() {
  samba_running && return 0
  (samba_up) >"$LOGS/samba-up.log" 2>&1 &
  SAMBA_BG_PID=$!
}
samba_wait() {
  [[ -n $SAMBA_BG_PID ]] || return 0
  wait "$SAMBA_BG_PID" || { cat "$LOGS/samba-up.log" >&2; die "samba did not start; see $LOGS/samba-up.log"; }
  cat "$LOGS/samba-up.log" >&2
  SAMBA_BG_PID=
}
