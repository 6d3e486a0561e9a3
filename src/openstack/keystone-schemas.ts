import { z } from "zod";

/**
 * Zod schemas of the Keystone v3 replies Archway reads. The objects sync lists in every cloud on every run (domains,
 * projects, users, groups, roles, role assignments) keep only the fields Archway reads, Archway's ownership marks
 * among them (extra attributes Keystone returns at the top level): every field kept is copied, and at a thousand
 * clouds copying the undeclared ones was a resync's largest single allocation (BENCHMARKS.md, sync-scale). The
 * other schemas are loose: newer releases add fields, and the token and catalog are read whole.
 */

const Links = z.looseObject({ next: z.string().nullish() }).optional();

/** A catalog entry of a token. */
export const CatalogEntrySchema = z.looseObject({
  type: z.string(),
  name: z.string().optional(),
  endpoints: z.array(
    z.looseObject({
      interface: z.string(),
      url: z.string(),
      region: z.string().nullish(),
      region_id: z.string().nullish(),
    }),
  ),
});
export type CatalogEntry = z.infer<typeof CatalogEntrySchema>;

export const TokenReplySchema = z.object({
  token: z.looseObject({
    expires_at: z.string(),
    catalog: z.array(CatalogEntrySchema).optional(),
    user: z.looseObject({ id: z.string(), name: z.string().optional() }),
    project: z.looseObject({ id: z.string(), name: z.string() }).optional(),
    roles: z.array(z.looseObject({ name: z.string() })).optional(),
  }),
});

export const DomainSchema = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  description: z.string().nullish(),
  tags: z.array(z.string()).optional(),
});
export type Domain = z.infer<typeof DomainSchema>;

export const ProjectSchema = z.object({
  id: z.string(),
  name: z.string(),
  domain_id: z.string(),
  enabled: z.boolean(),
  description: z.string().nullish(),
  tags: z.array(z.string()).default([]),
  is_domain: z.boolean().optional(),
});
export type Project = z.infer<typeof ProjectSchema>;

/** Keystone user options Archway sets on shadow users. */
export const UserOptionsSchema = z.looseObject({
  ignore_password_expiry: z.boolean().optional(),
  ignore_lockout_failure_attempts: z.boolean().optional(),
  ignore_change_password_upon_first_use: z.boolean().optional(),
});

/**
 * The extra attributes Archway writes on the users and groups it creates (sync/ownership.ts says what each means),
 * read as they come: the ownership code checks their types itself.
 */
const ArchwayMarks = {
  archway_managed: z.unknown().optional(),
  archway_deployment: z.unknown().optional(),
};
const ArchwayUserAttributes = {
  ...ArchwayMarks,
  archway_identity: z.unknown().optional(),
  archway_key_version: z.unknown().optional(),
  archway_disabled_at: z.unknown().optional(),
  archway_keys: z.unknown().optional(),
};

export const UserSchema = z.object({
  id: z.string(),
  name: z.string(),
  domain_id: z.string(),
  enabled: z.boolean(),
  email: z.string().nullish(),
  description: z.string().nullish(),
  options: UserOptionsSchema.default({}),
  ...ArchwayUserAttributes,
});
export type User = z.infer<typeof UserSchema>;

export const GroupSchema = z.object({
  id: z.string(),
  name: z.string(),
  domain_id: z.string(),
  description: z.string().nullish(),
  ...ArchwayMarks,
});
export type Group = z.infer<typeof GroupSchema>;

export const RoleSchema = z.object({ id: z.string(), name: z.string(), domain_id: z.string().nullish() });
export type Role = z.infer<typeof RoleSchema>;

const Ref = z.object({ id: z.string(), name: z.string().optional() });
export const RoleAssignmentSchema = z.object({
  role: Ref,
  user: Ref.extend({ domain: Ref.optional() }).optional(),
  group: Ref.extend({ domain: Ref.optional() }).optional(),
  scope: z
    .object({
      project: Ref.extend({ domain: Ref.optional() }).optional(),
      domain: Ref.optional(),
      system: z.unknown().optional(),
    })
    .optional(),
});
export type RoleAssignment = z.infer<typeof RoleAssignmentSchema>;

export const IdentityProviderSchema = z.looseObject({
  id: z.string(),
  enabled: z.boolean(),
  description: z.string().nullish(),
  remote_ids: z.array(z.string()).default([]),
  domain_id: z.string().nullish(),
});
export type IdentityProvider = z.infer<typeof IdentityProviderSchema>;

export const MappingSchema = z.looseObject({ id: z.string(), rules: z.array(z.unknown()) });
export type Mapping = z.infer<typeof MappingSchema>;

export const ProtocolSchema = z.looseObject({ id: z.string(), mapping_id: z.string() });
export type Protocol = z.infer<typeof ProtocolSchema>;

/**
 * Schemas made by {@link listOf} and {@link oneOf}, per item schema and key. Zod compiles a schema's parser on its
 * first use: one schema per call meant one compilation per request (most of the validation cost at scale).
 */
const made = new WeakMap<z.ZodType, Map<string, z.ZodType>>();

function memo<S extends z.ZodType>(kind: string, key: string, item: z.ZodType, build: () => S): S {
  let byKey = made.get(item);
  if (!byKey) {
    byKey = new Map();
    made.set(item, byKey);
  }
  const id = `${kind}:${key}`;
  let schema = byKey.get(id);
  if (!schema) {
    schema = build();
    byKey.set(id, schema);
  }
  return schema as S;
}

/** `{ <key>: [...], links, truncated? }`: one list reply of Keystone. */
export function listOf<T extends z.ZodType>(key: string, item: T) {
  return memo("list", key, item, () =>
    z
      .looseObject({ [key]: z.array(item), links: Links, truncated: z.boolean().optional() })
      .transform((v) => ({ items: v[key] as z.infer<T>[], truncated: v.truncated === true })),
  );
}

/** `{ <key>: {...} }`: one object reply of Keystone. */
export function oneOf<T extends z.ZodType>(key: string, item: T) {
  return memo("one", key, item, () => z.looseObject({ [key]: item }).transform((v) => v[key] as z.infer<T>));
}
