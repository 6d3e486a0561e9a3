import { stringify } from "yaml";
import { z } from "zod";
import type { AccessPolicyManifest, Grant } from "./schema.js";

const Remote = z
  .object({
    type: z.string().min(1),
    any_one_of: z.array(z.string()).optional(),
    not_any_of: z.array(z.string()).optional(),
    whitelist: z.array(z.string()).optional(),
    blacklist: z.array(z.string()).optional(),
    regex: z.boolean().optional(),
  })
  .strict();
const DomainRef = z.object({ name: z.string().optional(), id: z.string().optional() }).strict();
const Local = z
  .object({
    user: z.record(z.string(), z.unknown()).optional(),
    group: z
      .object({ name: z.string().optional(), id: z.string().optional(), domain: DomainRef.optional() })
      .strict()
      .optional(),
    groups: z.string().optional(),
    group_ids: z.string().optional(),
    projects: z
      .array(z.object({ name: z.string(), roles: z.array(z.object({ name: z.string() }).strict()) }).strict())
      .optional(),
    domain: DomainRef.optional(),
  })
  .strict();
const Rule = z.object({ local: z.array(Local).min(1), remote: z.array(Remote).min(1) }).strict();
/** A Keystone federation mapping, bare (`{rules}`) or as the API returns it (`{mapping: {rules}}`). */
export const KeystoneMappingSchema = z.union([
  z.object({ rules: z.array(Rule).min(1) }).strict(),
  z.object({ mapping: z.object({ rules: z.array(Rule).min(1) }) }),
]);

/** The outcome of an import: policies that express the mapping, and a line for each rule that cannot be. */
export interface ImportResult {
  policies: AccessPolicyManifest[];
  /** The YAML of every policy, `---`-separated, ready for `policies/`. */
  yaml: string;
  refused: string[];
  /** Attribute Keystone takes the user name from: configure the identity source's username claim to match. */
  usernameAttribute?: string;
}

/**
 * Turns a Keystone federation mapping into Archway access policies, one per rule. Keystone's semantics carry
 * over: every remote requirement must hold (an attribute must be present), `any_one_of`/`not_any_of` become
 * attribute matchers (regular expressions unanchored, as in Keystone), placeholders `{N}` refer to the N-th
 * remote entry without `any_one_of`/`not_any_of`, `whitelist`/`blacklist` filter a group list.
 */
