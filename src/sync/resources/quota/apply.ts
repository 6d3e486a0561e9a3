import { ArchwayError } from "../../../errors.js";
import { isUpstreamStatus, type KeystoneClient } from "../../../openstack/index.js";
import type { QuotaService } from "../../../policy/index.js";
import type { ProjectRef } from "../../project-ref.js";
import type { ApplyContext } from "../../resource.js";
import { ignoreNotFound } from "../idempotent.js";
import { projectIdOf } from "../project/index.js";
import { quotas, type ResetQuota, type SetQuota } from "./index.js";
import { quotaStoreOf, UNIFIED_LIMIT_NAMES } from "./names.js";

const enc = encodeURIComponent;

/**
 * Writes a project's limits of one service. The mark goes on first, so a run stopped half-way leaves a project whose
 * quotas Archway may have changed marked as such (the next run finishes or resets them); the old mark comes off last.
 * Every call is safe to repeat: quota PUTs set values, a limit create that meets an earlier run's limit updates it.
 */
export async function applySetQuota(ctx: ApplyContext, op: SetQuota): Promise<void> {
  const projectId = op.projectId ?? projectIdOf(ctx, op);
  const ks = ctx.clients.keystone;
  if (op.mark) await addTag(ks, projectId, op.mark);
  if (quotaStoreOf(ctx.cloud, op.service) === "service") {
    const client = ctx.clients.quotas()[op.service];
    if (op.drop?.length) await client.reset(projectId);
    if (Object.keys(op.limits).length > 0) await client.set(projectId, op.limits);
  } else {
    const ids = ownLimitIds(ctx, op, op.service);
    for (const r of op.drop ?? []) {
      const id = ids[r];
      if (id) await ignoreNotFound(() => ctx.clients.limits().deleteLimit(id));
    }
    for (const [r, v] of Object.entries(op.limits)) await writeLimit(ctx, projectId, op.service, r, v, ids[r]);
  }
  for (const tag of op.unmark ?? []) await removeTag(ks, projectId, tag);
}

/**
 * Gives the quotas Archway set back to the cloud: the service's own API resets the project's set to the defaults;
 * in Keystone, the project limits of the marked resources are deleted (the registered defaults apply again). Then
 * the mark comes off.
 */
export async function applyResetQuota(ctx: ApplyContext, op: ResetQuota): Promise<void> {
  if (quotaStoreOf(ctx.cloud, op.service) === "service") await ctx.clients.quotas()[op.service].reset(op.projectId);
  else {
    const ids = ownLimitIds(ctx, op, op.service);
    for (const r of op.resources) {
      const id = ids[r];
      if (id) await ignoreNotFound(() => ctx.clients.limits().deleteLimit(id));
    }
  }
  for (const tag of op.unmark) await removeTag(ctx.clients.keystone, op.projectId, tag);
}

/** The project's own Keystone limits by config name, as observed (none for a project created in this run). */
function ownLimitIds(ctx: ApplyContext, ref: ProjectRef, service: QuotaService): Record<string, string> {
  const state = ctx.observed(quotas).projects.get(ref)?.[service];
  return state?.status === "ok" ? (state.limitIds ?? {}) : {};
}

async function writeLimit(
  ctx: ApplyContext,
  projectId: string,
  service: QuotaService,
  resource: string,
  value: number,
  id: string | undefined,
): Promise<void> {
  const limits = ctx.clients.limits();
  if (id) {
    await limits.updateLimit(id, { resourceLimit: value });
    return;
  }
  const slice = ctx.observed(quotas);
  const serviceId = slice.serviceIds[service];
  const resourceName = UNIFIED_LIMIT_NAMES[service]?.[resource];
  if (!serviceId || !resourceName)
    throw new ArchwayError("sync_unresolved", `no unified limit for ${service} ${resource} in ${ctx.cloud.id}`, 409);
  const regionId = slice.registered[service]?.[resource]?.region ?? undefined;
  try {
    await limits.createLimit({ projectId, serviceId, resourceName, resourceLimit: value, regionId });
  } catch (err) {
    // An earlier, interrupted run made it: update that one.
    if (!isUpstreamStatus(err, 409)) throw err;
    const [existing] = await limits.listLimits({ projectId, serviceId, resourceName, regionId });
    if (!existing) throw err;
    await limits.updateLimit(existing.id, { resourceLimit: value });
  }
}

/**
 * `PUT /v3/projects/{id}/tags/{tag}`: adds one tag, leaving the others. Keystone (Zed) answers 400 for a tag the
 * project already has (its list would hold it twice): that counts as done, after a check that the tag is there.
 */
async function addTag(ks: KeystoneClient, projectId: string, tag: string): Promise<void> {
  const path = `/projects/${enc(projectId)}/tags/${enc(tag)}`;
  try {
    await ks.request({ operation: "keystone.projects.tags.add", method: "PUT", path });
  } catch (err) {
    if (!isUpstreamStatus(err, 400)) throw err;
    await ks.request({ operation: "keystone.projects.tags.check", method: "GET", path }).catch(() => {
      throw err;
    });
  }
}

/** `DELETE /v3/projects/{id}/tags/{tag}`; a tag already gone counts as removed. */
async function removeTag(ks: KeystoneClient, projectId: string, tag: string): Promise<void> {
  await ignoreNotFound(async () => {
    await ks.request({
      operation: "keystone.projects.tags.remove",
      method: "DELETE",
      path: `/projects/${enc(projectId)}/tags/${enc(tag)}`,
    });
  });
}
