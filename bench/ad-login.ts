// Password logins through Archway's LDAP source with the Active Directory preset as shipped (logon name, service
// search, bind as the person on pooled LDAPS connections, nested groups through the in-chain rule, userAccountControl
// and accountExpires, objectGUID id, SSH keys) vs raw ldapts doing the bare minimum (service search + user bind),
// against the test environment's real Samba AD DC, alternating rounds in one run. Target: throughput ratio >= 0.8.
import { readFileSync } from "node:fs";
import { Client, escapeFilter } from "ldapts";
import { LdapSourceSchema } from "../src/config/index.js";
import type * as IdentityModule from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { compareDrive, driveTable } from "./lib/drive.js";
import { appendBenchmark } from "./lib/report.js";

const distIdentity = "../dist/identity/index.js";
const { LdapSource } = (await import(distIdentity)) as typeof IdentityModule;

const CONCURRENCY = 8;
const ROUND_MS = 5_000;
const ROUNDS = 3;

export async function benchAdLogin(): Promise<void> {
  const env = loadEndpoints();
  const ad = env.ad;
  if (!ad) throw new Error("no Samba AD DC in .testenv/endpoints.json: run 'npm run testenv -- up'");
  // Enabled people only: the DC's test data disables every 50th and has special accounts at 0297-0299.
  const people = Array.from({ length: 480 }, (_, i) => i + 1).filter((n) => n % 50 !== 0 && (n < 297 || n > 299));
  const user = (n: number) => `user${String(people[n % people.length]).padStart(4, "0")}`;
  const password = (n: number) => `Passw0rd-${user(n).slice(4)}`;
  const tlsOptions = { ca: [readFileSync(ad.caFile)] };
  const source = new LdapSource(
    LdapSourceSchema.parse({
      id: "ad",
      type: "ldap",
      preset: "active-directory",
      urls: [ad.ldapsUrl],
      caFile: ad.caFile,
      baseDn: ad.baseDn,
      userBaseDn: ad.peopleDn,
      groupBaseDn: ad.groupsDn,
      bindDn: ad.bindDn,
      bindPassword: ad.bindPassword,
      poolSize: CONCURRENCY,
    }),
  );
  const service = new Client({ url: ad.ldapsUrl, tlsOptions });
  await service.bind(ad.bindDn, ad.bindPassword);
  const figures = await compareDrive(
    [
      {
        name: "Archway LdapSource.login, AD preset (in-chain groups, UAC, expiry, GUID, keys)",
        send: async (n) => (await source.login(`${ad.netbiosDomain}\\${user(n)}`, password(n))) !== null,
      },
      {
        name: "raw ldapts: service search + user bind",
        send: async (n) => {
          const { searchEntries } = await service.search(ad.peopleDn, {
            filter: escapeFilter`(&(objectCategory=person)(objectClass=user)(sAMAccountName=${user(n)}))`,
            attributes: ["sAMAccountName", "mail", "displayName", "memberOf"],
          });
          const dn = searchEntries[0]?.dn;
          if (!dn) return false;
          const client = new Client({ url: ad.ldapsUrl, tlsOptions });
          try {
            await client.bind(dn, password(n));
            return true;
          } finally {
            await client.unbind();
          }
        },
      },
    ],
    { concurrency: CONCURRENCY, roundMs: ROUND_MS, rounds: ROUNDS },
  );
  await source.close();
  await service.unbind();
  const [archway, raw] = figures;
  const ratio = archway && raw ? archway.rate / raw.rate : 0;
  appendBenchmark({
    title: "AD logins: Archway's LDAP source (AD preset) vs raw ldapts, real Samba AD DC",
    command: "npm run bench -- ad-login",
    markdown: driveTable(figures, "logins/s"),
    notes: `Ratio Archway / raw: **${ratio.toFixed(2)}** (target >= 0.8). Concurrency ${CONCURRENCY}, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s, LDAPS to the test environment's Samba 4.17 AD DC (prefork), ${people.length} different people logging in as \`${ad.netbiosDomain}\\userNNNN\`. Samba answers about 10x fewer logins per second than slapd: these figures measure Samba as much as Archway.`,
  });
}
