import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import type { Identity } from "../../../src/identity/index.js";
import { importKeystoneMapping } from "../../../src/policy/import-keystone.js";
import { compilePolicies, evaluate } from "../../../src/policy/index.js";

// The oracle: Keystone's own mapping engine (Debian python3-keystone) and Archway's import + evaluation must map
// every assertion of the corpus to the same user, groups and projects.
const KEYSTONE_MANAGE = "/usr/bin/keystone-manage";
interface Case {
  name: string;
  mapping: unknown;
  assertions: Record<string, string>[];
}
const corpus = JSON.parse(readFileSync("test/fixtures/keystone-mappings/corpus.json", "utf8")) as Case[];
const dir = mkdtempSync(join(tmpdir(), "archway-oracle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Mapped {
  user: { name: string };
  group_names: { name: string; domain: { name: string } }[];
  projects: { name: string; roles: { name: string }[] }[];
}

function keystoneMaps(mapping: unknown, assertion: Record<string, string>): Mapped | null {
  const rules = join(dir, "rules.json");
  const input = join(dir, "assertion.txt");
  writeFileSync(rules, JSON.stringify(mapping));
  writeFileSync(
    input,
    Object.entries(assertion)
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n"),
  );
  // keystone-manage logs warnings on stdout and exits non-zero at shutdown (eventlet noise): read the JSON only.
  const run = spawnSync(KEYSTONE_MANAGE, ["mapping_engine", "--rules", rules, "--input", input], { encoding: "utf8" });
  const start = run.stdout.search(/^\{/m);
  if (start < 0) return null; // no rule matched: Keystone refuses the assertion
  const mapped = JSON.parse(run.stdout.slice(start, run.stdout.search(/^\}/m) + 1)) as Partial<Mapped>;
  return mapped.user ? (mapped as Mapped) : null;
}

const cloud = CloudSchema.parse({
  id: "fed",
  authUrl: "http://127.0.0.1:5000/v3",
  domain: "fed",
  admin: { username: "a", password: "b" },
});

function archwayMaps(mapping: unknown, assertion: Record<string, string>) {
  const imported = importKeystoneMapping(mapping, { namePrefix: "oracle" });
  expect(imported.refused).toEqual([]);
  const { policies, problems } = compilePolicies([{ file: "imported.yaml", text: imported.yaml }], {
    clouds: [cloud],
    sources: ["sso"],
    roles: ["member", "reader", "admin"],
  });
  expect(problems).toEqual([]);
  const attributes = Object.fromEntries(Object.entries(assertion).map(([k, v]) => [k, v.split(";")]));
  const username = assertion[imported.usernameAttribute ?? "REMOTE_USER"] ?? "";
  const identity: Identity = {
    id: `sso:${username}`,
    source: "sso",
    username,
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes,
  };
  const access = evaluate(identity, policies).get("fed");
  return { username, access };
}

describe.skipIf(!existsSync(KEYSTONE_MANAGE))(
  "Keystone mapping import agrees with keystone-manage mapping_engine",
  () => {
    for (const c of corpus) {
      for (const [i, assertion] of c.assertions.entries()) {
        it(`${c.name} #${i}`, () => {
          const expected = keystoneMaps(c.mapping, assertion);
          const actual = archwayMaps(c.mapping, assertion);
          if (!expected) {
            expect(actual.access).toBeUndefined();
            return;
          }
          expect(actual.username).toBe(expected.user.name);
          const groups = (actual.access?.memberships ?? []).map((m) => `${m.domain}/${m.group}`).sort();
          // Keystone may list a group twice (one entry per local rule); membership is a set.
          expect(groups).toEqual([...new Set(expected.group_names.map((g) => `${g.domain.name}/${g.name}`))].sort());
          const projects = new Map<string, string[]>();
          for (const a of actual.access?.assignments ?? [])
            projects.set(a.project, [...(projects.get(a.project) ?? []), a.role].sort());
          const expectedProjects = new Map(expected.projects.map((p) => [p.name, p.roles.map((r) => r.name).sort()]));
          expect(Object.fromEntries(projects)).toEqual(Object.fromEntries(expectedProjects));
        });
      }
    }
  },
);