export function importKeystoneMapping(
  input: unknown,
  opts: { namePrefix?: string; clouds?: string[] } = {},
): ImportResult {
  const parsed = KeystoneMappingSchema.safeParse(input);
  if (!parsed.success) {
    return {
      policies: [],
      yaml: "",
      refused: [`not a Keystone mapping: ${parsed.error.issues[0]?.message ?? "invalid"}`],
    };
  }
  const rules: z.infer<typeof Rule>[] = "rules" in parsed.data ? parsed.data.rules : parsed.data.mapping.rules;
  const prefix = opts.namePrefix ?? "imported";
  const refused: string[] = [];
  const policies: AccessPolicyManifest[] = [];
  let usernameAttribute: string | undefined;
  let projectRule: number | undefined;
  rules.forEach((rule, r) => {
    const where = `rule ${r}`;
    try {
      if (rule.local.some((l) => l.projects)) {
        // Keystone keeps only the projects of the last matching rule; Archway grants the union of all policies.
        if (projectRule !== undefined) {
          throw new Refusal(
            `rule ${projectRule} also grants projects, and Keystone keeps only the last match's projects`,
          );
        }
        projectRule = r;
      }
      const { attributes, slots } = convertRemote(rule.remote);
      const grants: Grant[] = [];
      let ruleDomain = rule.local.find((l) => l.domain && !l.groups)?.domain;
      for (const local of rule.local) {
        if (local.user) {
          const name = local.user.name;
          if (typeof name !== "string" || !/^\{\d+\}$/.test(name)) {
            throw new Refusal(
              `user.name '${String(name)}' is not a plain {N}: Archway's user name comes from the identity source`,
            );
          }
          const slot = slotOf(name, slots);
          if (usernameAttribute && usernameAttribute !== slot.type)
            throw new Refusal("rules take the user name from different attributes");
          usernameAttribute = slot.type;
        }
        if (local.group_ids !== undefined || local.group?.id !== undefined) {
          throw new Refusal("group ids differ in every cloud: name the group and its domain instead");
        }
        const domain = domainName(local.group?.domain ?? local.domain ?? ruleDomain);
        if (local.group) {
          if (!local.group.name || /\{\d+\}/.test(local.group.name)) throw new Refusal("a group needs a literal name");
          grants.push({
            groups: [local.group.name],
            ...(domain ? { domain } : {}),
            roles: [],
            create: false,
            tags: [],
          });
        }
        if (local.groups !== undefined) {
          if (!/^\{\d+\}$/.test(local.groups)) throw new Refusal(`groups '${local.groups}' is not a plain {N}`);
          const slot = slotOf(local.groups, slots);
          grants.push({
            groups: [],
            groupsFromAttribute: {
              name: slot.type,
              ...(slot.whitelist ? { whitelist: slot.whitelist } : {}),
              ...(slot.blacklist ? { blacklist: slot.blacklist } : {}),
              regex: slot.regex,
            },
            ...(domain ? { domain } : {}),
            roles: [],
            create: false,
            tags: [],
          });
        }
        for (const project of local.projects ?? []) {
          grants.push({
            project: project.name.replace(
              /\{(\d+)\}/g,
              (_m, n: string) => `{{ attributes.${slotOf(`{${n}}`, slots).type} }}`,
            ),
            roles: project.roles.map((x) => x.name),
            create: true,
            tags: [],
            groups: [],
          });
        }
        if (local.domain && !local.groups && !local.group) ruleDomain = local.domain;
      }
      policies.push({
        apiVersion: "archway.dev/v1",
        kind: "AccessPolicy",
        metadata: { name: `${prefix}-rule-${r}`, description: `Imported from Keystone mapping rule ${r}` },
        spec: {
          effect: "allow",
          subjects: attributes.length > 0 ? { attributes } : {},
          clouds: { names: opts.clouds ?? ["*"] },
          grants,
          keys: false,
        },
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refused.push(`${where}: cannot be expressed: ${err.message}`);
    }
  });
  const yaml = policies.map((p) => stringify(p, { lineWidth: 0 })).join("---\n");
  return { policies, yaml, refused, ...(usernameAttribute ? { usernameAttribute } : {}) };
}

class Refusal extends Error {}

interface Slot {
  type: string;
  whitelist?: string[];
  blacklist?: string[];
  regex: boolean;
}

function convertRemote(remote: z.infer<typeof Remote>[]) {
  const attributes: NonNullable<AccessPolicyManifest["spec"]["subjects"]["attributes"]> = [];
  const slots: Slot[] = [];
  const alternation = (xs: string[]) => xs.map((x) => `(?:${x})`).join("|");
  for (const req of remote) {
    const regex = req.regex ?? false;
    if (req.any_one_of) {
      attributes.push(
        regex
          ? { name: req.type, matches: alternation(req.any_one_of), not: false }
          : { name: req.type, in: req.any_one_of, not: false },
      );
      continue;
    }
    if (req.not_any_of) {
      // Keystone still requires the attribute to be present.
      attributes.push({ name: req.type, matches: "", not: false });
      attributes.push(
        regex
          ? { name: req.type, matches: alternation(req.not_any_of), not: true }
          : { name: req.type, in: req.not_any_of, not: true },
      );
      continue;
    }
    if (req.whitelist && req.blacklist) throw new Refusal(`${req.type}: whitelist and blacklist together`);
    attributes.push({ name: req.type, matches: "", not: false });
    slots.push({ type: req.type, whitelist: req.whitelist, blacklist: req.blacklist, regex });
  }
  return { attributes, slots };
}

function slotOf(placeholder: string, slots: Slot[]): Slot {
  const n = Number(/\d+/.exec(placeholder)?.[0]);
  const slot = slots[n];
  if (!slot) throw new Refusal(`placeholder ${placeholder} refers to no remote entry`);
  return slot;
}

function domainName(ref: z.infer<typeof DomainRef> | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref.id !== undefined && ref.name === undefined)
    throw new Refusal("domain ids differ in every cloud: name the domain");
  return ref.name;
}
