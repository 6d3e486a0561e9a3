import { randomBytes } from "node:crypto";
import { Attribute, Change, Client, Control, InvalidCredentialsError } from "ldapts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LdapSourceConfig, LdapSourceSchema } from "../../../src/config/index.js";
import { createSource, isPasswordSource } from "../../../src/identity/index.js";
import { activeDirectory, LdapSource, type LdapSourceOptions } from "../../../src/identity/ldap/index.js";
import { DepartureDetector } from "../../../src/offboard/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { describeIdentityConformance } from "../../conformance/identity.js";
import { loadEndpoints } from "../../env/endpoints.js";

// Against the test environment's real Samba AD DC (test/env/services/samba.sh: realm AD.EXAMPLE.ORG, 520 people,
// user0050/0100/... disabled, user0299 expired, user0297 must change its password, user0298 locks after 3 bad
// binds, g-inner (user0001) in g-outer (with user0002) in g-top), with the AD preset as shipped.
const env = loadEndpoints();
if (!env.ad) throw new Error("no Samba AD DC in .testenv/endpoints.json: run 'npm run testenv -- up'");
const ad = env.ad;
const sources: LdapSource[] = [];
const SSH = /^ssh-ed25519 AAAA\S+ user0001@ad-test$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function adConfig(over: Partial<LdapSourceConfig> & Record<string, unknown> = {}): LdapSourceConfig {
  return LdapSourceSchema.parse({
    id: "ad",
    type: "ldap",
    preset: "active-directory",
    urls: [ad.ldapsUrl],
    caFile: ad.caFile,
    baseDn: ad.baseDn,
    userBaseDn: ad.peopleDn,
    groupBaseDn: ad.groupsDn,
    bindDn: ad.bindDn,
    bindPassword: ad.bindPassword,
    timeoutMs: 10_000,
    ...over,
  });
}

function source(over: Partial<LdapSourceConfig> & Record<string, unknown> = {}, opts?: LdapSourceOptions): LdapSource {
  const s = new LdapSource(adConfig(over), opts);
  sources.push(s);
  return s;
}

/** An ldapts client bound as the domain's Administrator over LDAPS (the caller unbinds). */
async function admin(): Promise<Client> {
  const client = new Client({ url: ad.ldapsUrl, tlsOptions: { ca: [await readCa()] }, timeout: 20_000 });
  await client.bind(ad.adminDn, ad.adminPassword);
  return client;
}
const readCa = async () => (await import("node:fs/promises")).readFile(ad.caFile);

/** The refusal AD gives a raw bind (its `data XXX`), as Archway reads it. */
async function rawBindRefusal(who: string, password: string): Promise<string> {
  const client = new Client({ url: ad.ldapsUrl, tlsOptions: { ca: [await readCa()] } });
  try {
    await client.bind(who, password);
    return "accepted";
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidCredentialsError);
    return activeDirectory.bindRefusal((err as Error).message).reason;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

let adm: Client;
beforeAll(async () => {
  adm = await admin();
});
afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await adm?.unbind();
});

describeIdentityConformance("active-directory (Samba AD DC)", () => ({
  source: source(),
  user: { username: "user0001", password: "Passw0rd-0001", groups: ["g-inner", "g-outer", "g-top", "g-all"] },
  other: { username: "user0002", password: "Passw0rd-0002" },
  disabled: { username: "user0050", password: "Passw0rd-0050" },
}));

