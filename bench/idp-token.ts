// The OpenID Provider's token endpoint (client_credentials and refresh_token with rotation) vs oidc-provider
// configured the same way (ES256 JWT access tokens, rotating refresh tokens, ID tokens on refresh, secrets compared
// in constant time), one run, alternating rounds. Target: Archway >= 2x.
import { createHash } from "node:crypto";
import { Agent } from "undici";
import { hashPassword } from "../src/identity/index.js";
import { TestBrowser } from "../test/helpers/browser.js";
import { startArchway } from "./lib/archway.js";
import { compareHttp, cpuSeconds, httpTable } from "./lib/http-compare.js";
import { type BenchServer, spawnServer } from "./lib/process.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

const root = new URL("..", import.meta.url).pathname;
const REDIRECT = "http://127.0.0.1:18999/cb";
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const FORM = "application/x-www-form-urlencoded";

async function tokenRequest(url: string, auth: string, form: Record<string, string>, dispatcher: Agent) {
  const res = await fetch(`${url}`, {
    method: "POST",
    headers: { "content-type": FORM, authorization: auth },
    body: new URLSearchParams(form),
    dispatcher,
  } as RequestInit);
  const body = (await res.json()) as Record<string, string>;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Initial refresh tokens from oidc-provider: one authorization code flow (auto sign-in) per chain. */
async function peerRefreshTokens(peer: BenchServer, n: number, dispatcher: Agent): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const verifier = `v${i}`.padEnd(50, "x");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const url = `${peer.url}/auth?client_id=rt&response_type=code&scope=${encodeURIComponent("openid offline_access")}&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${challenge}&code_challenge_method=S256`;
    const page = await new TestBrowser().follow(url, REDIRECT);
    const code = new URL(page.location ?? "").searchParams.get("code");
    if (!code) throw new Error(`oidc-provider gave no code: ${page.status} ${page.html.slice(0, 300)}`);
    const body = await tokenRequest(
      `${peer.url}/token`,
      basic("rt", "rt-secret"),
      {
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      },
      dispatcher,
    );
    if (!body.refresh_token) throw new Error("oidc-provider gave no refresh token");
    out.push(body.refresh_token);
  }
  return out;
}

/** Refresh chains: each of `tokens` is refreshed over and over for `seconds`, the new token replacing the old. */
async function refreshLoad(url: string, auth: string, tokens: string[], seconds: number, dispatcher: Agent) {
  const until = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    tokens.map(async (_t, i) => {
      while (Date.now() < until) {
        const body = await tokenRequest(
          url,
          auth,
          { grant_type: "refresh_token", refresh_token: tokens[i] as string },
          dispatcher,
        );
        tokens[i] = body.refresh_token as string;
        done++;
      }
    }),
  );
  return done;
}

/** Refresh figures of one server, summed over its rounds. */
class RefreshFigures {
  requests = 0;
  seconds = 0;
  cpu = 0;

  constructor(
    readonly server: BenchServer,
    readonly url: string,
    readonly tokens: string[],
  ) {}

  /** One round; the server's CPU time is read from /proc around it (the load generator here is often the limit). */
  async round(seconds: number, dispatcher: Agent): Promise<void> {
    const before = cpuSeconds(this.server.pid);
    this.requests += await refreshLoad(this.url, basic("rt", "rt-secret"), this.tokens, seconds, dispatcher);
    const after = cpuSeconds(this.server.pid);
    this.seconds += seconds;
    if (before !== undefined && after !== undefined) this.cpu += after - before;
  }

  get rps(): number {
    return this.requests / this.seconds;
  }

  get cpuUs(): number {
    return (this.cpu / this.requests) * 1e6;
  }
}

export async function benchIdpToken(): Promise<void> {
  const archway = await startArchway(
    "policiesDir: policies\n" +
      `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n` +
      "idp:\n  clients:\n    - { id: svc, secret: svc-secret, grants: [client_credentials] }\n" +
      "    - { id: rt, secret: rt-secret, grants: [password, refresh_token] }\n",
    {},
  );
  const peer = await spawnServer(
    "oidc-provider",
    process.execPath,
    ["bench/peers/oidc-provider.mjs", "18195"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  const dispatcher = new Agent({ connections: 64 });
  try {
    const cc = await compareHttp(
      [
        {
          name: "archway client_credentials",
          url: `${archway.url}/oauth2/token`,
          method: "POST",
          headers: { "content-type": FORM, authorization: basic("svc", "svc-secret") },
          body: "grant_type=client_credentials",
          pid: archway.pid,
        },
        {
          name: "oidc-provider client_credentials",
          url: `${peer.url}/token`,
          method: "POST",
          headers: { "content-type": FORM, authorization: basic("svc", "svc-secret") },
          body: "grant_type=client_credentials&scope=api",
          pid: peer.pid,
        },
      ],
      { connections: 16, duration: 5, rounds: 3 },
    );
    const chains = 16;
    const archwayTokens = await Promise.all(
      Array.from(
        { length: chains },
        async () =>
          (
            await tokenRequest(
              `${archway.url}/oauth2/token`,
              basic("rt", "rt-secret"),
              { grant_type: "password", username: "alice", password: "pw", scope: "openid offline_access" },
              dispatcher,
            )
          ).refresh_token as string,
      ),
    );
    const peerTokens = await peerRefreshTokens(peer, chains, dispatcher);
    const ours = new RefreshFigures(archway, `${archway.url}/oauth2/token`, archwayTokens);
    const theirs = new RefreshFigures(peer, `${peer.url}/token`, peerTokens);
    await refreshLoad(ours.url, basic("rt", "rt-secret"), ours.tokens, 2, dispatcher);
    await refreshLoad(theirs.url, basic("rt", "rt-secret"), theirs.tokens, 2, dispatcher);
    for (let r = 0; r < 3; r++) {
      await ours.round(5, dispatcher);
      await theirs.round(5, dispatcher);
    }
    const refresh = markdownTable([
      ["target", "refresh req/s (16 chains, 3 x 5 s)", "CPU µs/req", "req/s ratio", "CPU ratio (this / archway)"],
      ["archway refresh_token", ours.rps.toFixed(0), ours.cpuUs.toFixed(0), "1.00", "1.00"],
      [
        "oidc-provider refresh_token",
        theirs.rps.toFixed(0),
        theirs.cpuUs.toFixed(0),
        (ours.rps / theirs.rps).toFixed(2),
        (theirs.cpuUs / ours.cpuUs).toFixed(2),
      ],
    ]);
    appendBenchmark({
      title: "OpenID Provider token endpoint vs oidc-provider",
      command: "npm run bench -- idp-token",
      markdown: `${httpTable(cc)}\n\n${refresh}`,
      notes:
        "Both sign ES256 JWT access tokens (RFC 9068); on refresh both rotate the refresh token and sign an ID token. " +
        "Archway keeps its grants in the embedded in-memory store, oidc-provider in its default in-memory adapter. " +
        "Ratio = Archway req/s / oidc-provider req/s (target >= 2). The refresh chains are driven by fetch from the " +
        "benchmark's own process, which on a small machine limits both servers alike: their CPU per request " +
        "(from /proc) then tells them apart better than req/s.",
    });
  } finally {
    await dispatcher.close();
    await archway.stop();
    await peer.stop();
  }
}
