import { describe, expect, it } from "vitest";
import type { PasswordSource, RedirectSource, RedirectStart } from "../../src/identity/index.js";
import { isEnumerableSource, isLookupSource } from "../../src/identity/index.js";

/** What a conformance run needs: a source and people it knows. */
export interface IdentityFixture {
  source: PasswordSource;
  user: { username: string; password: string; groups: string[] };
  other: { username: string; password: string };
  disabled?: { username: string; password: string };
}

/** The one suite every password identity source must pass (static, LDAP, ...). */
export function describeIdentityConformance(
  name: string,
  fixture: () => Promise<IdentityFixture> | IdentityFixture,
): void {
  describe(`identity source conformance: ${name}`, () => {
    it("returns the identity for the right password, with a stable source-scoped id", async () => {
      const { source, user } = await fixture();
      const a = await source.login(user.username, user.password);
      const b = await source.login(user.username, user.password);
      expect(a).toMatchObject({ source: source.id, username: user.username });
      expect(a?.id).toMatch(new RegExp(`^${source.id}:.+`));
      expect(b?.id).toBe(a?.id);
      expect(a?.groups).toEqual(expect.arrayContaining(user.groups));
    });

    it("answers null, not an error, for a wrong password, an unknown user and an empty password", async () => {
      const { source, user } = await fixture();
      expect(await source.login(user.username, `${user.password}x`)).toBeNull();
      expect(await source.login("no-such-person-anywhere", user.password)).toBeNull();
      expect(await source.login(user.username, "")).toBeNull();
    });

    it("never lets one person's password open another's account", async () => {
      const { source, user, other } = await fixture();
      expect(await source.login(user.username, other.password)).toBeNull();
      expect((await source.login(other.username, other.password))?.username).toBe(other.username);
    });

    it("refuses a disabled account even with the right password", async () => {
      const { source, disabled } = await fixture();
      if (!disabled) return;
      expect(await source.login(disabled.username, disabled.password)).toBeNull();
    });

    it("looks people up without a password when it can, and agrees with login", async () => {
      const { source, user } = await fixture();
      if (!isLookupSource(source)) return;
      const looked = await source.lookup(user.username);
      expect(looked).toEqual(await source.login(user.username, user.password));
      expect(await source.lookup("no-such-person-anywhere")).toBeNull();
    });

    it("enumerates people with the same ids as login", async () => {
      const { source, user } = await fixture();
      if (!isEnumerableSource(source)) return;
      const seen = new Map<string, string>();
      for await (const identity of source.list({ pageSize: 100 })) seen.set(identity.username, identity.id);
      expect(seen.get(user.username)).toBe((await source.login(user.username, user.password))?.id);
    });
  });
}

/** What a redirect-source conformance run needs: a source, how to pass its upstream's login, and two people. */
export interface RedirectFixture {
  source: RedirectSource;
  redirectUri: string;
  /** Passes the upstream's login for `start` as `user` (a fresh browser) and returns the callback it sends. */
  login(
    start: RedirectStart,
    user: { username: string; password: string },
  ): Promise<{ url: URL; form?: URLSearchParams }>;
  user: { username: string; password: string; groups: string[] };
  other: { username: string; password: string };
}

/** The suite every redirect (upstream SSO) source must pass (OIDC, SAML): the parts of the password suite that apply. */
export function describeRedirectConformance(
  name: string,
  fixture: () => Promise<RedirectFixture> | RedirectFixture,
): void {
  describe(`redirect source conformance: ${name}`, () => {
    const signIn = async (f: RedirectFixture, user: { username: string; password: string }) => {
      const start = await f.source.beginLogin({ redirectUri: f.redirectUri });
      const callback = await f.login(start, user);
      return f.source.completeLogin(callback.url, start.pending, callback.form);
    };

    it("signs a person in with a stable source-scoped id and their groups", async () => {
      const f = await fixture();
      const a = await signIn(f, f.user);
      const b = await signIn(f, f.user);
      expect(a.identity).toMatchObject({ source: f.source.id, username: f.user.username });
      expect(a.identity.id).toMatch(new RegExp(`^${f.source.id}:.+`));
      expect(b.identity.id).toBe(a.identity.id);
      expect(a.identity.groups).toEqual(expect.arrayContaining(f.user.groups));
    });

    it("never gives one person another's identity", async () => {
      const f = await fixture();
      const a = await signIn(f, f.user);
      const o = await signIn(f, f.other);
      expect(o.identity.username).toBe(f.other.username);
      expect(o.identity.id).not.toBe(a.identity.id);
    });

    it("refuses a callback completed a second time", async () => {
      const f = await fixture();
      const start = await f.source.beginLogin({ redirectUri: f.redirectUri });
      const callback = await f.login(start, f.user);
      await f.source.completeLogin(callback.url, start.pending, callback.form);
      await expect(f.source.completeLogin(callback.url, start.pending, callback.form)).rejects.toMatchObject({
        code: "login_failed",
      });
    });

    it("refuses a callback answered for another round trip", async () => {
      const f = await fixture();
      const mine = await f.source.beginLogin({ redirectUri: f.redirectUri });
      const theirs = await f.source.beginLogin({ redirectUri: f.redirectUri });
      const callback = await f.login(theirs, f.user);
      await expect(f.source.completeLogin(callback.url, mine.pending, callback.form)).rejects.toMatchObject({
        code: "login_failed",
      });
    });

    it("answers readiness while the upstream is up", async () => {
      const f = await fixture();
      await expect(f.source.ping()).resolves.toBeUndefined();
    });
  });
}
