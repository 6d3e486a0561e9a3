import type { IdentityProvider } from "../../../openstack/index.js";
import { classifyMark, type Mark, type Ownership, whose } from "../../ownership.js";
import type { ObserveContext, PlanContext, Planned, SyncResource } from "../../resource.js";
import { requireDomain } from "../domain/index.js";

/**
 * The description that marks an identity provider as Archway's (Keystone IdPs have no extra attributes); alone,
 * it is the mark from before deployment ids. Its mapping and protocol follow it: never changed when it is not ours.
 */
export const IDP_MARK = "Managed by Archway: the OpenID Provider this cloud trusts for federated logins";

/** The description of an identity provider this deployment manages. */
export function idpMark(deploymentId: string): string {
  return `${IDP_MARK} (deployment ${deploymentId})`;
}

/** Whose an identity provider is, from its description. */
export function idpOwner(description: string | null | undefined, ownership: Ownership): Mark {
  const d = description ?? "";
  const dep = d.startsWith(`${IDP_MARK} (deployment `) && d.endsWith(")") ? d.slice(IDP_MARK.length + 13, -1) : "";
  return classifyMark(d === IDP_MARK || dep !== "", dep ? [dep] : [], ownership);
}

/** The operations on the objects through which a federated cloud trusts Archway (`create`: it does not exist yet). */
export type FederationOperation =
  | { kind: "ensureIdentityProvider"; id: string; remoteIds: string[]; create: boolean; policies: string[] }
  | { kind: "ensureMapping"; id: string; rules: unknown[]; create: boolean; policies: string[] }
  | { kind: "ensureProtocol"; idp: string; id: string; mappingId: string; create: boolean; policies: string[] };

/** What exists of the identity provider, its mapping and protocol. */
export interface FederationObserved {
  idp?: IdentityProvider;
  mappingRules?: unknown[];
  /** The mapping the protocol points at, when the protocol exists. */
  protocolMapping?: string;
}

/**
 * The identity provider (Archway as OIDC issuer), its mapping and its protocol in a federated cloud. An identity
 * provider of that id without Archway's mark is someone else's: reported, never changed, and then neither are its
 * mapping and protocol. Brokered clouds have none.
 */
export const federation: SyncResource<FederationOperation, FederationObserved> = {
  name: "federation",
  observe: observeFederation,
  plan: planFederation,
  steps: {
    ensureIdentityProvider: {
      phase: "objects",
      action: (op) => (op.create ? "create" : "update"),
      describe: (op) =>
        `${op.create ? "create" : "update"} identity provider ${op.id} (remote_ids ${op.remoteIds.join(", ")})`,
      async apply(ctx, op) {
        const fed = ctx.clients.federation();
        const body = { remote_ids: op.remoteIds, enabled: true, description: idpMark(ctx.ownership.deploymentId) };
        if (op.create) await fed.createIdentityProvider(op.id, { ...body, domain_id: requireDomain(ctx) });
        else await fed.updateIdentityProvider(op.id, body);
      },
    },
    ensureMapping: {
      phase: "objects",
      action: (op) => (op.create ? "create" : "update"),
      describe: (op) =>
        `${op.create ? "create" : "update"} mapping ${op.id} (${op.rules.length} rule${op.rules.length === 1 ? "" : "s"})`,
      async apply(ctx, op) {
        const fed = ctx.clients.federation();
        if (op.create) await fed.createMapping(op.id, op.rules);
        else await fed.updateMapping(op.id, op.rules);
      },
    },
    ensureProtocol: {
      phase: "links",
      action: (op) => (op.create ? "create" : "update"),
      describe: (op) => `${op.create ? "create" : "update"} protocol ${op.id} of ${op.idp} -> mapping ${op.mappingId}`,
      async apply(ctx, op) {
        const fed = ctx.clients.federation();
        if (op.create) await fed.createProtocol(op.idp, op.id, op.mappingId);
        else await fed.updateProtocol(op.idp, op.id, op.mappingId);
      },
    },
  },
};

/** Three calls: the identity provider, the mapping, and the protocol when the identity provider exists. */
async function observeFederation(ctx: ObserveContext): Promise<FederationObserved> {
  const desired = ctx.input.federation;
  if (!desired) return {};
  const fed = ctx.clients.federation();
  const idp = (await fed.listIdentityProviders()).find((i) => i.id === desired.idp.id);
  const mapping = (await fed.listMappings()).find((m) => m.id === desired.mapping.id);
  const protocol = idp ? (await fed.listProtocols(idp.id)).find((p) => p.id === desired.protocol.id) : undefined;
  return { idp, mappingRules: mapping?.rules, protocolMapping: protocol?.mapping_id };
}

/** See {@link federation}. */
export function planFederation(ctx: PlanContext): Planned<FederationOperation> {
  const desired = ctx.input.federation;
  if (!desired) return { operations: [] };
  const fed = ctx.observed(federation);
  const mark = fed.idp ? idpOwner(fed.idp.description, ctx.input.ownership) : undefined;
  if (mark && mark.owner !== "self") {
    const problem = `identity provider ${desired.idp.id} exists ${whose(mark)}: not changed; set federation.identityProviderId to another id`;
    return { operations: [], problems: [problem] };
  }
  const operations: FederationOperation[] = [];
  const remoteIdsDiffer = fed.idp && [...fed.idp.remote_ids].sort().join(" ") !== desired.idp.remoteIds.join(" ");
  const remark = mark?.owner === "self" && mark.remark;
  if (!fed.idp || remoteIdsDiffer || !fed.idp.enabled || remark) {
    const create = !fed.idp;
    operations.push({ kind: "ensureIdentityProvider", ...desired.idp, create, policies: [] });
  }
  if (!fed.mappingRules || canonical(fed.mappingRules) !== canonical(desired.mapping.rules)) {
    const create = !fed.mappingRules;
    operations.push({ kind: "ensureMapping", ...desired.mapping, create, policies: [] });
  }
  if (fed.protocolMapping !== desired.protocol.mappingId) {
    const create = fed.protocolMapping === undefined;
    operations.push({ kind: "ensureProtocol", idp: desired.idp.id, ...desired.protocol, create, policies: [] });
  }
  return { operations };
}

/** JSON with sorted keys: Keystone may return the rules with keys in another order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

export { type FederationDesired, federationDesired } from "./desired.js";
