import type { Transport } from "./http.js";
import type { KeystoneClient } from "./keystone.js";
import {
  OneSecurityGroupReplySchema,
  OneSecurityGroupRuleReplySchema,
  type SecurityGroup,
  SecurityGroupListReplySchema,
  type SecurityGroupRuleReply,
} from "./security-group-schemas.js";

/** What a group is created with: as the cloud's admin, for any project. */
export interface SecurityGroupWrite {
  projectId: string;
  name: string;
  description: string;
}

/** What a rule is created with (Neutron's field names; absent fields are left to Neutron: any). */
export interface SecurityGroupRuleWrite {
  security_group_id: string;
  direction: "ingress" | "egress";
  ethertype: "IPv4" | "IPv6";
  protocol?: string;
  port_range_min?: number;
  port_range_max?: number;
  remote_ip_prefix?: string;
  remote_group_id?: string;
  description?: string;
}

/** Filters of a group listing; each is sent to Neutron (filtered server-side). */
export interface SecurityGroupFilter {
  /** Groups carrying every one of these tags (`standard-attr-tag`). */
  tags?: string[];
  /** Groups with any of these names. */
  names?: string[];
  projectId?: string;
}

const enc = encodeURIComponent;
/** Neutron refuses URLs past its request-line limit; name filters are sent in batches of this many. */
const NAMES_PER_CALL = 50;

/**
 * Neutron security groups and rules of any project, as the cloud's admin. Shares the Keystone client's admin
 * session and the cloud's concurrency limit; the network URL comes from the admin token's catalog.
 */
export class SecurityGroupClient {
  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: () => Promise<string>,
  ) {}

  /** Groups matching the filter, each with its rules (one call per page, following Neutron's `next` links). */
  async list(filter: SecurityGroupFilter = {}): Promise<SecurityGroup[]> {
    if (filter.names && filter.names.length > NAMES_PER_CALL) {
      const out: SecurityGroup[] = [];
      for (let i = 0; i < filter.names.length; i += NAMES_PER_CALL)
        out.push(...(await this.list({ ...filter, names: filter.names.slice(i, i + NAMES_PER_CALL) })));
      return out;
    }
    if (filter.names?.length === 0) return [];
    const query = [
      ...(filter.tags?.length ? [`tags=${enc(filter.tags.join(","))}`] : []),
      ...(filter.names ?? []).map((n) => `name=${enc(n)}`),
      ...(filter.projectId ? [`project_id=${enc(filter.projectId)}`] : []),
    ].join("&");
    const out: SecurityGroup[] = [];
    let path: string | undefined = `${await this.url()}/v2.0/security-groups${query ? `?${query}` : ""}`;
    while (path) {
      const page: { items: SecurityGroup[]; next?: string } = await this.keystone.request(
        { operation: "neutron.security_groups.list", method: "GET", path, schema: SecurityGroupListReplySchema },
        this.transport,
      );
      out.push(...page.items);
      path = page.next;
    }
    return out;
  }

  /** Creates a group in `projectId` (Neutron adds its default egress rules to it: the caller decides on them). */
  async create(group: SecurityGroupWrite): Promise<SecurityGroup> {
    const body = {
      security_group: { name: group.name, description: group.description, project_id: group.projectId },
    };
    return this.keystone.request(
      {
        operation: "neutron.security_groups.create",
        method: "POST",
        path: `${await this.url()}/v2.0/security-groups`,
        body,
        schema: OneSecurityGroupReplySchema,
      },
      this.transport,
    );
  }

  /** Replaces a group's tags (`PUT .../tags`: the whole set). */
  async setTags(groupId: string, tags: string[]): Promise<void> {
    await this.keystone.request(
      {
        operation: "neutron.security_groups.tags",
        method: "PUT",
        path: `${await this.url()}/v2.0/security-groups/${enc(groupId)}/tags`,
        body: { tags },
      },
      this.transport,
    );
  }

  /** Changes a group's description. */
  async updateDescription(groupId: string, description: string): Promise<SecurityGroup> {
    return this.keystone.request(
      {
        operation: "neutron.security_groups.update",
        method: "PUT",
        path: `${await this.url()}/v2.0/security-groups/${enc(groupId)}`,
        body: { security_group: { description } },
        schema: OneSecurityGroupReplySchema,
      },
      this.transport,
    );
  }

  /** Deletes a group (Neutron refuses with 409 while a port uses it). */
  async delete(groupId: string): Promise<void> {
    await this.keystone.request(
      {
        operation: "neutron.security_groups.delete",
        method: "DELETE",
        path: `${await this.url()}/v2.0/security-groups/${enc(groupId)}`,
      },
      this.transport,
    );
  }

  /** Adds a rule to a group (409 when the same rule is there already). */
  async createRule(rule: SecurityGroupRuleWrite): Promise<SecurityGroupRuleReply> {
    return this.keystone.request(
      {
        operation: "neutron.security_group_rules.create",
        method: "POST",
        path: `${await this.url()}/v2.0/security-group-rules`,
        body: { security_group_rule: rule },
        schema: OneSecurityGroupRuleReplySchema,
      },
      this.transport,
    );
  }

  /** Removes a rule (rules are immutable in Neutron: a change is a delete and a create). */
  async deleteRule(ruleId: string): Promise<void> {
    await this.keystone.request(
      {
        operation: "neutron.security_group_rules.delete",
        method: "DELETE",
        path: `${await this.url()}/v2.0/security-group-rules/${enc(ruleId)}`,
      },
      this.transport,
    );
  }
}

export type { SecurityGroup, SecurityGroupRuleReply } from "./security-group-schemas.js";
