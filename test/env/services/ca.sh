# Throwaway CA for every TLS server of the test environment, plus an unrelated CA for "wrong CA" tests.
ensure_ca() {
  local d=$STATE/ca
  [[ -f $d/server.crt && -f $d/other-ca.crt ]] && return 0
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -keyout ca.key -out ca.crt \
      -subj "/CN=Archway test CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -keyout other-ca.key \
      -out other-ca.crt -subj "/CN=Unrelated test CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 \
      -extfile ext.cnf 2>/dev/null
    chmod 644 ./*.crt ./*.key
  )
  log "test CA ready in $d"
}
