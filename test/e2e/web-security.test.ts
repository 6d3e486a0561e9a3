import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshKey } from "../helpers/ssh-key.js";
import { startWeb, type WebHarness } from "./web-harness.js";

// The pages' defences, driven with plain HTTP so each request is exactly what an attacker could send.
let h: WebHarness;

beforeAll(async () => {
  h = await startWeb(18098);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** A cookie jar of one browser: name -> value. */
type Jar = Map<string, string>;
const cookieHeader = (jar: Jar) => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
function keep(jar: Jar, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const [name, ...value] = (pair ?? "").split("=");
    if (!name) continue;
    if (/Max-Age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value.join("="));
  }
}
async function get(jar: Jar, path: string): Promise<Response> {
  const res = await fetch(`${h.url}${path}`, { headers: { cookie: cookieHeader(jar) }, redirect: "manual" });
  keep(jar, res);
  return res;
}
async function post(jar: Jar, path: string, form: Record<string, string>): Promise<Response> {
  const res = await fetch(`${h.url}${path}`, {
    method: "POST",
    headers: { cookie: cookieHeader(jar), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
  keep(jar, res);
  return res;
}
const csrfIn = (html: string) => html.match(/name="csrf" value="([^"]+)"/)?.[1] ?? "";

async function signIn(username: string, password = `pass-${username}`, returnTo = "/") {
  const jar: Jar = new Map();
  const page = await (await get(jar, `/login?return_to=${encodeURIComponent(returnTo)}`)).text();
  const res = await post(jar, "/login/password", {
    csrf: csrfIn(page),
    source: "corp",
    username,
    password,
    return_to: returnTo,
  });
  return { jar, res, csrf: csrfIn(await (await get(jar, "/")).text()) };
}

describe("sign-in", () => {
  it("refuses a login post without the CSRF token, or with another browser's", async () => {
    const jar: Jar = new Map();
    await get(jar, "/login");
    const form = { source: "corp", username: "user0001", password: "pass-user0001" };
    expect((await post(jar, "/login/password", form)).status).toBe(403);
    const other: Jar = new Map();
    const otherCsrf = csrfIn(await (await get(other, "/login")).text());
    expect((await post(jar, "/login/password", { ...form, csrf: otherCsrf })).status).toBe(403);
  });

  it("answers a wrong password and an unknown user the same way", async () => {
    const wrong = await signIn("user0002", "nope");
    const unknown = await signIn("nobody-here", "nope");
    expect(wrong.res.status).toBe(401);
    expect(unknown.res.status).toBe(401);
    const message = (html: string) => html.match(/role="alert">([^<]*)</)?.[1];
    const a = message(await wrong.res.text());
    expect(a).toContain("did not match");
    expect(message(await unknown.res.text())).toBe(a);
  });

  it("goes back only to same-origin relative paths", async () => {
    expect((await signIn("user0001", undefined, "/admin/plan?x=1")).res.headers.get("location")).toBe(
      "/admin/plan?x=1",
    );
    for (const evil of ["//evil.example/", "/\\evil.example", "https://evil.example/", "/%0d%0aSet-Cookie:x"]) {
      const location = (await signIn("user0001", undefined, evil)).res.headers.get("location");
      expect(location === "/" || location === evil).toBe(true);
      expect(location).not.toMatch(/^\/\/|^https?:|\\/);
    }
  });

  it("serves pages with a strict CSP and no inline script", async () => {
    const { jar } = await signIn("user0001");
    const res = await get(jar, "/");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("content-security-policy")).toContain("form-action 'self'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(await res.text()).not.toMatch(/<script|style=/i);
    const cookie = (await signIn("user0001")).res.headers.getSetCookie().join("\n");
    expect(cookie).toMatch(/__Host-archway_session=[^;]+;.*HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });
});

describe("sessions and forms", () => {
  it("refuses a form post without the CSRF token, or with another session's token", async () => {
    const a = await signIn("user0001");
    const b = await signIn("user0010");
    const key = sshKey("csrf-test");
    expect((await post(a.jar, "/keys", { publicKey: key })).status).toBe(403);
    expect((await post(a.jar, "/keys", { publicKey: key, csrf: b.csrf })).status).toBe(403);
    const mine = (await (
      await fetch(`${h.url}/api/v1/me/keys`, { headers: { cookie: cookieHeader(a.jar) } })
    ).json()) as { keys: unknown[] };
    expect(mine.keys).toEqual([]);
  });

  it("refuses a session cookie that is forged, spliced from another session, or signed out", async () => {
    const a = await signIn("user0001");
    const b = await signIn("user0010");
    const name = "__Host-archway_session";
    const [sidA] = (a.jar.get(name) ?? "").split(".");
    const [, macB] = (b.jar.get(name) ?? "").split(".");
    const spliced: Jar = new Map([[name, `${sidA}.${macB}`]]);
    expect((await get(spliced, "/")).status).toBe(303);
    const forged: Jar = new Map([[name, `${"A".repeat(43)}.${macB}`]]);
    expect((await get(forged, "/")).headers.get("location")).toBe("/login?return_to=%2F");
    const stolen = new Map(a.jar);
    expect((await get(stolen, "/")).status).toBe(200);
    expect((await post(a.jar, "/logout", { csrf: a.csrf })).status).toBe(303);
    expect((await get(stolen, "/")).status).toBe(303);
    expect((await fetch(`${h.url}/api/v1/me`, { headers: { cookie: cookieHeader(stolen) } })).status).toBe(401);
  });

  it("renders an SSH key comment with script or @import inert", async () => {
    const a = await signIn("user0001");
    const comment = `<script>alert(1)</script><style>@import url(//evil.example/x.css)</style>`;
    const res = await fetch(`${h.url}/api/v1/me/keys`, {
      method: "POST",
      headers: { cookie: cookieHeader(a.jar), "content-type": "application/json", "x-csrf-token": a.csrf },
      body: JSON.stringify({ publicKey: sshKey(comment) }),
    });
    expect(res.status).toBe(201);
    const html = await (await get(a.jar, "/")).text();
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<style>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&lt;style&gt;@import");
  }, 90_000);
});

describe("/api/v1", () => {
  it("takes an Archway bearer token, and refuses cookie writes without X-CSRF-Token", async () => {
    const issued = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "user0010", domain: { name: "corp" }, password: "pass-user0010" } },
          },
        },
      }),
    });
    const token = issued.headers.get("x-subject-token") ?? "";
    const me = await fetch(`${h.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { username: string; admin: boolean; clouds: { cloudId: string }[] };
    expect(body).toMatchObject({ username: "user0010", admin: true });
    expect(body.clouds.map((c) => c.cloudId)).toEqual(["cloud-1", "cloud-2", "cloud-3"]);
    expect((await fetch(`${h.url}/api/v1/admin/clouds`, { headers: { "x-auth-token": token } })).status).toBe(200);
    expect((await fetch(`${h.url}/api/v1/me`)).status).toBe(401);
    expect((await fetch(`${h.url}/api/v1/me`, { headers: { authorization: "Bearer x.y.z" } })).status).toBe(401);

    const a = await signIn("user0001");
    const write = await fetch(`${h.url}/api/v1/me/keys`, {
      method: "POST",
      headers: { cookie: cookieHeader(a.jar), "content-type": "application/json" },
      body: JSON.stringify({ publicKey: sshKey("no-csrf") }),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { error: { code: string } }).error.code).toBe("csrf_failed");
    const admin = await fetch(`${h.url}/api/v1/admin/audit`, { headers: { cookie: cookieHeader(a.jar) } });
    expect(admin.status).toBe(403);
  });
});
