import { type Cloud, CloudSchema } from "../../../src/config/index.js";
import type { Identity } from "../../../src/identity/index.js";
import { compilePolicies, type PolicyContext } from "../../../src/policy/index.js";

/** Clouds for policy tests: two regions and three edge stores. */
export const clouds: Cloud[] = [
  { id: "region-1", labels: { kind: "region", country: "de" } },
  { id: "region-2", labels: { kind: "region", country: "fr" } },
  { id: "store-0001", labels: { kind: "edge", country: "de" } },
  { id: "store-0002", labels: { kind: "edge", country: "de" } },
  { id: "store-0100", labels: { kind: "edge", country: "fr" }, roles: ["member"] },
].map((c) => CloudSchema.parse({ ...c, authUrl: "http://127.0.0.1:5000/v3", admin: { username: "a", password: "b" } }));

export const ctx: PolicyContext = { clouds, sources: ["corp", "sso"], roles: ["member", "reader", "admin"] };

/** A person with sensible defaults. */
export function person(over: Partial<Identity> = {}): Identity {
  const username = over.username ?? "alice";
  return {
    id: `corp:${username}`,
    source: "corp",
    username,
    email: `${username}@example.org`,
    displayName: username,
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes: {},
    ...over,
  };
}

/** Compiles YAML text as one policy file and fails loudly on problems. */
export function compileOk(text: string, file = "test.yaml") {
  const { policies, problems } = compilePolicies([{ file, text }], ctx);
  if (problems.length > 0)
    throw new Error(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`).join("\n"));
  return policies;
}

/** One allow policy in YAML. */
export function allow(name: string, spec: string): string {
  return `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${name} }\nspec:\n${spec}\n`;
}
