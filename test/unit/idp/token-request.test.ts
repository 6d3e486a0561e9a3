import type { AddressInfo } from "node:net";
import { type ServerType, serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdpClientSchema } from "../../../src/config/index.js";
import { isArchwayError } from "../../../src/errors.js";
import type { AppEnv } from "../../../src/http/env.js";
import { createHttpMetrics } from "../../../src/http/index.js";
import { observeFetch } from "../../../src/http/middleware/observe.js";
import { oauthEndpoint } from "../../../src/http/oidc/errors.js";
import { authenticateClient, readParams } from "../../../src/http/oidc/params.js";
import { createLogger } from "../../../src/log/index.js";
import { OAuthClients } from "../../../src/tokens/index.js";

// Through a real Node server, the token endpoint's parameters are read straight from Node's stream and its
// headers from Node's parsed headers; the checks must be those of the WHATWG path: form encoding only, no repeated
// parameter, one client authentication method, constant-time secrets.
const clients = new OAuthClients([
  IdpClientSchema.parse({ id: "svc", secret: "svc-secret", grants: ["client_credentials"] }),
]);
const app = new Hono<AppEnv>();
app.onError((err, c) => (isArchwayError(err) ? c.json({ code: err.code }, 413) : c.json({ code: "internal" }, 500)));
app.post(
  "/token",
  oauthEndpoint(async (c) => {
    const params = await readParams(c);
    const client = await authenticateClient(c, params, clients);
    return c.json({ client: client.id, params });
  }),
);
observeFetch(app, {
  log: createLogger({ level: "silent" }),
  metrics: createHttpMetrics(),
  trustedProxies: [],
  bodyLimitBytes: 1024,
});

let server: ServerType;
let url: string;
beforeAll(async () => {
  server = await new Promise<ServerType>((ok) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => ok(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const FORM = "application/x-www-form-urlencoded";
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

async function post(body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": FORM, authorization: basic("svc", "svc-secret"), ...headers },
    duplex: "half",
  } as RequestInit);
  return { status: res.status, challenge: res.headers.get("www-authenticate"), body: await res.json() };
}

describe("token request parameters through the Node server", () => {
  it("reads the form and authenticates the client with HTTP Basic", async () => {
    expect(await post("grant_type=client_credentials&scope=a+b%20c")).toMatchObject({
      status: 200,
      body: { client: "svc", params: { grant_type: "client_credentials", scope: "a b c" } },
    });
  });

  it("reads a streamed form body (no Content-Length) as well", async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("grant_type=client_"));
        c.enqueue(new TextEncoder().encode("credentials"));
        c.close();
      },
    });
    expect(await post(stream)).toMatchObject({ status: 200, body: { params: { grant_type: "client_credentials" } } });
  });

  it("refuses a repeated parameter, a body that is not a form, and a body over the limit", async () => {
    expect(await post("grant_type=client_credentials&grant_type=password")).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "parameter grant_type is repeated" },
    });
    expect(await post('{"grant_type":"client_credentials"}', { "content-type": "application/json" })).toMatchObject({
      status: 400,
      body: { error: "invalid_request" },
    });
    expect(await post(`grant_type=client_credentials&x=${"y".repeat(2000)}`)).toMatchObject({
      status: 413,
      body: { error: { code: "body_too_large" } },
    });
  });

  it("refuses a wrong secret with a Basic challenge, and two authentication methods at once", async () => {
    expect(await post("grant_type=client_credentials", { authorization: basic("svc", "svc-secreT") })).toMatchObject({
      status: 401,
      challenge: 'Basic realm="archway"',
      body: { error: "invalid_client" },
    });
    expect(await post("grant_type=client_credentials&client_secret=svc-secret")).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "use one client authentication method, not two" },
    });
    expect(
      await post("grant_type=client_credentials&client_id=svc&client_secret=svc-secret", { authorization: "" }),
    ).toMatchObject({ status: 200, body: { client: "svc" } });
  });
});
