// `npm run bench [-- name ...]`: runs the named benchmarks (all registered ones by default). Each starts Archway
// and a real peer side by side, drives them alternately in one run and appends the table to BENCHMARKS.md.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { benchFacadeLogin } from "./facade-login.js";
import { benchFacadeRescope } from "./facade-rescope.js";
import { benchHealthz } from "./healthz.js";
import { benchIdpToken } from "./idp-token.js";
import { benchLdapLogin } from "./ldap-login.js";
import { benchDesiredState, benchVsKeystone } from "./policy.js";
import { benchProxy } from "./proxy.js";
import { benchSyncConverge } from "./sync-converge.js";
import { benchSyncNoop } from "./sync-noop.js";
import { benchSyncScale } from "./sync-scale.js";
import { benchTokenValidation } from "./token-validation.js";

const registry: Record<string, () => Promise<void>> = {
  "facade-login": () => benchFacadeLogin(),
  "facade-rescope": () => benchFacadeRescope(),
  healthz: () => benchHealthz(),
  "idp-token": () => benchIdpToken(),
  "ldap-login": () => benchLdapLogin(),
  "policy-desired": () => benchDesiredState(),
  "policy-vs-keystone": () => benchVsKeystone(),
  proxy: () => benchProxy(),
  "sync-converge": () => benchSyncConverge(),
  "sync-noop": () => benchSyncNoop(),
  "sync-scale": () => benchSyncScale(),
  "token-validation": () => benchTokenValidation(),
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
