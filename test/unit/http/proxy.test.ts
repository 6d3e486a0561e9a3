import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FACADE_AUDIENCE, safeTarget } from "../../../src/http/index.js";
import { withoutProject } from "../../../src/http/keystone/catalog.js";
import {
  withCloudProjectBody,
  withCloudProjectPath,
  withCloudProjectQuery,
} from "../../../src/http/proxy/project-ids.js";
import { isJsonBody } from "../../../src/http/proxy/request-body.js";
import { projectScopeId } from "../../../src/tokens/index.js";
import { proxyFixture } from "./proxy-fixture.js";

// The proxy against a local echo server standing in for a cloud's service (the real Nova path is covered by the
// openstack CLI integration test): what reaches the upstream, and what comes back.
let upstream: Server;
let upstreamUrl: string;
const seen: { url?: string; headers?: IncomingHttpHeaders; body?: string } = {};
/** Called on each chunk of a request body the upstream receives (streaming tests wait for it). */
let onUpstreamData: (() => void) | undefined;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
      onUpstreamData?.();
    });
    req.on("end", () => {
      Object.assign(seen, { url: req.url, headers: req.headers, body });
      if (req.url?.startsWith("/v2.1/redirect-off")) {
        res.writeHead(302, { location: "https://evil.example/steal" });
        return res.end();
      }
      if (req.url?.startsWith("/v2.1/headers-back")) {
        // A cloud (or something in front of it) answering with headers that must not reach the client.
        res.setHeader("connection", "x-hop-private, close");
        res.setHeader("x-hop-private", "1");
        res.setHeader("x_subject_token", "leak");
        res.setHeader("set_cookie", "s=1");
        res.setHeader("x-openstack-request-id", "req-1");
        return res.end("{}");
      }
      if (req.url?.startsWith("/v2.1/redirect-in")) {
        res.writeHead(302, { location: `${upstreamUrl}/v2.1/servers/1` });
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/json", "x-subject-token": "leak", connection: "keep-alive" });
      res.end(JSON.stringify({ links: [{ href: `${upstreamUrl}/v2.1/flavors` }], echo: body.length }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

function setup() {
  return proxyFixture({ upstreamUrl, config: { http: { bodyLimitBytes: 4096 } } });
}

describe("cloud proxy", () => {
  it("swaps the Archway token for the Keystone token and never passes incoming tokens or hop-by-hop headers on", async () => {
    const { app, token } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/os-keypairs?limit=5", {
      headers: {
        "x-auth-token": token,
        "x-subject-token": "smuggled",
        authorization: "Bearer smuggled",
        connection: "x-custom",
        "x-custom": "1",
        "keep-alive": "timeout=5",
        cookie: "s=1",
      },
    });
    expect(res.status).toBe(200);
    expect(seen.url).toBe("/v2.1/os-keypairs?limit=5");
    expect(seen.headers?.["x-auth-token"]).toBe("keystone-token-for-c1");
    for (const h of ["x-subject-token", "authorization", "keep-alive", "cookie"])
      expect(seen.headers?.[h]).toBeUndefined();
    expect(res.headers.get("x-subject-token")).toBeNull();
    // Metrics label a proxied call by the proxy's route pattern, never by the path a client chose.
    const metrics = await (await app.request("/metrics")).text();
    expect(metrics).toContain('route="/clouds/:cloud/:service/*",status="200"');
    expect(metrics).not.toContain("os-keypairs");
  });

  // Issue 22, item 6: `X_Auth_Token`, `X_Service_Token`, `X_Forwarded_*` and headers named in `Connection:` reached
  // the cloud; Python services read `_` as `-`, so `X_Auth_Token: junk` replaced the person's token.
  it("drops tokens and forwarding claims however they are spelt, and every header Connection names", async () => {
    const { app, token } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/os-keypairs", {
      headers: {
        "x-auth-token": token,
        X_Auth_Token: "junk",
        "X-AUTH_TOKEN": "junk",
        X_Service_Token: "junk",
        x_subject_token: "junk",
        X_Forwarded_For: "203.0.113.9",
        X_Forwarded_Host: "evil.example",
        "X-Forwarded-Prefix": "/evil",
        "x-forwarded-port": "443",
        Forwarded: "for=203.0.113.9",
        "X-Real-IP": "203.0.113.9",
        Connection: "X-Named-One, x_named_two",
        "X-Named-One": "1",
        "X-Named-Two": "2",
        X_Ambiguous: "which?",
        "X-Ambiguous": "this?",
        "X-OpenStack-Nova-API-Version": "2.10",
        X_Only_Underscore: "kept",
      },
    });
    expect(res.status).toBe(200);
    const sent = seen.headers ?? {};
    expect(sent["x-auth-token"]).toBe("keystone-token-for-c1");
    const folded = Object.keys(sent).map((name) => name.replaceAll("_", "-"));
    for (const gone of [
      "x-service-token",
      "x-subject-token",
      "x-forwarded-for",
      "x-forwarded-host",
      "x-forwarded-prefix",
      "x-forwarded-port",
      "forwarded",
      "x-real-ip",
      "x-named-one",
      "x-named-two",
    ]) {
      expect(folded, gone).not.toContain(gone);
    }
    // Exactly one token, the broker's, whatever the cloud's server folds together.
    expect(folded.filter((name) => name === "x-auth-token")).toHaveLength(1);
    // Of two spellings of one name the underscore one goes; ordinary headers pass.
    expect(sent).not.toHaveProperty("x_ambiguous");
    expect(sent["x-ambiguous"]).toBe("this?");
    expect(sent["x-openstack-nova-api-version"]).toBe("2.10");
    expect(sent.x_only_underscore).toBe("kept");
  });

  it("drops from the cloud's answer the headers its Connection names, and tokens and cookies however spelt", async () => {
    const { app, token } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/headers-back", { headers: { "x-auth-token": token } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-hop-private")).toBeNull();
    expect(res.headers.get("x_subject_token")).toBeNull();
    expect(res.headers.get("set_cookie")).toBeNull();
    expect(res.headers.get("x-openstack-request-id")).toBe("req-1");
  });

  it("rewrites links in JSON replies and same-origin Location headers back through the proxy", async () => {
    const { app, token } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/flavors", { headers: { "x-auth-token": token } });
    expect(JSON.stringify(await res.json())).toContain("http://archway.test/clouds/c1/compute/v2.1/flavors");
    const moved = await app.request("/clouds/c1/compute/v2.1/redirect-in", { headers: { "x-auth-token": token } });
    expect(moved.headers.get("location")).toBe("http://archway.test/clouds/c1/compute/v2.1/servers/1");
  });

  it("drops a Location that points off the catalog", async () => {
    const { app, token } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/redirect-off", { headers: { "x-auth-token": token } });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBeNull();
  });

  it.each([
    "/clouds/c1/compute/v2.1/../../etc/passwd",
    "/clouds/c1/compute/v2.1/%2e%2e/%2e%2e/etc/passwd",
    "/clouds/c1/compute/v2.1/..%2f..%2fsecret",
    "/clouds/c1/compute/v2.1/%2E%2E/admin",
    "/clouds/c1/compute/v2.1/a%5c..%5cb",
    "/clouds/c1/compute/other-service/path",
  ])("refuses a path that leaves the service: %s", async (path) => {
    const { app, token } = await setup();
    seen.url = undefined;
    const res = await app.request(path, { headers: { "x-auth-token": token } });
    expect([400, 404]).toContain(res.status);
    expect(seen.url).toBeUndefined();
  });

  it("refuses an oversized body with 413 before contacting the cloud", async () => {
    const { app, token, brokered } = await setup();
    const res = await app.request("/clouds/c1/compute/v2.1/os-keypairs", {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/json", "content-length": "100000" },
      body: "x".repeat(100_000),
    });
    expect(res.status).toBe(413);
    expect(brokered).toEqual([]);
  });

  it("streams a chunked upload to the cloud, and refuses one over the limit with 413 the cloud never gets whole", async () => {
    const { app, token } = await setup();
    // The second half is sent only once the cloud has received the first: a proxy that buffered would stall. (JSON
    // bodies are read whole, to map project ids in them, see below: an upload is not JSON.)
    const chunked = (half: number) => {
      const upstreamGotData = new Promise<void>((resolve, reject) => {
        onUpstreamData = resolve;
        setTimeout(() => reject(new Error("the cloud got nothing before the upload ended: buffered?")), 5_000);
      });
      return app.request("/clouds/c1/compute/v2.1/os-keypairs", {
        method: "POST",
        headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
        body: new ReadableStream({
          async pull(c) {
            c.enqueue(new Uint8Array(half));
            await upstreamGotData.catch((err: unknown) => c.error(err));
            c.enqueue(new Uint8Array(half));
            c.close();
          },
        }),
        duplex: "half",
      } as RequestInit & { duplex: string });
    };
    const small = await chunked(1500);
    expect(small.status).toBe(200);
    expect(((await small.json()) as { echo: number }).echo).toBe(3000);
    delete seen.body;
    const big = await chunked(3000);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: { message: string } }).error.message).toMatch(/larger than 4096 bytes/);
    expect((seen.body as string | undefined)?.length ?? 0).toBeLessThan(6000);
    onUpstreamData = undefined;
  });

  it("refuses a missing, forged, expired, unscoped or revoked token, and a cloud the person has no project in", async () => {
    const { app, token, issued, tokens, sid } = await setup();
    const unscoped = await tokens.issue({
      subject: "demo:alice",
      audience: FACADE_AUDIENCE,
      ttlSeconds: 600,
      claims: { sid },
    });
    const refused = await app.request("/clouds/c1/compute/v2.1/x", { headers: { "x-auth-token": unscoped.token } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 403, title: "Forbidden" } });
    expect((await app.request("/clouds/c1/compute/v2.1/x")).status).toBe(401);
    expect(
      (await app.request("/clouds/c1/compute/v2.1/x", { headers: { "x-auth-token": `${token.slice(0, -4)}AAAA` } }))
        .status,
    ).toBe(401);
    expect((await app.request("/clouds/c9/compute/v2.1/x", { headers: { "x-auth-token": token } })).status).toBe(403);
    await tokens.revoke({ jti: issued.jti, exp: issued.expiresAt });
    const revoked = await app.request("/clouds/c1/compute/v2.1/x", { headers: { "x-auth-token": token } });
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ error: { code: 401, message: "the token was revoked" } });
  });

  it("keeps only the path under the endpoint, and the root for version discovery", () => {
    expect(safeTarget("http://10.0.0.1:8774/v2.1", "/v2.1/servers")?.href).toBe("http://10.0.0.1:8774/v2.1/servers");
    expect(safeTarget("http://10.0.0.1:8774/v2.1", "/")?.href).toBe("http://10.0.0.1:8774/");
    expect(safeTarget("http://10.0.0.1:8774/v2.1", "//evil.example/x")).toBeNull();
    expect(safeTarget("http://10.0.0.1:8774/v2.1", "/v2.1/../admin")).toBeNull();
  });
});

