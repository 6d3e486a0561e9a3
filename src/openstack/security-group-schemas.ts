import { z } from "zod";

/**
 * Zod schemas of Neutron's security-group replies (`/v2.0/security-groups`, `/v2.0/security-group-rules`). Only the
 * fields sync reads are kept: a thousand clouds' groups are read each run, and every field copied is garbage to
 * collect (Neutron adds timestamps, revision numbers and more). `project_id` falls back to the legacy `tenant_id`.
 */

/** One rule as Neutron answers it (protocol as stored: a name such as `tcp`, a number as a string, or null). */
export const SecurityGroupRuleReplySchema = z
  .object({
    id: z.string(),
    security_group_id: z.string(),
    direction: z.enum(["ingress", "egress"]),
    ethertype: z.string(),
    protocol: z.string().nullable().optional(),
    port_range_min: z.number().int().nullable().optional(),
    port_range_max: z.number().int().nullable().optional(),
    remote_ip_prefix: z.string().nullable().optional(),
    remote_group_id: z.string().nullable().optional(),
    remote_address_group_id: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
  })
  .transform((r) => ({
    ...r,
    protocol: r.protocol ?? null,
    port_range_min: r.port_range_min ?? null,
    port_range_max: r.port_range_max ?? null,
    remote_ip_prefix: r.remote_ip_prefix ?? null,
    remote_group_id: r.remote_group_id ?? null,
    remote_address_group_id: r.remote_address_group_id ?? null,
    description: r.description ?? "",
  }));
/** A Neutron security-group rule. */
export type SecurityGroupRuleReply = z.infer<typeof SecurityGroupRuleReplySchema>;

/** One group, with its rules (Neutron embeds them in group replies). */
export const SecurityGroupReplySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable().optional(),
    project_id: z.string().optional(),
    tenant_id: z.string().optional(),
    tags: z.array(z.string()).optional(),
    security_group_rules: z.array(SecurityGroupRuleReplySchema).optional(),
  })
  .transform((g) => ({
    id: g.id,
    name: g.name,
    description: g.description ?? "",
    projectId: g.project_id ?? g.tenant_id ?? "",
    tags: g.tags ?? [],
    rules: g.security_group_rules ?? [],
  }));
/** A Neutron security group, with its rules. */
export type SecurityGroup = z.infer<typeof SecurityGroupReplySchema>;

const Links = z.array(z.object({ rel: z.string(), href: z.string() })).optional();

/** `GET /v2.0/security-groups`: one page, and the next page's URL when Neutron paginates. */
export const SecurityGroupListReplySchema = z
  .object({ security_groups: z.array(SecurityGroupReplySchema), security_groups_links: Links })
  .transform((v) => ({
    items: v.security_groups,
    next: v.security_groups_links?.find((l) => l.rel === "next")?.href,
  }));

/** `POST`/`PUT /v2.0/security-groups[/{id}]`. */
export const OneSecurityGroupReplySchema = z
  .object({ security_group: SecurityGroupReplySchema })
  .transform((v) => v.security_group);

/** `POST /v2.0/security-group-rules`. */
export const OneSecurityGroupRuleReplySchema = z
  .object({ security_group_rule: SecurityGroupRuleReplySchema })
  .transform((v) => v.security_group_rule);
