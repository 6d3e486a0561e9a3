import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FacadeHarness, startFacade } from "./harness.js";

// Issue 22, item 6, replayed through Archway's proxy to the test environment's real nova-api (Python: `_` in a
// header name reads as `-`). Before: `X_Auth_Token: junk` reached nova and turned its 200 into a 401.
let h: FacadeHarness;
let token: string;

beforeAll(async () => {
  h = await startFacade(18133);
  const res = await fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "alice", domain: { name: "Default" }, password: h.password } },
        },
        scope: { project: { name: "cloud-1:u-alice", domain: { name: "archway" } } },
      },
    }),
  });
  expect(res.status).toBe(201);
  token = res.headers.get("x-subject-token") ?? "";
}, 120_000);
afterAll(async () => {
  await h?.close();
});

/** GET through the proxy with the header names exactly as written. */
function keypairs(extra: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`);
    const req = request(url, { method: "GET", headers: { "x-auth-token": token, ...extra } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("headers through the proxy to the real nova-api", () => {
  it("answers 200 without extra headers (the baseline)", async () => {
    const res = await keypairs({});
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty("keypairs");
  }, 60_000);

  it.each([
    ["X_Auth_Token", { X_Auth_Token: "junk" }],
    ["x_auth_token in another case", { "X-AUTH_token": "junk" }],
    ["X_Service_Token", { X_Service_Token: "junk" }],
    ["X-Service-Token", { "X-Service-Token": "junk" }],
    ["X_Forwarded_* claims", { X_Forwarded_For: "203.0.113.9", X_Forwarded_Proto: "https", X_Forwarded_Host: "x" }],
  ])(
    "still answers 200 when the client adds %s: nova never sees it",
    async (_, extra) => {
      const res = await keypairs(extra);
      expect(res.status).toBe(200);
    },
    60_000,
  );

  it("drops a header that Connection names: an unsupported microversion never reaches nova", async () => {
    // Forwarded, this header makes nova answer 406 (version not supported).
    const direct = await keypairs({ "X-OpenStack-Nova-API-Version": "9.99" });
    expect(direct.status).toBe(406);
    const named = await keypairs({
      Connection: "keep-alive, X-OpenStack-Nova-API-Version",
      "X-OpenStack-Nova-API-Version": "9.99",
    });
    expect(named.status).toBe(200);
  }, 60_000);

  it("answers 413, not 502, to a chunked body over the limit on its way to nova", async () => {
    // The harness keeps the default limit of 1 MiB; 2 MiB in 64 KiB chunks, never announced by Content-Length.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Archway may answer and close while the rest is still being sent: the answer is what counts.
      let answered = false;
      const url = new URL(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`);
      const req = request(
        url,
        {
          method: "POST",
          headers: { "x-auth-token": token, "content-type": "application/json", "transfer-encoding": "chunked" },
        },
        (r) => {
          answered = true;
          let body = "";
          r.setEncoding("utf8");
          r.on("data", (d: string) => {
            body += d;
          });
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on("error", (err) => {
        if (!answered) reject(err);
      });
      const chunk = Buffer.alloc(64 * 1024, "a");
      let sent = 0;
      const pump = () => {
        while (sent < 32) {
          sent++;
          if (answered || req.destroyed) return;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
    expect(res.body).toMatch(/larger than 1048576 bytes/);
    expect(res.status).toBe(413);
  }, 60_000);
});
