import { ArchwayError } from "../../../errors.js";
import type { ApplyContext, PlanContext, SyncResource } from "../../resource.js";
import { adoptOnConflict } from "../idempotent.js";

/** Creates Archway's domain in a cloud (shadow users, groups and Archway's own projects live there). */
export interface EnsureDomain {
  kind: "ensureDomain";
  name: string;
  policies: string[];
}

/** Every domain by name, and Archway's domain id (null until it exists). */
export interface DomainsObserved {
  id: string | null;
  byName: Map<string, string>;
}

/** Archway's domain: created when missing, never changed or deleted. */
export const domains: SyncResource<EnsureDomain, DomainsObserved> = {
  name: "domain",
  async observe(ctx) {
    const byName = await ctx.reads.domains();
    return { id: byName.get(ctx.input.cloud.domain) ?? null, byName };
  },
  plan(ctx: PlanContext) {
    if (ctx.observed(domains).id) return { operations: [] };
    return { operations: [{ kind: "ensureDomain", name: ctx.input.cloud.domain, policies: [] }] };
  },
  steps: {
    ensureDomain: {
      phase: "domain",
      action: () => "create",
      describe: (op) => `create domain ${op.name}`,
      async apply(ctx, op) {
        const ks = ctx.clients.keystone;
        const domain = await adoptOnConflict(
          () => ks.createDomain({ name: op.name, description: "Archway shadow users, groups and projects" }),
          async () => (await ks.listDomains({ name: op.name }))[0],
        );
        archwayDomain(ctx).id = domain.id;
      },
    },
  },
};

/** Archway's domain id during an apply run: observed, or created in the first phase. */
function archwayDomain(ctx: ApplyContext): { id: string | null } {
  return ctx.memo(observedDomain);
}

function observedDomain(ctx: ApplyContext): { id: string | null } {
  return { id: ctx.observed(domains).id };
}

/** Archway's domain id; throws `sync_unresolved` when it neither existed nor was created. */
export function requireDomain(ctx: ApplyContext): string {
  const id = archwayDomain(ctx).id;
  if (!id) throw new ArchwayError("sync_unresolved", `domain ${ctx.cloud.domain} was not created`, 409);
  return id;
}

/** A domain's id by name during apply (Archway's own, even when created in this run). */
export function domainIdOf(ctx: ApplyContext, name: string): string | undefined {
  return name === ctx.cloud.domain ? requireDomain(ctx) : ctx.observed(domains).byName.get(name);
}
