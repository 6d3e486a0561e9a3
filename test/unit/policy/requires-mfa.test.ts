import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import {
  compilePolicies,
  evaluate,
  evaluateSession,
  explain,
  formatExplanation,
  MFA_ONLY_NOTE,
  WITH_MFA,
  WITHOUT_MFA,
} from "../../../src/policy/index.js";
import { allow, compileOk, ctx, person } from "./fixtures.js";

// Members of `ops` get member on the ops project everywhere; admins get admin there, but only with a second factor.
const policies = [
  allow(
    "ops-members",
    `  subjects: { groups: { anyOf: [ops] } }\n  clouds: { labels: { kind: region } }\n  grants: [{ project: ops, roles: [member] }]`,
  ),
  allow(
    "ops-admins",
    `  subjects: { groups: { anyOf: [ops-admins] } }\n  clouds: { labels: { kind: region } }\n  requires: { mfa: true }\n  grants: [{ project: ops, roles: [admin] }, { project: ops-secrets, roles: [member] }]`,
  ),
].join("---\n");

function roles(access: ReturnType<typeof evaluate>, cloudId: string, project: string): string[] {
  return (access.get(cloudId)?.assignments ?? []).filter((a) => a.project === project).map((a) => a.role);
}

describe("spec.requires.mfa", () => {
  const set = compileOk(policies);
  const alice = person({ groups: ["ops", "ops-admins"] });

  it("grants the policy's roles only to sessions with a second factor", () => {
    expect(roles(evaluate(alice, set, WITH_MFA), "region-1", "ops")).toEqual(["admin", "member"]);
    expect(roles(evaluate(alice, set, WITHOUT_MFA), "region-1", "ops")).toEqual(["member"]);
    expect(roles(evaluate(alice, set, WITHOUT_MFA), "region-1", "ops-secrets")).toEqual([]);
    // Without a strength, a caller gets the safe answer.
    expect(roles(evaluate(alice, set), "region-1", "ops")).toEqual(["member"]);
  });

  it("gives a session both its own access and what sync provisions, from one match", () => {
    const { access, provisioned } = evaluateSession(alice, set, WITHOUT_MFA);
    expect(roles(access, "region-2", "ops")).toEqual(["member"]);
    expect(roles(provisioned, "region-2", "ops")).toEqual(["admin", "member"]);
    const strong = evaluateSession(alice, set, WITH_MFA);
    expect(strong.access).toBe(strong.provisioned);
    // Someone who matches no MFA-only policy: one evaluation, the same object twice.
    const bob = evaluateSession(person({ username: "bob", groups: ["ops"] }), set, WITHOUT_MFA);
    expect(bob.access).toBe(bob.provisioned);
    expect(roles(bob.access, "region-1", "ops")).toEqual(["member"]);
  });

  it("leaves sets without the condition unchanged whatever the strength", () => {
    const plain = compileOk(allow("p", `  grants: [{ project: ops, roles: [member] }]`));
    expect(plain.mfaOnly).toBe(0);
    expect(evaluate(alice, plain, WITHOUT_MFA)).toEqual(evaluate(alice, plain, WITH_MFA));
  });

  it("works in sets too large for bit masks", () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      allow(
        `p${String(i).padStart(2, "0")}`,
        `  subjects: { groups: { anyOf: [g${i}] } }\n  grants: [{ project: x${i}, roles: [member] }]`,
      ),
    );
    const large = compileOk([...many, policies].join("---\n"));
    expect(roles(evaluate(alice, large, WITHOUT_MFA), "region-1", "ops")).toEqual(["member"]);
    expect(roles(evaluate(alice, large, WITH_MFA), "region-1", "ops")).toEqual(["admin", "member"]);
    const { access, provisioned } = evaluateSession(alice, large, WITHOUT_MFA);
    expect(roles(access, "region-1", "ops")).toEqual(["member"]);
    expect(roles(provisioned, "region-1", "ops")).toEqual(["admin", "member"]);
  });

  it("is refused on deny policies and with unknown keys", () => {
    const deny = `apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: d }\nspec:\n  requires: { mfa: true }\n`;
    expect(compilePolicies([{ file: "d.yaml", text: deny }], ctx).problems.length).toBeGreaterThan(0);
    const typo = allow("t", `  requires: { mfa: true, webauthn: true }\n  grants: [{ project: ops, roles: [member] }]`);
    const problems = compilePolicies([{ file: "t.yaml", text: typo }], ctx).problems;
    expect(problems.map((p) => p.path).join()).toContain("spec.requires");
  });

  it("refuses Keystone group grants in brokered clouds, which cannot be withheld per session", () => {
    const text = allow("g", `  requires: { mfa: true }\n  grants: [{ groups: [cloud-admins] }]`);
    const { problems } = compilePolicies([{ file: "g.yaml", text }], ctx);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe("spec.grants[0].groups");
    expect(problems[0]?.message).toContain("brokered clouds");
    // Federated clouds take groups from each token: there the grant can wait on a second factor.
    const federated = [
      CloudSchema.parse({
        id: "fed-1",
        authUrl: "http://127.0.0.1:5000/v3",
        mode: "federated",
        admin: { username: "a", password: "b" },
      }),
    ];
    const ok = compilePolicies([{ file: "g.yaml", text }], { ...ctx, clouds: federated });
    expect(ok.problems).toEqual([]);
  });
});

describe("explain with requires.mfa", () => {
  const set = compileOk(policies);

  it("says which grants wait on a second factor", () => {
    const e = explain(person({ groups: ["ops", "ops-admins"] }), set, { cloudId: "region-1" });
    expect(e.policies.find((p) => p.name === "ops-admins")?.requiresMfa).toBe(true);
    expect(e.access["region-1"]?.assignments.map((a) => `${a.project}:${a.role}`).sort()).toEqual([
      "ops-secrets:member",
      "ops:admin",
      "ops:member",
    ]);
    expect(e.mfaOnly["region-1"]?.assignments.map((a) => `${a.project}:${a.role}`).sort()).toEqual([
      "ops-secrets:member",
      "ops:admin",
    ]);
    const text = formatExplanation(e);
    expect(text).toMatch(new RegExp(`admin on [^\\n]*/ops  \\[ops-admins\\]  \\(${MFA_ONLY_NOTE}\\)`));
    expect(text).toMatch(/member on [^\n]*\/ops {2}\[ops-members\](\n|$)/);
    expect(text).toContain(`ops-admins  (test.yaml:`);
    expect(text).toContain(`requires mfa: ${MFA_ONLY_NOTE}`);
  });

  it("says nothing of MFA where no grant waits on it", () => {
    const e = explain(person({ groups: ["ops"] }), set);
    expect(e.mfaOnly).toEqual({});
    expect(formatExplanation(e)).not.toContain("(granted only with a second factor)\n");
  });
});
