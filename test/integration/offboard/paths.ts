import type { Endpoints } from "../../env/endpoints.js";

/** An OAuth client allowed the password and refresh grants (the refresh token path). */
export const CLIENT = { id: "offboard-test", secret: "offboard-test-secret" };

/** An Archway to offboard people from (the test harness, or the benchmark's spawned gateway). */
export interface Target {
  url: string;
  env: Endpoints;
  /** The clouds' Keystone domain of Archway's shadow users. */
  domain: string;
  addPerson(username: string, password: string): Promise<void>;
  /** A value of Archway's store, opened when sealed (the broker's cached Keystone tokens). */
  storeGet(key: string): Promise<string | null>;
  /** The identity id of a person of the `corp` source. */
  identityId(username: string): Promise<string>;
}

/** Everything one person holds after using every path, to present again once they are offboarded. */
export interface Held {
  username: string;
  password: string;
  identityId: string;
  /** Archway facade token (scoped to `cloud-2:u-<username>`). */
  facadeToken: string;
  /** Web session cookie (`name=value`). */
  cookie: string;
  refreshToken: string;
  /** Brokered Keystone tokens per cloud, as the broker cached them. */
  brokered: Record<string, string>;
  /** Application credentials per cloud: id and secret. */
  appCredentials: Record<string, { id: string; secret: string }>;
}

/** The clouds where the person holds application credentials and brokered tokens. */
export const CLOUDS = ["cloud-2", "cloud-3"] as const;

function authUrl(h: Target, cloudId: string): string {
  const ks = h.env.keystones.find((k) => k.id === cloudId);
  if (!ks) throw new Error(`no ${cloudId}`);
  return ks.authUrl;
}

/** Archway's password login at the facade; resolves the status and the token. */
export async function facadeLogin(h: Target, username: string, password: string, cloudId = "cloud-2") {
  const res = await fetch(`${h.url}/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: username, password } } },
        scope: { project: { name: `${cloudId}:u-${username}`, domain: { name: "archway" } } },
      },
    }),
  });
  await res.arrayBuffer();
  return { status: res.status, token: res.headers.get("x-subject-token") ?? "" };
}

/** Signs in on the web pages; resolves the session cookie. */
export async function webLogin(h: Target, username: string, password: string): Promise<string> {
  const page = await fetch(`${h.url}/login`);
  const nonce = (page.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? "";
  const res = await fetch(`${h.url}/login/password`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: nonce },
    body: new URLSearchParams({ csrf, source: "corp", username, password, return_to: "/" }),
  });
  if (res.status !== 303) throw new Error(`web login: ${res.status} ${await res.text()}`);
  return (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
}

async function passwordGrant(h: Target, username: string, password: string): Promise<string> {
  const res = await fetch(`${h.url}/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "password", username, password, scope: "openid offline_access" }),
  });
  const body = (await res.json()) as { refresh_token?: string };
  if (!body.refresh_token) throw new Error(`password grant: ${res.status} ${JSON.stringify(body)}`);
  return body.refresh_token;
}

/**
 * Makes a person in slapd and has them use every path: a facade login, a proxied request (the broker logs in to
 * the cloud and provisions them just in time), application credentials in two clouds, a web sign-in and an OAuth
 * refresh token.
 */
