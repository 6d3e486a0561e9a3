import { describe, expect, it } from "vitest";
import { LdapSourceSchema } from "../../../src/config/index.js";
import { activeDirectory as ad, ldapSettings } from "../../../src/identity/ldap/index.js";

describe("Active Directory encodings", () => {
  it("renders objectGUID with the first three fields little-endian, as AD tools print it", () => {
    // objectGUID:: xSyLz0SnskGnD67FuKIpdw== is cf8b2cc5-a744-41b2-a70f-aec5b8a22977 (samba-tool user show).
    expect(ad.guidToString(Buffer.from("xSyLz0SnskGnD67FuKIpdw==", "base64"))).toBe(
      "cf8b2cc5-a744-41b2-a70f-aec5b8a22977",
    );
    expect(ad.guidToString(Buffer.from("000102030405060708090a0b0c0d0e0f", "hex"))).toBe(
      "03020100-0504-0706-0809-0a0b0c0d0e0f",
    );
    expect(() => ad.guidToString(Buffer.alloc(15))).toThrow(/16 bytes/);
  });

  it("reads userAccountControl: disabled from ACCOUNTDISABLE, lockout and password expiry apart", () => {
    expect(ad.uacFlags("512")).toEqual({ disabled: false, locked: false, passwordExpired: false });
    expect(ad.uacFlags("514")).toMatchObject({ disabled: true });
    expect(ad.uacFlags("66050")).toMatchObject({ disabled: true }); // NORMAL | DONT_EXPIRE_PASSWORD | DISABLE
    expect(ad.uacFlags(String(0x200 | 0x10))).toEqual({ disabled: false, locked: true, passwordExpired: false });
    expect(ad.uacFlags(String(0x200 | 0x800000))).toMatchObject({ passwordExpired: true, disabled: false });
    expect(ad.uacFlags(undefined)).toMatchObject({ disabled: false });
    expect(ad.uacFlags("garbage")).toMatchObject({ disabled: false });
  });

  it("reads accountExpires: 0 and 0x7FFFFFFFFFFFFFFF mean never, otherwise 100-ns ticks since 1601", () => {
    const now = new Date("2026-12-06T00:00:00Z");
    expect(ad.accountExpiry("0")).toBeUndefined();
    expect(ad.accountExpiry("9223372036854775807")).toBeUndefined();
    expect(ad.accountExpiry(undefined)).toBeUndefined();
    expect(ad.accountExpiry("116444736000000000")?.toISOString()).toBe("1970-01-01T00:00:00.000Z");
    // 2026-12-05T00:00:00Z in FILETIME ticks.
    const yesterday = (BigInt(Date.parse("2026-12-05T00:00:00Z")) * 10_000n + 116_444_736_000_000_000n).toString();
    expect(ad.accountExpiry(yesterday)?.toISOString()).toBe("2026-12-05T00:00:00.000Z");
    expect(ad.accountExpired(yesterday, now)).toBe(true);
    expect(ad.accountExpired(yesterday, new Date("2026-12-04T23:59:59Z"))).toBe(false);
    expect(ad.accountExpired("0", now)).toBe(false);
    expect(ad.accountExpired("9223372036854775807", now)).toBe(false);
  });

  it("parses DOMAIN\\user, user@suffix and bare names; another domain's down-level name is nobody", () => {
    const domain = { netbios: "AD", dns: "ad.example.org" };
    expect(ad.parseLogonName("AD\\user0001", domain)).toEqual({ kind: "sam", sam: "user0001" });
    expect(ad.parseLogonName("ad\\user0001", domain)).toEqual({ kind: "sam", sam: "user0001" });
    expect(ad.parseLogonName("ad.example.org\\user0001", domain)).toEqual({ kind: "sam", sam: "user0001" });
    expect(ad.parseLogonName("OTHER\\user0001", domain)).toBeNull();
    expect(ad.parseLogonName("AD\\", domain)).toBeNull();
    expect(ad.parseLogonName("AD\\a\\b", domain)).toBeNull();
    expect(ad.parseLogonName("AD\\user0001", {})).toBeNull();
    expect(ad.parseLogonName("user0001@ad.example.org", domain)).toEqual({
      kind: "upn",
      upn: "user0001@ad.example.org",
      local: "user0001",
      suffix: "ad.example.org",
    });
    expect(ad.parseLogonName("user0001", domain)).toEqual({ kind: "sam", sam: "user0001" });
    expect(ad.parseLogonName("@ad.example.org", domain)).toEqual({ kind: "sam", sam: "@ad.example.org" });
  });

  it("reads bind refusal codes; no code is a plain wrong password", () => {
    const msg = (code: string) =>
      `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data ${code}, v1db1`;
    expect(ad.bindRefusal(msg("52e"))).toEqual({ code: "52e", reason: "invalid_credentials" });
    expect(ad.bindRefusal(msg("532")).reason).toBe("password_expired");
    expect(ad.bindRefusal(msg("533")).reason).toBe("account_disabled");
    expect(ad.bindRefusal(msg("701")).reason).toBe("account_expired");
    expect(ad.bindRefusal(msg("773")).reason).toBe("must_change_password");
    expect(ad.bindRefusal(msg("775")).reason).toBe("account_locked");
    expect(ad.bindRefusal(msg("52f")).reason).toBe("unknown");
    expect(ad.bindRefusal("Invalid credentials")).toEqual({ code: undefined, reason: "invalid_credentials" });
  });

  it("makes and reads uSNChanged marks that name their DC", () => {
    const mark = ad.usnMark("4871", "CN=NTDS Settings,CN=DC1,CN=Servers");
    expect(ad.parseUsnMark(mark)).toEqual({ usn: 4871n, dc: "CN=NTDS Settings,CN=DC1,CN=Servers" });
    expect(ad.parseUsnMark("2026-12-06T00:00:00.000Z")).toBeUndefined();
    expect(ad.parseUsnMark("usn:x:dc")).toBeUndefined();
  });

  it("keeps only OpenSSH-shaped key lines", () => {
    expect(ad.isSshKeyLine("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq a@b")).toBe(true);
    expect(ad.isSshKeyLine("ecdsa-sha2-nistp256 AAAAE2VjZHNh")).toBe(true);
    expect(ad.isSshKeyLine("Kerberos:user0001@AD.EXAMPLE.ORG")).toBe(false);
    expect(ad.isSshKeyLine("X509:<I>DC=org,DC=example<S>CN=user0001")).toBe(false);
  });

  it("the preset as shipped: sAMAccountName, objectGUID, in-chain groups, uSNChanged, altSecurityIdentities", () => {
    const s = ldapSettings(
      LdapSourceSchema.parse({
        id: "ad",
        type: "ldap",
        preset: "active-directory",
        urls: ["ldaps://dc"],
        baseDn: "DC=x",
      }),
    );
    expect(s).toMatchObject({
      usernameAttribute: "sAMAccountName",
      idAttribute: "objectGUID",
      inChain: true,
      nested: true,
      logonNames: true,
      uacAttribute: "userAccountControl",
      expiresAttribute: "accountExpires",
      changedAttribute: "uSNChanged",
      changeMark: "usn",
      sshKeyAttribute: "altSecurityIdentities",
      sshKeysOnly: true,
    });
    const own = ldapSettings(
      LdapSourceSchema.parse({
        id: "ad",
        type: "ldap",
        preset: "active-directory",
        urls: ["ldaps://dc"],
        baseDn: "DC=x",
        sshKeyAttribute: "extensionAttribute1",
        netbiosDomain: "CORP",
      }),
    );
    expect(own).toMatchObject({ sshKeyAttribute: "extensionAttribute1", netbiosDomain: "CORP" });
  });
});
