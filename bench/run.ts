// `npm run bench [-- name ...]`: runs the named benchmarks (all registered ones by default). Each starts Archway
// and a real peer side by side, drives them alternately in one run and appends the table to BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";

// Loaded on demand: some benchmarks import the compiled gateway (dist/), which the build below makes first.
const registry: Record<string, () => Promise<void>> = {
  "ad-login": async () => (await import("./ad-login.js")).benchAdLogin(),
  "facade-login": async () => (await import("./facade-login.js")).benchFacadeLogin(),
  "facade-rescope": async () => (await import("./facade-rescope.js")).benchFacadeRescope(),
  faults: async () => (await import("./faults.js")).benchFaults(),
  healthz: async () => (await import("./healthz.js")).benchHealthz(),
  "image-sync": async () => (await import("./image-sync.js")).benchImageSync(),
  "idp-token": async () => (await import("./idp-token.js")).benchIdpToken(),
  "ldap-login": async () => (await import("./ldap-login.js")).benchLdapLogin(),
  offboarding: async () => (await import("./offboarding.js")).benchOffboarding(),
  "policy-desired": async () => (await import("./policy.js")).benchDesiredState(),
  "policy-vs-keystone": async () => (await import("./policy.js")).benchVsKeystone(),
  proxy: async () => (await import("./proxy.js")).benchProxy(),
  "sync-converge": async () => (await import("./sync-converge.js")).benchSyncConverge(),
  "sync-noop": async () => (await import("./sync-noop.js")).benchSyncNoop(),
  "sync-scale": async () => (await import("./sync-scale.js")).benchSyncScale(),
  "token-validation": async () => (await import("./token-validation.js")).benchTokenValidation(),
};

const root = resolve(import.meta.dirname, "..");
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : Object.keys(registry);
const unknown = names.filter((n) => !registry[n]);
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(registry).join(", ")}`);
  process.exit(2);
}
// Benchmarks run the compiled gateway, as production does.
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
for (const name of names) {
  console.log(`\n=== bench ${name}`);
  await registry[name]!();
}
