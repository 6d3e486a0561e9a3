// Password logins through Archway's LDAP source (service search, bind as the person, groups with nesting, SSH
// keys, identity mapping) vs raw ldapts doing the bare minimum (service search + user bind), against the test
// environment's real slapd, alternating rounds in one run. Target: throughput ratio >= 0.8.
import { Client, escapeFilter } from "ldapts";
import { LdapSourceSchema } from "../src/config/index.js";
import type * as IdentityModule from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

const distIdentity = "../dist/identity/index.js";
const { LdapSource } = (await import(distIdentity)) as typeof IdentityModule;

const CONCURRENCY = 8;
const ROUND_MS = 3_000;
const ROUNDS = 3;

type Login = (n: number) => Promise<boolean>;
const user = (n: number) => `user${String((n % 900) + 1).padStart(4, "0")}`;

async function drive(login: Login, ms: number): Promise<{ count: number; seconds: number; latencies: number[] }> {
  const deadline = performance.now() + ms;
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        if (!(await login(next++))) throw new Error("a login that should succeed failed");
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { count: latencies.length, seconds: (performance.now() - start) / 1000, latencies };
}

export async function benchLdapLogin(): Promise<void> {
  const env = loadEndpoints();
  const source = new LdapSource(
    LdapSourceSchema.parse({
      id: "corp",
      type: "ldap",
      urls: [env.ldap.url],
      baseDn: env.ldap.baseDn,
      userBaseDn: env.ldap.peopleDn,
      groupBaseDn: env.ldap.groupsDn,
      bindDn: env.ldap.bindDn,
      bindPassword: env.ldap.bindPassword,
      poolSize: CONCURRENCY,
    }),
  );
  const service = new Client({ url: env.ldap.url });
  await service.bind(env.ldap.bindDn, env.ldap.bindPassword);
  const archway: Login = async (n) => (await source.login(user(n), `pass-${user(n)}`)) !== null;
  const raw: Login = async (n) => {
    const { searchEntries } = await service.search(env.ldap.peopleDn, {
      filter: escapeFilter`(&(objectClass=inetOrgPerson)(uid=${user(n)}))`,
      attributes: ["uid", "mail", "cn", "memberOf"],
    });
    const dn = searchEntries[0]?.dn;
    if (!dn) return false;
    const client = new Client({ url: env.ldap.url });
    try {
      await client.bind(dn, `pass-${user(n)}`);
      return true;
    } finally {
      await client.unbind();
    }
  };
  await drive(archway, 500);
  await drive(raw, 500);
  const totals = {
    archway: { count: 0, seconds: 0, lat: [] as number[] },
    raw: { count: 0, seconds: 0, lat: [] as number[] },
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, login] of [
      ["archway", archway],
      ["raw", raw],
    ] as const) {
      const result = await drive(login, ROUND_MS);
      totals[name].count += result.count;
      totals[name].seconds += result.seconds;
      totals[name].lat.push(...result.latencies);
    }
  }
  await source.close();
  await service.unbind();
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? 0;
  const rate = (t: { count: number; seconds: number }) => t.count / t.seconds;
  const ratio = rate(totals.archway) / rate(totals.raw);
  appendBenchmark({
    title: "LDAP logins: Archway's LDAP source vs raw ldapts",
    command: "npm run bench -- ldap-login",
    markdown: markdownTable([
      ["client", "logins/s", "p50 ms", "p99 ms", "archway / this"],
      [
        "Archway LdapSource.login (groups, nesting, keys)",
        rate(totals.archway).toFixed(0),
        pct(totals.archway.lat, 0.5).toFixed(2),
        pct(totals.archway.lat, 0.99).toFixed(2),
        "1.00",
      ],
      [
        "raw ldapts: service search + user bind",
        rate(totals.raw).toFixed(0),
        pct(totals.raw.lat, 0.5).toFixed(2),
        pct(totals.raw.lat, 0.99).toFixed(2),
        ratio.toFixed(2),
      ],
    ]),
    notes: `Ratio Archway / raw: **${ratio.toFixed(2)}** (target >= 0.8). Concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s, real slapd from the test environment, 900 different users.`,
  });
}
