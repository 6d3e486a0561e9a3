import { QUOTA_RESOURCES, QUOTA_SERVICES, type QuotaService } from "../../../policy/index.js";

/**
 * How Archway knows it set a project's quotas: one project tag per service, `archway:quota:<service>:<r1>.<r2>`,
 * naming the resources it manages there (sorted). A tag, because Keystone returns tags with the project listing sync
 * reads anyway (no extra call per project), and tags are added and removed one by one (`PUT`/`DELETE
 * /v3/projects/{id}/tags/{tag}`), so the three services' operations of one project never race on one field. Names are
 * joined by `.` because Keystone refuses `,` and `/` in tags.
 */
export const QUOTA_TAG_PREFIX = "archway:quota:";

/** The mark of `resources` (config names) of `service`. */
export function quotaTag(service: QuotaService, resources: Iterable<string>): string {
  return `${QUOTA_TAG_PREFIX}${service}:${[...resources].sort().join(".")}`;
}

/** True for a tag {@link quotaTag} writes: the project planner keeps these when it rewrites a project's tags. */
export function isQuotaTag(tag: string): boolean {
  return tag.startsWith(QUOTA_TAG_PREFIX);
}

/** What a project's tags say Archway set, per service: the resources, and the tags that say so. */
export type QuotaMarks = Partial<Record<QuotaService, { resources: Set<string>; tags: string[] }>>;

/**
 * The quota marks among a project's tags. Two tags of one service (a run stopped between adding the new mark and
 * removing the old) mean the union; unknown services and resource names are ignored (never reset blindly).
 */
export function quotaMarks(tags: readonly string[]): QuotaMarks {
  const out: QuotaMarks = {};
  for (const tag of tags) {
    if (!isQuotaTag(tag)) continue;
    const rest = tag.slice(QUOTA_TAG_PREFIX.length);
    const colon = rest.indexOf(":");
    const service = QUOTA_SERVICES.find((s) => s === rest.slice(0, colon));
    if (colon < 0 || !service) continue;
    const known = QUOTA_RESOURCES[service];
    const resources = rest
      .slice(colon + 1)
      .split(".")
      .filter((r) => known.includes(r));
    const mark = out[service] ?? { resources: new Set<string>(), tags: [] };
    for (const r of resources) mark.resources.add(r);
    mark.tags.push(tag);
    out[service] = mark;
  }
  return out;
}
