import { z } from "zod";
import { SubjectCoreSchema } from "../config/index.js";
import { CloudSelectorSchema, MetadataSchema } from "./common-schema.js";
import { MANIFEST_SCHEMAS } from "./manifests/schemas.js";
import { QuotasSchema } from "./quotas.js";

/** A claim or attribute condition: exactly one of `equals`, `in`, `matches` (a regular expression). */
export const AttributeMatcherSchema = z
  .object({
    name: z.string().min(1),
    equals: z.string().optional(),
    in: z.array(z.string()).min(1).optional(),
    matches: z.string().optional(),
    /** Invert the condition (no value of the attribute may satisfy it). */
    not: z.boolean().default(false),
  })
  .strict()
  .refine((m) => [m.equals, m.in, m.matches].filter((v) => v !== undefined).length === 1, {
    message: "expected exactly one of equals, in, matches",
  });
export type AttributeMatcher = z.infer<typeof AttributeMatcherSchema>;

/** Who a policy is about. Every condition given must hold; an empty subject matches everyone. */
export const SubjectsSchema = SubjectCoreSchema.extend({
  attributes: z.array(AttributeMatcherSchema).min(1).optional(),
}).strict();
export type Subjects = z.infer<typeof SubjectsSchema>;

/** Keystone groups named by the values of a (multi-valued) attribute, optionally filtered. */
export const GroupsFromAttributeSchema = z
  .object({
    name: z.string().min(1),
    /** Keep only these values (or, with `regex`, values matching one of these patterns). */
    whitelist: z.array(z.string()).optional(),
    /** Drop these values. */
    blacklist: z.array(z.string()).optional(),
    regex: z.boolean().default(false),
  })
  .strict()
  .refine((g) => !(g.whitelist && g.blacklist), { message: "expected whitelist or blacklist, not both" });
export type GroupsFromAttribute = z.infer<typeof GroupsFromAttributeSchema>;

/** One project (and its roles), and/or Keystone group memberships, that a policy grants. */
export const GrantSchema = z
  .object({
    /** Project name; a template such as `u-{{ username }}`. Absent for a grant of group memberships only. */
    project: z.string().min(1).optional(),
    /** Keystone domain of the project; default the cloud's Archway domain. */
    domain: z.string().min(1).optional(),
    roles: z.array(z.string().min(1)).default([]),
    /** Whether Archway creates (and owns) the project; otherwise it must already exist. */
    create: z.boolean().default(true),
    description: z.string().optional(),
    tags: z.array(z.string().min(1)).default([]),
    /** Keystone groups the person's user joins in that cloud (federated mappings grant through groups). */
    groups: z.array(z.string().min(1)).default([]),
    groupsFromAttribute: GroupsFromAttributeSchema.optional(),
    /** Limits of the project in each targeted cloud, per service (Archway-owned projects only). */
    quotas: QuotasSchema.optional(),
    /**
     * Who holds `roles` in brokered clouds: the person's own user (`person`, the default when absent), or a Keystone group of
     * Archway's domain that the person joins and that holds the roles (`group`): one group per team, not one
     * assignment per person. Federated clouds grant through their own groups either way.
     */
    assignTo: z.enum(["person", "group"]).optional(),
    /** With `assignTo: group`: the Keystone group's name, a template; default `{{ group }}` under `spec.forEach`. */
    keystoneGroup: z.string().min(1).optional(),
  })
  .strict()
  .refine((g) => g.project !== undefined || g.groups.length > 0 || g.groupsFromAttribute !== undefined, {
    message: "expected a project, groups or groupsFromAttribute",
  })
  .refine((g) => g.assignTo !== "group" || g.project !== undefined, {
    message: "assignTo: group gives the project's roles to a group: a project is needed",
    path: ["assignTo"],
  })
  .refine((g) => g.keystoneGroup === undefined || g.assignTo === "group", {
    message: "keystoneGroup names the group that holds the roles: it needs assignTo: group",
    path: ["keystoneGroup"],
  })
  .refine((g) => g.quotas === undefined || (g.project !== undefined && g.create), {
    message: "quotas apply only to a project Archway creates and owns (a project with create: true)",
    path: ["quotas"],
  });
export type Grant = z.infer<typeof GrantSchema>;

/**
 * One grant set per directory group of the person whose name matches `group` (a glob, on the name as the identity
 * source reports it); `{{ group }}` in the grants' templates is that name. A person in no matching group gets none.
 */
export const ForEachSchema = z.object({ group: z.string().min(1) }).strict();
export type ForEach = z.infer<typeof ForEachSchema>;

/**
 * What a session must have shown for an allow policy's grants to apply to it. `mfa: true`: only sessions that passed
 * a second factor (see `satisfiesMfa`); sync still provisions the grants, and tokens carry them only for such sessions.
 */
export const RequiresSchema = z.object({ mfa: z.boolean().default(false) }).strict();
export type Requires = z.infer<typeof RequiresSchema>;

export const AccessPolicySchema = z
  .object({
    apiVersion: z.literal("archway.dev/v1"),
    kind: z.literal("AccessPolicy"),
    metadata: MetadataSchema,
    spec: z
      .object({
        /** `deny` turns this policy into a deny (same as kind DenyPolicy). */
        effect: z.enum(["allow", "deny"]).default("allow"),
        subjects: SubjectsSchema.default({}),
        clouds: CloudSelectorSchema.default({}),
        grants: z.array(GrantSchema).default([]),
        /** Repeats `grants` for each matching directory group of the person (see {@link ForEachSchema}). */
        forEach: ForEachSchema.optional(),
        /** Whether the person's SSH public keys are imported into those clouds. */
        keys: z.boolean().default(false),
        /** Conditions on the session, not the person: the grants apply only to sessions that meet them. */
        requires: RequiresSchema.optional(),
      })
      .strict(),
  })
  .strict();

export const DenyPolicySchema = z
  .object({
    apiVersion: z.literal("archway.dev/v1"),
    kind: z.literal("DenyPolicy"),
    metadata: MetadataSchema,
    spec: z
      .object({
        subjects: SubjectsSchema.default({}),
        clouds: CloudSelectorSchema.default({}),
        /** Only deny these projects (globs, matched on the rendered name); default every project and key. */
        projects: z.array(z.string().min(1)).min(1).optional(),
        /** Only deny these roles; default every role. */
        roles: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict(),
  })
  .strict();

/**
 * One YAML document of a policy file: a policy about people, or a manifest of what every targeted cloud holds
 * whoever uses it (see manifests/).
 */
export const PolicyManifestSchema = z.discriminatedUnion("kind", [
  AccessPolicySchema,
  DenyPolicySchema,
  ...MANIFEST_SCHEMAS,
]);
export type PolicyManifest = z.infer<typeof PolicyManifestSchema>;
export { type CloudSelector, CloudSelectorSchema } from "./common-schema.js";
export type AccessPolicyManifest = z.infer<typeof AccessPolicySchema>;
export type DenyPolicyManifest = z.infer<typeof DenyPolicySchema>;