describe("Active Directory preset against a real Samba AD DC", () => {
  it("maps a person: objectGUID (AD's byte order) as the id, UPN-independent username, mail, key, groups", async () => {
    const who = await source().login("user0001", "Passw0rd-0001");
    expect(who).toMatchObject({ username: "user0001", email: "user0001@ad.example.org" });
    const guid = who?.id.slice("ad:".length) ?? "";
    expect(guid).toMatch(GUID);
    // The rendering is the one AD itself understands: a <GUID=...> base search finds the same person.
    const { searchEntries } = await adm.search(`<GUID=${guid}>`, { scope: "base", attributes: ["sAMAccountName"] });
    expect(searchEntries[0]?.sAMAccountName).toBe("user0001");
    // altSecurityIdentities also holds a Kerberos mapping: only the OpenSSH key is a key.
    expect(who?.sshKeys).toEqual([expect.stringMatching(SSH)]);
  });

  it("resolves REALM\\user, user@realm, the bare name and any case to the same person", async () => {
    const s = source();
    const ids = new Set<string>();
    for (const name of [
      "user0001",
      "AD\\user0001",
      "ad\\USER0001",
      "user0001@ad.example.org",
      "USER0001@AD.EXAMPLE.ORG",
    ]) {
      const who = await s.login(name, "Passw0rd-0001");
      expect(who?.username, name).toBe("user0001");
      ids.add(who!.id);
      expect((await s.lookup(name))?.id).toBe(who!.id);
    }
    expect(ids.size).toBe(1);
    // Another domain's down-level name is nobody here; a wrong password in any form is refused.
    expect(await s.login("OTHER\\user0001", "Passw0rd-0001")).toBeNull();
    expect(await s.login("AD\\user0001", "wrong-Passw0rd")).toBeNull();
    expect(await s.login("user0001@other.example", "Passw0rd-0001")).toBeNull();
  });

  it("refuses disabled and expired accounts with the right password; neither is looked up or listed", async () => {
    const refusals: string[] = [];
    const s = source({}, { onRefusal: (r) => refusals.push(`${r.username}:${r.reason}`) });
    expect(await s.login("user0050", "Passw0rd-0050")).toBeNull();
    expect(await s.login("user0299", "Passw0rd-0299")).toBeNull();
    expect(await s.lookup("user0050")).toBeNull();
    expect(await s.lookup("user0299")).toBeNull();
    expect(await s.login("user0001", "nope-Passw0rd")).toBeNull();
    // The person always reads the same refusal; the operator's hook hears the reason.
    expect(refusals).toEqual(["user0050:no_such_user", "user0299:no_such_user", "user0001:invalid_credentials"]);
  });

  it("reports refusals through the registry's hook, as the runtime logs them", async () => {
    const heard: string[] = [];
    const s = createSource(adConfig({ id: "corp-ad" }), {
      onLoginRefused: (id, r) => heard.push(`${id}:${r.username}:${r.reason}`),
    });
    try {
      if (!isPasswordSource(s)) throw new Error("an LDAP source takes passwords");
      expect(await s.login("user0001", "nope-Passw0rd")).toBeNull();
      expect(heard).toEqual(["corp-ad:user0001:invalid_credentials"]);
    } finally {
      await s.close?.();
    }
  });

  it("maps AD's bind data codes (52e, 533, 701, 773, 775) to refusals that all read the same", async () => {
    const upn = (n: string) => `user${n}@${ad.dnsDomain}`;
    expect(await rawBindRefusal(upn("0001"), "wrong-Passw0rd")).toBe("invalid_credentials");
    expect(await rawBindRefusal(upn("0050"), "Passw0rd-0050")).toBe("account_disabled");
    expect(await rawBindRefusal(upn("0299"), "Passw0rd-0299")).toBe("account_expired");
    expect(await rawBindRefusal(upn("0297"), "Passw0rd-0297")).toBe("must_change_password");
    // Must change: the entry is found, the DC refuses the bind, the source answers null with the reason.
    const refusals: string[] = [];
    const s = source({}, { onRefusal: (r) => refusals.push(`${r.reason}:${r.code}`) });
    expect(await s.login("user0297", "Passw0rd-0297")).toBeNull();
    // Lockout (user0298's policy: 3 bad binds): the right password is then refused with 775, and the account is not
    // disabled for Archway (a stranger could lock anyone; AD unlocks by itself).
    for (let i = 0; i < 3; i++) expect(await s.login("user0298", "wrong-Passw0rd")).toBeNull();
    try {
      expect(await s.login("user0298", "Passw0rd-0298")).toBeNull();
      expect(refusals.at(-1)).toBe("account_locked:775");
      expect(await s.lookup("user0298")).not.toBeNull();
    } finally {
      await adm.modify(`CN=user0298,${ad.peopleDn}`, [
        new Change({ operation: "replace", modification: new Attribute({ type: "lockoutTime", values: ["0"] }) }),
      ]);
    }
    expect(refusals[0]).toBe("must_change_password:773");
    expect(await s.login("user0298", "Passw0rd-0298")).not.toBeNull();
  });

  it("speaks StartTLS on 389 with the DC's certificate, and refuses a certificate from another CA", async () => {
    const starttls = source({ urls: [ad.url], startTls: true });
    expect((await starttls.login("AD\\user0002", "Passw0rd-0002"))?.username).toBe("user0002");
    const wrongCa = source({ caFile: env.ca.otherCaCertFile });
    await expect(wrongCa.login("user0002", "Passw0rd-0002")).rejects.toMatchObject({ code: "directory_unavailable" });
  });

  it("finds nested groups through the in-chain matching rule", async () => {
    const s = source();
    expect((await s.lookup("user0001"))?.groups).toEqual(["g-all", "g-inner", "g-outer", "g-top"]);
    expect((await s.lookup("user0002"))?.groups).toEqual(["g-all", "g-outer", "g-top"]);
    expect((await s.lookup("user0003"))?.groups).toEqual(["g-all"]);
  });

  it("pages through 500+ people; the disabled and the expired are not listed but are marked in the id listing", async () => {
    const s = source();
    const listed = new Map<string, string>();
    for await (const who of s.list({ pageSize: 100 })) listed.set(who.username, who.id);
    expect(listed.size).toBeGreaterThanOrEqual(500);
    for (const gone of ["user0050", "user0100", "user0299"]) expect(listed.has(gone)).toBe(false);
    const accounts = new Map<string, boolean>();
    for await (const a of s.accounts({ pageSize: 100 })) accounts.set(a.username, a.disabled);
    expect(accounts.size).toBeGreaterThanOrEqual(ad.users);
    expect([accounts.get("user0050"), accounts.get("user0299"), accounts.get("user0001")]).toEqual([true, true, false]);
  }, 120_000);

  it("lists the changes since a mark by uSNChanged: a changed person, and the members of a changed group", async () => {
    const s = source();
    const mark = await s.mark();
    expect(mark).toMatch(/^usn:\d+:CN=NTDS Settings,/);
    const changedSince = async (m: string) => {
      const names: string[] = [];
      for await (const who of s.list({ pageSize: 100, changedSince: m })) names.push(who.username);
      return names;
    };
    expect(await changedSince(mark)).not.toContain("user0003");
    await adm.modify(`CN=user0003,${ad.peopleDn}`, [
      new Change({
        operation: "replace",
        modification: new Attribute({ type: "description", values: [`changed ${Date.now()}`] }),
      }),
    ]);
    const afterEdit = await changedSince(mark);
    expect(afterEdit).toContain("user0003");
    // Logins write lastLogonTimestamp (a change too), but nowhere near everyone changed.
    expect(afterEdit.length).toBeLessThan(50);
    // Joining a group changes the group, not the person: the group's members count as changed.
    const next = await s.mark();
    const member = (op: "add" | "delete") =>
      adm.modify(`CN=g-inner,${ad.groupsDn}`, [
        new Change({
          operation: op,
          modification: new Attribute({ type: "member", values: [`CN=user0004,${ad.peopleDn}`] }),
        }),
      ]);
    await member("add");
    try {
      expect(await changedSince(next)).toContain("user0004");
      expect((await s.lookup("user0004"))?.groups).toContain("g-top");
    } finally {
      await member("delete");
    }
    // A mark of another DC is no mark: everyone.
    expect((await changedSince("usn:1:CN=NTDS Settings,CN=DC9")).length).toBeGreaterThanOrEqual(500);
  }, 120_000);

  it("detects a deleted person: the offboarding id listing reports the departure; the tombstone keeps the id", async () => {
    const s = source();
    const name = `gone-${randomBytes(3).toString("hex")}`;
    const dn = `CN=${name},${ad.peopleDn}`;
    await adm.add(dn, {
      objectClass: ["top", "person", "organizationalPerson", "user"],
      sAMAccountName: name,
      userPrincipalName: `${name}@${ad.dnsDomain}`,
      unicodePwd: Buffer.from('"Gone-Passw0rd-1"', "utf16le") as unknown as string,
      userAccountControl: "512",
    });
    const detector = new DepartureDetector({
      sources: [s],
      store: new MemoryStore(),
      audit: async () => {},
      maxDepartures: 5,
    });
    const first = await detector.look();
    await first.commit();
    const id = (await s.login(name, "Gone-Passw0rd-1"))?.id;
    expect(id).toMatch(/^ad:/);
    await adm.del(dn);
    const second = await detector.look();
    expect(second.changes).toEqual([{ person: { id, username: name }, kind: "departed", sourceId: "ad" }]);
    // With the Show Deleted control (1.2.840.113556.1.4.417; administrators only) the tombstone still carries
    // the objectGUID the id was made of.
    const { searchEntries } = await adm.search(
      `CN=Deleted Objects,${ad.baseDn}`,
      {
        filter: `(sAMAccountName=${name})`,
        attributes: ["objectGUID", "isDeleted"],
        explicitBufferAttributes: ["objectGUID"],
      },
      new Control("1.2.840.113556.1.4.417", { critical: true }),
    );
    expect(searchEntries[0]?.isDeleted).toBe("TRUE");
    expect(`ad:${activeDirectory.guidToString(searchEntries[0]!.objectGUID as Buffer)}`).toBe(id);
  }, 120_000);

  it("reads SSH keys from a configured attribute instead", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFk2K5pD4v5xHqY5j1xZr3YtY1dM5rH2q8Zk0s9U8mQw user0005@info";
    await adm.modify(`CN=user0005,${ad.peopleDn}`, [
      new Change({ operation: "replace", modification: new Attribute({ type: "info", values: [key] }) }),
    ]);
    expect((await source({ sshKeyAttribute: "info" }).lookup("user0005"))?.sshKeys).toEqual([key]);
    expect((await source().lookup("user0005"))?.sshKeys).toEqual([]);
  });
});
