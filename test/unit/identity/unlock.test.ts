import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGateway, type Gateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// The whole gateway from the example config (static demo users, memory store): the facade, /api/v1 and /metrics.
const CONFIG = "config/archway.example.yaml";
let runtime: Runtime;
let gateway: Gateway;
let app: ReturnType<typeof gatewayApp>["app"];

beforeAll(() => {
  runtime = buildRuntime(CONFIG, captureIO());
  gateway = buildGateway(runtime);
  app = gatewayApp(runtime, gateway).app;
});
afterAll(async () => {
  await gateway.close();
  await runtime.close();
});

const login = (name: string, password: string) =>
  app.request("/v3/auth/tokens", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: { identity: { methods: ["password"], password: { user: { name, domain: { id: "default" }, password } } } },
    }),
  });

const unlock = (token: string, body: unknown) =>
  app.request("/api/v1/admin/unlock", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

describe("unlock through the API, audited and counted", () => {
  it("an admin unlocks a person locked on /v3; the lock answered 429 with Retry-After", async () => {
    for (let i = 0; i < 5; i++) expect((await login("bob", `wrong-${i}`)).status).toBe(401);
    const locked = await login(" BOB", "bob-demo");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);

    const admin = await login("alice", "alice-demo");
    expect(admin.status).toBe(201);
    const token = admin.headers.get("x-subject-token") ?? "";
    const res = await unlock(token, { person: "Bob" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ person: "Bob", known: true, cleared: expect.any(Number) });
    expect((await login("bob", "bob-demo")).status).toBe(201);

    const audit = await runtime.store.read("audit", { latest: true, limit: 50 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "login.unlocked", actor: "alice", person: "Bob", via: "api" }),
    );
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "login.locked", scope: "user_address", actor: "bob" }),
    );
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toMatch(/archway_login_unlocks_total\{via="api"\} 1/);
    expect(metrics).toMatch(/archway_login_lockouts_total\{kind="password",scope="user_address"\} 1/);
    expect(metrics).toMatch(/archway_login_refused_total\{kind="password",scope="user_address"\} 1/);
  }, 30_000);

  it("refuses an unknown person (404), a bad body (400) and a non-admin (403)", async () => {
    const admin = await login("alice", "alice-demo");
    const token = admin.headers.get("x-subject-token") ?? "";
    expect((await unlock(token, { person: "nobody-known" })).status).toBe(404);
    expect((await unlock(token, { person: "bob", extra: 1 })).status).toBe(400);
    const carol = await login("carol", "carol-demo");
    expect((await unlock(carol.headers.get("x-subject-token") ?? "", { person: "bob" })).status).toBe(403);
  }, 30_000);
});

describe("archway identity unlock", () => {
  it("unlocks a known person (text and JSON), exit 1 for an unknown one, exit 2 for bad usage", async () => {
    const text = captureIO({ USER: "ops" });
    expect(await runCli(["identity", "unlock", "bob", "--config", CONFIG], text)).toBe(0);
    expect(text.stdout()).toMatch(/^unlocked 'bob': \d+ limit\(s\) cleared \(.*name:demo:bob/);
    const json = captureIO();
    expect(await runCli(["identity", "unlock", "ＢＯＢ", "--json", "--config", CONFIG], json)).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ person: "ＢＯＢ", known: true, subjects: expect.any(Array) });
    const unknown = captureIO();
    expect(await runCli(["identity", "unlock", "nobody-known", "--config", CONFIG], unknown)).toBe(1);
    expect(unknown.stderr()).toMatch(/no identity source knows 'nobody-known'/);
    expect(await runCli(["identity", "unlock", "bob", "--force", "--config", CONFIG], captureIO())).toBe(2);
    expect(await runCli(["identity", "unlock", "--config", CONFIG], captureIO())).toBe(2);
    expect(await runCli(["identity", "unlock", "bob", "carol", "--config", CONFIG], captureIO())).toBe(2);
  }, 30_000);
});

describe("unlock from the admin page", () => {
  /** A browser's cookie jar over `app.request`. */
  function browser() {
    const jar = new Map<string, string>();
    const send = async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
      const res = await app.request(path, { ...init, headers, redirect: "manual" });
      for (const line of res.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return res;
    };
    const form = (path: string, fields: Record<string, string>) =>
      send(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(fields).toString(),
      });
    const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return { send, form, csrfOf };
  }

  it("lists the lockout and unlocks with the CSRF-protected form; a form without the token is refused", async () => {
    for (let i = 0; i < 5; i++) await login("carol", `wrong-${i}`);
    expect((await login("carol", "carol-demo")).status).toBe(429);

    const b = browser();
    const loginPage = await (await b.send("/login")).text();
    const signedIn = await b.form("/login/password", {
      csrf: b.csrfOf(loginPage),
      source: "demo",
      username: "alice",
      password: "alice-demo",
    });
    expect(signedIn.status).toBe(303);
    const page = await (await b.send("/admin/lockouts")).text();
    expect(page).toContain("name:demo:carol");
    expect(page).toContain('action="/admin/lockouts/unlock"');
    expect((await b.form("/admin/lockouts/unlock", { person: "carol" })).status).toBe(403);
    expect((await login("carol", "carol-demo")).status).toBe(429);
    const done = await b.form("/admin/lockouts/unlock", { csrf: b.csrfOf(page), person: "name:demo:carol" });
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toMatch(/^\/admin\/lockouts\?unlocked=name%3Ademo%3Acarol&cleared=[1-9]/);
    expect((await login("carol", "carol-demo")).status).toBe(201);
    const audit = await runtime.store.read("audit", { latest: true, limit: 30 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "login.unlocked", actor: "alice", via: "web" }),
    );
  }, 30_000);
});

describe("one guard behind /v3, /login and the OAuth password grant", () => {
  const grant = (username: string, password: string) =>
    app.request("/oauth2/token", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("demo-cli:demo-idp-client-secret").toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "password", username, password, scope: "openid" }).toString(),
    });

  it("failures on the password grant limit /v3 and /login too, each refusal with Retry-After; answers stay uniform", async () => {
    const unknown = await grant("nobody-known", "x");
    const wrong = await grant("bob", "wrong");
    expect([unknown.status, await unknown.json()]).toEqual([wrong.status, await wrong.json()]);
    for (let i = 0; i < 4; i++) expect((await grant("BOB", `wrong-${i}`)).status).toBe(400);
    const refused = await grant("bob", "bob-demo");
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const facade = await login("bob", "bob-demo");
    expect(facade.status).toBe(429);
    const page = await app.request("/login");
    const cookie = page.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
    const form = await app.request("/login/password", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ csrf, source: "demo", username: "bob", password: "bob-demo" }).toString(),
    });
    expect(form.status).toBe(429);
    expect(Number(form.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await form.text()).toContain("Too many failed attempts");
  }, 30_000);
});
