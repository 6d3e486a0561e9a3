import { readdirSync } from "node:fs";
import { request } from "node:http";

/** A project-scoped Archway token for `username` from the facade (`/v3/auth/tokens`). */
export async function scopedToken(url: string, username: string, password: string, project: string): Promise<string> {
  const res = await fetch(`${url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: username, domain: { name: "Default" }, password } },
        },
        scope: { project: { name: project, domain: { name: "archway" } } },
      },
    }),
  });
  if (res.status !== 201) throw new Error(`facade login for ${project}: ${res.status} ${await res.text()}`);
  return res.headers.get("x-subject-token") ?? "";
}

/** What a proxied GET came back with, and how long it took. */
export interface Answer {
  status: number;
  body: string;
  retryAfter?: string;
  ms: number;
}

/** A GET on its own connection (no pool), so each one is a socket of its own at Archway. */
export function get(url: string, token: string): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { "x-auth-token": token }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          retryAfter: res.headers["retry-after"],
          ms: Date.now() - started,
        }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** A GET its client abandons after `afterMs` (the socket destroyed whether or not an answer came). */
export function abandonedGet(url: string, token: string, afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { headers: { "x-auth-token": token }, agent: false }, (res) => res.resume());
    req.on("error", () => {});
    req.end();
    setTimeout(() => {
      req.destroy();
      resolve();
    }, afterMs);
  });
}

/** File descriptors this process holds now (Archway runs in it, as do the test's clients and proxies). */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** Polls `check` every 100 ms until it holds or `ms` passed; returns whether it held. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