describe("the facade's project ids at the proxy", () => {
  const cloudProject = "0123456789abcdef0123456789abcdef";

  it("maps the token's own project id in the path and query to its id in the cloud, nothing else", async () => {
    const { app, token } = await setup();
    const facadeId = projectScopeId("archway", "proj");
    const other = "f".repeat(32);
    const res = await app.request(
      `/clouds/c1/compute/v2.1/os-quota-sets/${facadeId}/detail?project_id=${facadeId}&tenant_id=${other}&q=a%20b`,
      { headers: { "x-auth-token": token } },
    );
    expect(res.status).toBe(200);
    expect(seen.url).toBe(
      `/v2.1/os-quota-sets/${cloudProject}/detail?project_id=${cloudProject}&tenant_id=${other}&q=a%20b`,
    );
    await app.request(`/clouds/c1/compute/v2.1/os-quota-sets/${other}x${facadeId}`, {
      headers: { "x-auth-token": token },
    });
    expect(seen.url).toBe(`/v2.1/os-quota-sets/${other}x${facadeId}`);
  });

  it("keeps every path check on the mapped path", async () => {
    const { app, token, brokered } = await setup();
    const facadeId = projectScopeId("archway", "proj");
    for (const path of [`/v2.1/${facadeId}%2f..%2fx`, `/v2.1/${facadeId}%5cx`, `/${facadeId}/v2.1`]) {
      const before = brokered.length;
      const res = await app.request(`/clouds/c1/compute${path}`, { headers: { "x-auth-token": token } });
      expect(res.status, path).toBe(400);
      expect(brokered.length, path).toBe(before);
    }
  });

  it("maps whole segments and values only, and never splices an id that is not a plain Keystone id", () => {
    expect(withCloudProjectPath("/v3/abc/os-quota-sets/abc", ["abc"], "real")).toBe("/v3/real/os-quota-sets/real");
    expect(withCloudProjectPath("/v3/abcd", ["abc"], "real")).toBe("/v3/abcd");
    expect(withCloudProjectPath("/v3/abc", ["abc"], "../x")).toBe("/v3/abc");
    expect(withCloudProjectPath("/v3/abc", ["abc"], undefined)).toBe("/v3/abc");
    expect(withCloudProjectQuery("?a=abc&b=abcd&abc&c=", ["abc"], "real")).toBe("?a=real&b=abcd&abc&c=");
    expect(withCloudProjectQuery("", ["abc"], "real")).toBe("");
  });

  it("maps the project fields of a JSON body, at any depth; every other byte is kept as sent", async () => {
    const { app, token } = await setup();
    const facadeId = projectScopeId("archway", "proj");
    const other = "f".repeat(32);
    // Odd spacing, a float, an escape and a key order a parser would not keep: only the ids change.
    const body = `{ "network" :{"name":"n\u00e9t", "project_id" : "${facadeId}","tenant_id":"${facadeId}", "mtu": 1.50,
  "x": ["${facadeId}"], "description": "${facadeId}", "rbac": {"target_tenant": "${other}"}}}`;
    const res = await app.request("/clouds/c1/compute/v2.1/networks", {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/json; charset=UTF-8" },
      body,
    });
    expect(res.status).toBe(200);
    expect(seen.body).toBe(
      body
        .replace(`"project_id" : "${facadeId}"`, `"project_id" : "${cloudProject}"`)
        .replace(`"tenant_id":"${facadeId}"`, `"tenant_id":"${cloudProject}"`),
    );
    expect(seen.headers?.["content-length"]).toBe(String(Buffer.byteLength(seen.body ?? "")));
  });

  it("leaves bodies alone that are not JSON, not valid, or name another project; a JSON body keeps the size limit", async () => {
    const { app, token } = await setup();
    const facadeId = projectScopeId("archway", "proj");
    const post = (body: string | ReadableStream, contentType: string) =>
      app.request("/clouds/c1/compute/v2.1/x", {
        method: "POST",
        headers: { "x-auth-token": token, "content-type": contentType },
        body,
        duplex: "half",
      } as RequestInit & { duplex: string });
    for (const [body, type] of [
      [`{"project_id": "${facadeId}"`, "application/json"],
      [`{"project_id": "${facadeId}"}`, "application/octet-stream"],
      [`{"project_id": "x${facadeId}"}`, "application/json"],
    ] as const) {
      expect((await post(body, type)).status).toBe(200);
      expect(seen.body).toBe(body);
    }
    const big = new ReadableStream({
      pull(c) {
        c.enqueue(new TextEncoder().encode(`{"project_id": "${facadeId}", "pad": "${"x".repeat(5000)}"}`));
        c.close();
      },
    });
    const refused = await post(big, "application/json");
    expect(refused.status).toBe(413);
  });

  it("body mapping: whole values of the known fields only, and only for a plain Keystone id", () => {
    const map = (text: string, to = "real") => withCloudProjectBody(Buffer.from(text), ["abc"], to).toString();
    expect(map(`{"servers":[{"tenant":"abc"}],"project":"abc","member":"abc","target_project_id":"abc"}`)).toBe(
      `{"servers":[{"tenant":"real"}],"project":"real","member":"abc","target_project_id":"real"}`,
    );
    expect(map(`{"a":""project_id": "abc"","project_id":"abcd"}`)).toBe(
      `{"a":""project_id": "abc"","project_id":"abcd"}`,
    );
    expect(map(`{"project_id":"abc"}`, "../x")).toBe(`{"project_id":"abc"}`);
    const same = Buffer.from(`{"name":"x"}`);
    expect(withCloudProjectBody(same, ["abc"], "real")).toBe(same);
    // An id spelled with a JSON escape is not the id as spelled: left as it is, with or without the pre-check.
    const escaped = Buffer.from(`{"project_id":"\\u0061bc"}`);
    expect(withCloudProjectBody(escaped, ["abc"], "real")).toBe(escaped);
    expect(isJsonBody("application/json")).toBe(true);
    expect(isJsonBody("application/merge-patch+json; charset=utf-8")).toBe(true);
    expect(isJsonBody("application/octet-stream")).toBe(false);
    expect(isJsonBody(undefined)).toBe(false);
  });

  it("catalog URLs lose the admin token's project (Cinder's /v3/%(project_id)s), others stay as they are", () => {
    expect(withoutProject("http://10.0.0.1:8776/v3/adminproj", "adminproj")).toBe("http://10.0.0.1:8776/v3");
    expect(withoutProject("http://10.0.0.1:8774/v2.1", "adminproj")).toBe("http://10.0.0.1:8774/v2.1");
    expect(withoutProject("http://10.0.0.1:9696", "adminproj")).toBe("http://10.0.0.1:9696");
    expect(withoutProject("http://10.0.0.1:8776/v3/adminproj", undefined)).toBe("http://10.0.0.1:8776/v3/adminproj");
  });
});
