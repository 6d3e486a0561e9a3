import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../../src/config/index.js";
import { clientIp } from "../../../src/http/env.js";
import { createApp, startServer } from "../../../src/http/index.js";
import { ClientAddresses, canonicalIp, parseProxyEntry } from "../../../src/http/middleware/client-address.js";
import { createLogger } from "../../../src/log/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

describe("trusted proxies: CIDR ranges and plain addresses", () => {
  it("parses IPv4 and IPv6 addresses and ranges, and refuses what is neither", () => {
    expect(parseProxyEntry("10.0.0.0/8")).toEqual({ address: "10.0.0.0", prefix: 8, family: "ipv4" });
    expect(parseProxyEntry("192.0.2.7")).toEqual({ address: "192.0.2.7", prefix: 32, family: "ipv4" });
    expect(parseProxyEntry("fd00::/8")).toEqual({ address: "fd00::", prefix: 8, family: "ipv6" });
    expect(parseProxyEntry("2001:DB8::1")).toEqual({ address: "2001:db8::1", prefix: 128, family: "ipv6" });
    for (const bad of ["10.0.0.0/33", "fd00::/129", "proxy.example.org", "10.0.0.0/8/1", "10.0.0/8", "1.2.3.4/-1", ""])
      expect(parseProxyEntry(bad), bad).toHaveProperty("error");
  });

  it("the config accepts CIDRs and addresses, and names a bad entry", () => {
    const http = { trustedProxies: ["10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8"] };
    expect(ConfigSchema.parse({ http }).http.trustedProxies).toEqual(http.trustedProxies);
    const bad = ConfigSchema.safeParse({ http: { trustedProxies: ["10.0.0.0/40"] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["http", "trustedProxies", 0]);
  });

  it("writes one address one way: IPv4-mapped IPv6 as IPv4, IPv6 compressed", () => {
    expect(canonicalIp("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(canonicalIp("0:0:0:0:0:FFFF:0A01:0203")).toBe("10.1.2.3");
    expect(canonicalIp("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1");
    expect(canonicalIp("[fe80::1%eth0]")).toBe("fe80::1");
    expect(canonicalIp("not-an-address")).toBeUndefined();
  });

  it("ignores X-Forwarded-For from an untrusted peer (a spoofed header)", () => {
    const addresses = new ClientAddresses(["10.0.0.0/8"]);
    const spoofed = { "x-forwarded-for": "198.51.100.1" };
    expect(addresses.resolve("203.0.113.9", spoofed)).toBe("203.0.113.9");
    expect(new ClientAddresses([]).resolve("::ffff:203.0.113.9", spoofed)).toBe("203.0.113.9");
  });

  it("walks X-Forwarded-For right to left past trusted hops only", () => {
    const addresses = new ClientAddresses(["10.0.0.0/8", "2001:db8:ff::/48"]);
    // The client put a fake address first; our proxies appended what they saw: the real client is the first
    // untrusted hop from the right.
    const headers = { "x-forwarded-for": "198.51.100.1, 203.0.113.50, 10.2.3.4" };
    expect(addresses.resolve("10.9.9.9", headers)).toBe("203.0.113.50");
    expect(addresses.resolve("2001:db8:ff::1", { "x-forwarded-for": "2001:DB8::77, 10.0.0.1" })).toBe("2001:db8::77");
    // Every hop trusted: the leftmost is as far as anyone can tell.
    expect(addresses.resolve("10.0.0.1", { "x-forwarded-for": "10.0.0.2, 10.0.0.3" })).toBe("10.0.0.2");
    // A hop that is no address stops the walk at the last trusted one.
    expect(addresses.resolve("10.0.0.1", { "x-forwarded-for": "evil, 10.0.0.3" })).toBe("10.0.0.3");
    expect(addresses.resolve("10.0.0.1", {})).toBe("10.0.0.1");
  });

  it("through a real server: the socket peer unless it is trusted", async () => {
    const get = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port, path: "/whoami", headers: { "x-forwarded-for": "198.51.100.1, 203.0.113.5" } },
          (res) => {
            let body = "";
            res.on("data", (d: Buffer) => {
              body += d.toString();
            });
            res.on("end", () => resolve(body));
          },
        );
        req.on("error", reject);
        req.end();
      });
    const answers: string[] = [];
    for (const trustedProxies of [[], ["127.0.0.0/8"]]) {
      const store = new MemoryStore();
      const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 86_400_000, overlapMs: 3_600_000 });
      const { app } = createApp({
        config: ConfigSchema.parse({ http: { trustedProxies } }),
        log: createLogger({ level: "silent" }),
        store,
        sources: [],
        keys,
        tokens: new TokenService({ store, keys, issuer: "http://127.0.0.1" }),
      });
      app.get("/whoami", (c) => c.text(clientIp(c)));
      const server = await startServer(app, { host: "127.0.0.1", port: 0, log: createLogger({ level: "silent" }) });
      answers.push(await get(server.port));
      await server.close();
      await store.close();
    }
    expect(answers).toEqual(["127.0.0.1", "203.0.113.5"]);
  });
});
