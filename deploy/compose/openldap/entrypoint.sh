#!/bin/sh
# Writes slapd.conf (suffix dc=example,dc=org, admin cn=admin,dc=example,dc=org with $LDAP_ADMIN_PASSWORD),
# loads the base entries once into the data volume, then runs slapd in the foreground.
# The paths and listen URL can be moved (SLAPD_CONF, SLAPD_DATA, SLAPD_BASE_LDIF, SLAPD_URLS) so that the tests
# run this very script against Debian's slapd on a loopback port.
set -eu
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD (the same value Archway binds with)}"
conf=${SLAPD_CONF:-/etc/ldap/slapd.conf}
data=${SLAPD_DATA:-/var/lib/ldap}
mkdir -p "$data"
cat >"$conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
moduleload syncprov
database mdb
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw $(slappasswd -s "$LDAP_ADMIN_PASSWORD")
directory $data
index objectClass,entryUUID eq
index uid,cn,mail eq,sub
index member,memberOf eq
index entryCSN,modifyTimestamp eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
overlay ppolicy
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 1000
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
CONF
if [ ! -f "$data/.loaded" ]; then
  slapadd -q -f "$conf" -l "${SLAPD_BASE_LDIF:-/etc/ldap/archway-base.ldif}"
  touch "$data/.loaded"
fi
# As root (the container), slapd drops to the openldap user that owns the data.
if [ "$(id -u)" = 0 ] && id openldap >/dev/null 2>&1; then
  chown -R openldap:openldap "$data"
  set -- -u openldap -g openldap
fi
exec slapd -d 0 "$@" -f "$conf" -h "${SLAPD_URLS:-ldap://0.0.0.0:1389/}"