export async function enrol(h: Target, username: string): Promise<Held> {
  const password = `pw-${username}-${Math.random().toString(36).slice(2)}`;
  await h.addPerson(username, password);
  const login = await facadeLogin(h, username, password);
  if (login.status !== 201) throw new Error(`facade login of ${username}: ${login.status}`);
  const facadeToken = login.token;
  const appCredentials: Held["appCredentials"] = {};
  for (const cloudId of CLOUDS) {
    // A token acts only as the project it names: one login per cloud's project.
    const scoped = cloudId === "cloud-2" ? facadeToken : (await facadeLogin(h, username, password, cloudId)).token;
    const proxied = await fetch(`${h.url}/clouds/${cloudId}/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": scoped },
    });
    if (proxied.status !== 200) throw new Error(`proxy to ${cloudId}: ${proxied.status} ${await proxied.text()}`);
    const created = await fetch(`${h.url}/api/v1/me/application-credentials`, {
      method: "POST",
      headers: { authorization: `Bearer ${scoped}`, "content-type": "application/json" },
      body: JSON.stringify({ project: `${cloudId}:u-${username}` }),
    });
    const body = (await created.json()) as { applicationCredential?: { id: string }; cloudsYaml?: string };
    const secret = /application_credential_secret: "?([^"\n]+)"?/.exec(body.cloudsYaml ?? "")?.[1];
    if (created.status !== 201 || !body.applicationCredential || !secret)
      throw new Error(`application credential in ${cloudId}: ${created.status} ${JSON.stringify(body)}`);
    appCredentials[cloudId] = { id: body.applicationCredential.id, secret };
  }
  const identityId = await h.identityId(username);
  const gen = (await h.storeGet(`broker:gen:${identityId}`)) ?? "0";
  const brokered: Record<string, string> = {};
  for (const cloudId of CLOUDS) {
    const raw = await h.storeGet(`broker:${gen}:${identityId}:${cloudId}:${h.domain}/u-${username}`);
    brokered[cloudId] = raw ? (JSON.parse(raw) as { token: string }).token : "";
    if (!brokered[cloudId]) throw new Error(`no brokered token of ${username} in ${cloudId}`);
  }
  return {
    username,
    password,
    identityId,
    facadeToken,
    cookie: await webLogin(h, username, password),
    refreshToken: await passwordGrant(h, username, password),
    brokered,
    appCredentials,
  };
}

/** The paths one person can try, each resolving true while it still lets them in. */
export function paths(h: Target, p: Held, clouds: readonly string[] = CLOUDS) {
  const status = async (url: string, init: RequestInit = {}) => {
    try {
      const res = await fetch(url, { ...init, redirect: "manual" });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  };
  const basic = `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}`;
  const checks: Record<string, () => Promise<boolean>> = {
    // A reused keep-alive connection the server closed meanwhile resets once: try again on a fresh one.
    login: async () =>
      (await facadeLogin(h, p.username, p.password).catch(() => facadeLogin(h, p.username, p.password))).status === 201,
    facadeToken: async () =>
      (await status(`${h.url}/v3/auth/tokens`, {
        headers: { "x-auth-token": p.facadeToken, "x-subject-token": p.facadeToken },
      })) === 200,
    proxy: async () =>
      (await status(`${h.url}/clouds/cloud-2/compute/v2.1/os-keypairs`, {
        headers: { "x-auth-token": p.facadeToken },
      })) === 200,
    web: async () => (await status(`${h.url}/`, { headers: { cookie: p.cookie } })) === 200,
    refresh: async () =>
      (await status(`${h.url}/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
        body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: p.refreshToken }),
      })) === 200,
  };
  for (const cloudId of clouds) {
    const base = authUrl(h, cloudId);
    checks[`brokered:${cloudId}`] = async () =>
      (await status(`${base}/auth/projects`, { headers: { "x-auth-token": p.brokered[cloudId] ?? "" } })) === 200;
    const cred = p.appCredentials[cloudId];
    checks[`appCredential:${cloudId}`] = async () =>
      (await status(`${base}/auth/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ["application_credential"],
              application_credential: { id: cred?.id, secret: cred?.secret },
            },
          },
        }),
      })) === 201;
  }
  return checks;
}

/** Each path tried once: true when it still lets the person in. */
export async function openPaths(h: Target, p: Held, clouds: readonly string[] = CLOUDS) {
  const out: Record<string, boolean> = {};
  for (const [name, check] of Object.entries(paths(h, p, clouds))) out[name] = await check();
  return out;
}

/**
 * Polls the paths until all refuse; resolves the seconds it took from `since` and the paths still open at the
 * deadline (empty when all were refused in time). A refused path is not tried again: once refused it stays so
 * (checked at the end), and a login tried every moment would trip the lockout of the client address.
 */
export async function untilRefused(
  h: Target,
  p: Held,
  opts: { since: number; deadlineSeconds: number; clouds?: readonly string[]; pollMs?: number },
): Promise<{ seconds: number; open: string[] }> {
  const checks = paths(h, p, opts.clouds);
  const open = new Set(Object.keys(checks));
  for (;;) {
    await Promise.all(
      [...open].map(async (name) => {
        if (!(await checks[name]?.())) open.delete(name);
      }),
    );
    const seconds = (Date.now() - opts.since) / 1000;
    if (open.size === 0 || seconds > opts.deadlineSeconds) return { seconds, open: [...open] };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
}
