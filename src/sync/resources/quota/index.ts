import { formatQuotas, type QuotaService } from "../../../policy/index.js";
import { type ProjectMap, projectLabel } from "../../project-ref.js";
import type { SyncResource } from "../../resource.js";
import { applyResetQuota, applySetQuota } from "./apply.js";
import { observeQuotas } from "./observe.js";
import { planQuotas } from "./plan.js";

/**
 * Sets the named limits of one service on a project (only those that differ; all of them after a reset, or on a
 * project created in this run), and marks the project with the resources Archway manages there.
 */
export interface SetQuota {
  kind: "setQuota";
  domain: string;
  name: string;
  /** Absent for a project created in this run (looked up when the op is applied). */
  projectId?: string;
  service: QuotaService;
  /** Config names (`cores`, `volumes`, `port`...) -> limit; -1 unlimited. May be empty when only the mark changes. */
  limits: Record<string, number>;
  /** Resources Archway set that no grant names any more: back to the cloud's default first. */
  drop?: string[];
  /** The project tag to add (absent when the project has it): {@link quotaTag} of every resource the grants name. */
  mark?: string;
  /** Older marks of this service to remove once the limits are written. */
  unmark?: string[];
  policies: string[];
}

/** Gives a service's quotas Archway set on an owned project back to the cloud's defaults (no grant names them). */
export interface ResetQuota {
  kind: "resetQuota";
  domain: string;
  name: string;
  projectId: string;
  service: QuotaService;
  /** The resources Archway's mark names. */
  resources: string[];
  /** Archway's marks of this service, removed once the quotas are reset. */
  unmark: string[];
  policies: string[];
}

/** The operations on quotas. */
export type QuotaOperation = SetQuota | ResetQuota;

/** What was read of one service's quotas of one project: limits by config name, or why they could not be read. */
export type ServiceQuotas =
  | {
      status: "ok";
      /** What applies now: the project's own value, else the default (Keystone: the registered limit). */
      limits: Record<string, number>;
      /** Keystone only: the ids of the project's own limits, by config name. */
      limitIds?: Record<string, string>;
    }
  | { status: "unavailable"; error: string };

/** One project's quotas, per service read. */
export type ProjectQuotas = Partial<Record<QuotaService, ServiceQuotas>>;

/** What the quota resource observes in one cloud. */
export interface QuotaSlice {
  /** Owned projects with desired quotas or Archway's quota marks. */
  projects: ProjectMap<ProjectQuotas>;
  /** Services this cloud cannot take quotas for (missing from the catalog, no Keystone service), and why. */
  unavailable: Partial<Record<QuotaService, string>>;
  /** Keystone unified limits: each resource's registered default (config names) and the region it is in. */
  registered: Partial<Record<QuotaService, Record<string, { region: string | null; value: number }>>>;
  /** Keystone unified limits: the service id of each service. */
  serviceIds: Partial<Record<QuotaService, string>>;
}

/**
 * Project quotas (a grant's `quotas:`) in the service APIs (Nova, Cinder, Neutron) or Keystone unified limits, per
 * the cloud's `quotaBackend`; Archway-owned projects only. The op runs in the `links` phase: after `objects`, where a
 * project of the same run is created. A reset takes nothing away (no server, volume or network; only the limit for
 * new ones goes back to the cloud's default), so neither op counts against `maxDeletesPerRun`.
 */
export const quotas: SyncResource<QuotaOperation, QuotaSlice> = {
  name: "quota",
  observe: observeQuotas,
  plan: (ctx) => ctx.memo(planQuotas),
  steps: {
    setQuota: {
      phase: "links",
      action: () => "update",
      describe: (op) => {
        const set = Object.keys(op.limits).length > 0 ? formatQuotas({ [op.service]: op.limits }) : "";
        const drop = op.drop?.length ? `${op.drop.join(", ")} back to the default` : "";
        const marks = op.mark ? `mark ${op.service} quotas as Archway's` : `tidy Archway's ${op.service} quota marks`;
        const what = [set, drop].filter(Boolean).join("; ") || marks;
        return `set quotas of ${projectLabel(op)}: ${what}`;
      },
      apply: applySetQuota,
    },
    resetQuota: {
      phase: "unlinks",
      action: () => "update",
      describe: (op) =>
        `reset ${op.service} quotas of ${projectLabel(op)} to the cloud's defaults (Archway set ${op.resources.join(", ") || "none"})`,
      apply: applyResetQuota,
    },
  },
};

export { QUOTA_TAG_PREFIX, quotaMarks, quotaTag } from "./mark.js";
export { fromUnifiedNames, SERVICE_TYPES, UNIFIED_LIMIT_NAMES, usesUnifiedLimits } from "./names.js";
export { emptyQuotaSlice } from "./observe.js";
