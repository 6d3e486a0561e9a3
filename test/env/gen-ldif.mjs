// Generates the test directory as LDIF on stdout (slapadd input). Passwords are hashed here ({SSHA}) because
// slappasswd costs ~45 ms a call. memberOf is written for direct memberships: slapadd skips overlays.
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";

const SUFFIX = "dc=example,dc=org";
const USERS = Number(process.env.LDAP_USERS ?? 1000);
const BULK = Number(process.env.LDAP_BULK_USERS ?? 10000);
const GROUPS = 20;

const ssha = (pw) => {
  const salt = randomBytes(8);
  const digest = createHash("sha1").update(pw).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
};
const b64 = (s) => Buffer.from(s, "utf8").toString("base64");
// LDIF needs base64 (`attr:: value`) for non-ASCII values.
const attr = (name, value) =>
  /^[\x20-\x7e]*$/.test(value) && !/^[ :<]/.test(value) ? `${name}: ${value}` : `${name}:: ${b64(value)}`;
const pad = (i, w) => String(i).padStart(w, "0");
const userDn = (uid, ou = "people") => `uid=${uid},ou=${ou},${SUFFIX}`;
const groupDn = (cn) => `cn=${cn},ou=groups,${SUFFIX}`;

const u32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const sshString = (b) => Buffer.concat([u32(b.length), b]);

// Both halves as DER bytes, not KeyObjects: Node 20 can deadlock when the garbage collector finalises a
// key-generation job while a key is being exported as JWK (seen here: gen-ldif hung in a futex, with no CPU used,
// a few thousand keys in). The raw ed25519 public key is the last 32 bytes of its SubjectPublicKeyInfo.
const DER_PAIR = {
  publicKeyEncoding: { type: "spki", format: "der" },
  privateKeyEncoding: { type: "pkcs8", format: "der" },
};

/** A fresh ed25519 public key in OpenSSH's one-line format. */
function sshKey(comment) {
  const { publicKey } = generateKeyPairSync("ed25519", DER_PAIR);
  const raw = publicKey.subarray(publicKey.length - 32);
  const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(raw)]);
  return `ssh-ed25519 ${blob.toString("base64")} ${comment}`;
}

const groups = new Map(); // cn -> member DNs
const memberOf = new Map(); // dn -> group DNs
const join = (cn, dn) => {
  if (!groups.has(cn)) groups.set(cn, []);
  groups.get(cn).push(dn);
  if (!memberOf.has(dn)) memberOf.set(dn, []);
  memberOf.get(dn).push(groupDn(cn));
};

const people = [];
for (let i = 1; i <= USERS; i++) {
  const uid = `user${pad(i, 4)}`;
  const dn = userDn(uid);
  join(`group${pad(((i - 1) % GROUPS) + 1, 2)}`, dn);
  join("everyone", dn);
  if (i % 10 === 0) join("admins", dn);
  const lines = [
    `dn: ${dn}`,
    "objectClass: inetOrgPerson",
    "objectClass: ldapPublicKey",
    `uid: ${uid}`,
    `cn: User ${pad(i, 4)}`,
    `sn: ${pad(i, 4)}`,
    "givenName: User",
    `mail: ${uid}@example.org`,
    `userPassword: ${ssha(`pass-${uid}`)}`,
  ];
  if (i % 3 === 0) lines.push(`sshPublicKey: ${sshKey(`${uid}@example`)}`);
  if (i === 999) lines.push("pwdAccountLockedTime: 000001010000Z");
  if (i === 998) lines.push("employeeType: disabled");
  people.push({ dn, lines });
}
for (const [uid, cn] of [
  ["jürgen", "Jürgen Müller"],
  ["o'brien", "Pat O'Brien"],
]) {
  const dn = userDn(uid);
  join("everyone", dn);
  people.push({
    dn,
    lines: [
      `dn: ${dn}`,
      "objectClass: inetOrgPerson",
      "objectClass: ldapPublicKey",
      attr("uid", uid),
      attr("cn", cn),
      attr("sn", cn.split(" ")[1]),
      `mail: ${uid === "jürgen" ? "juergen" : "obrien"}@example.org`,
      `userPassword: ${ssha(`pass-${uid}`)}`,
    ],
  });
}
// Nested groups and a cycle.
join("nested-inner", userDn("user0001"));
join("nested-outer", groupDn("nested-inner"));
join("cycle-b", userDn("user0002"));
join("cycle-b", groupDn("cycle-a"));
join("cycle-a", groupDn("cycle-b"));

const out = [];
const emit = (lines) => out.push(`${lines.join("\n")}\n`);
emit([
  `dn: ${SUFFIX}`,
  "objectClass: top",
  "objectClass: dcObject",
  "objectClass: organization",
  "o: Example",
  "dc: example",
]);
for (const ou of ["people", "groups", "bulk"])
  emit([`dn: ou=${ou},${SUFFIX}`, "objectClass: organizationalUnit", `ou: ${ou}`]);
emit([
  `dn: cn=service,${SUFFIX}`,
  "objectClass: organizationalRole",
  "objectClass: simpleSecurityObject",
  "cn: service",
  `userPassword: ${ssha("servicepw")}`,
]);
for (const p of people)
  emit([
    ...p.lines.map((l) => (l.startsWith("dn: ") ? (/^[\x20-\x7e]*$/.test(l) ? l : `dn:: ${b64(l.slice(4))}`) : l)),
    ...(memberOf.get(p.dn) ?? []).map((g) => `memberOf: ${g}`),
  ]);
for (const [cn, members] of groups) {
  emit([
    `dn: ${groupDn(cn)}`,
    "objectClass: groupOfNames",
    `cn: ${cn}`,
    ...members.map((m) => attr("member", m)),
    ...(memberOf.get(groupDn(cn)) ?? []).map((g) => `memberOf: ${g}`),
  ]);
}
const bulkHash = ssha("pass-bulk");
for (let i = 1; i <= BULK; i++) {
  const uid = `bulk${pad(i, 5)}`;
  emit([
    `dn: ${userDn(uid, "bulk")}`,
    "objectClass: inetOrgPerson",
    `uid: ${uid}`,
    `cn: Bulk ${pad(i, 5)}`,
    `sn: ${pad(i, 5)}`,
    `mail: ${uid}@example.org`,
    `userPassword: ${bulkHash}`,
  ]);
}
process.stdout.write(out.join("\n"));
