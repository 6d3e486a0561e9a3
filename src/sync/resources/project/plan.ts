import { projectMarks } from "../../ownership.js";
import { ProjectMap, projectLabel } from "../../project-ref.js";
import type { PlanContext, Planned } from "../../resource.js";
import { domains } from "../domain/index.js";
import { isQuotaTag } from "../quota/mark.js";
import { type ProjectOperation, projects } from "./index.js";

/**
 * Projects: create what policies create, update what Archway owns (description, tags), never touch the rest. A
 * project that exists without Archway's tag is granted on but not changed; one no policy creates is a problem.
 * Owned projects no policy names any more are left in place (they may hold servers).
 */
export function planProjects(ctx: PlanContext): Planned<ProjectOperation> {
  const operations: ProjectOperation[] = [];
  const problems: string[] = [];
  const observed = ctx.observed(projects);
  const domainNames = ctx.observed(domains).byName;
  const archwayDomain = ctx.input.cloud.domain;
  for (const p of ctx.input.desired.projects) {
    const seen = observed.get(p);
    const label = projectLabel(p);
    // The quota resource's marks stay: they say which quotas Archway set (see quota/mark.ts).
    const quotaMarks = seen ? seen.tags.filter(isQuotaTag) : [];
    const tags = [...new Set([...p.tags, ...projectMarks(ctx.input.ownership), ...quotaMarks])].sort();
    const description = p.description ?? "";
    if (!seen) {
      if (!p.create)
        problems.push(`project ${label} does not exist and no policy creates it (${p.policies.join(", ")})`);
      else if (!domainNames.has(p.domain) && p.domain !== archwayDomain)
        problems.push(`project ${label}: domain ${p.domain} does not exist`);
      else
        operations.push({
          kind: "createProject",
          domain: p.domain,
          name: p.name,
          description,
          tags,
          policies: p.policies,
        });
      continue;
    }
    if (!seen.owned) {
      if (p.create)
        problems.push(
          `project ${label} exists ${seen.whose ?? "without Archway's mark"}: granting on it, not changing it`,
        );
      continue;
    }
    const tagsDiffer = [...seen.tags].sort().join(",") !== tags.join(",");
    if (tagsDiffer || seen.description !== description) {
      operations.push({
        kind: "updateProject",
        domain: p.domain,
        name: p.name,
        projectId: seen.id,
        ...(seen.description !== description ? { description } : {}),
        ...(tagsDiffer ? { tags } : {}),
        policies: p.policies,
      });
    }
  }
  // Adopted projects no policy names: this deployment's mark too (desired ones get it through their tags above).
  const desired = new ProjectMap<true>();
  for (const p of ctx.input.desired.projects) desired.set(p, true);
  for (const [ref, seen] of observed.entries()) {
    if (!seen.remark || desired.has(ref)) continue;
    const tags = [...new Set([...seen.tags, ...projectMarks(ctx.input.ownership)])].sort();
    operations.push({ kind: "updateProject", ...ref, projectId: seen.id, tags, policies: [] });
  }
  return { operations, problems };
}

/**
 * This deployment's projects that no desired project names (`<domain>/<name>`, sorted): reported, never deleted (a
 * project may hold servers and volumes; deleting it is a person's decision).
 */
export function orphanProjects(ctx: PlanContext): string[] {
  const wanted = new ProjectMap<true>();
  for (const p of ctx.input.desired.projects) wanted.set(p, true);
  return [...ctx.observed(projects).entries()]
    .filter(([ref, p]) => p.owned && !wanted.has(ref))
    .map(([ref]) => projectLabel(ref))
    .sort();
}

/** Projects this plan creates. */
export function createdProjects(ctx: PlanContext): ProjectMap<true> {
  return ctx.memo(findCreatedProjects);
}

function findCreatedProjects(ctx: PlanContext): ProjectMap<true> {
  const out = new ProjectMap<true>();
  for (const op of ctx.memo(planProjects).operations) if (op.kind === "createProject") out.set(op, true);
  return out;
}

/** Desired projects that exist (owned or not) or that this plan creates: what grants may name. */
export function readyProjects(ctx: PlanContext): ProjectMap<true> {
  return ctx.memo(findReadyProjects);
}

function findReadyProjects(ctx: PlanContext): ProjectMap<true> {
  const observed = ctx.observed(projects);
  const created = createdProjects(ctx);
  const out = new ProjectMap<true>();
  for (const p of ctx.input.desired.projects) if (observed.has(p) || created.has(p)) out.set(p, true);
  return out;
}
