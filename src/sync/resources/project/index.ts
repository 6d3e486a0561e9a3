import { ArchwayError } from "../../../errors.js";
import { mapLimit, type Project } from "../../../openstack/index.js";
import { PROJECT_TAG, projectMark, whose } from "../../ownership.js";
import { ProjectMap, type ProjectRef, projectLabel } from "../../project-ref.js";
import type { ApplyContext, ObserveContext, SyncResource } from "../../resource.js";
import { domainIdOf, domains } from "../domain/index.js";
import { adoptOnConflict } from "../idempotent.js";
import { planProjects } from "./plan.js";

/** Creates a project a policy asks for (tagged {@link PROJECT_TAG}: Archway's from then on). */
export interface CreateProject {
  kind: "createProject";
  domain: string;
  name: string;
  description: string;
  tags: string[];
  policies: string[];
}

/** Updates an owned project's description or tags (a field absent stays as it is). */
export interface UpdateProject {
  kind: "updateProject";
  domain: string;
  name: string;
  projectId: string;
  description?: string;
  tags?: string[];
  policies: string[];
}

/** The operations on projects. */
export type ProjectOperation = CreateProject | UpdateProject;

/** A project as sync sees it; `owned` when it carries this deployment's marks. */
export interface ObservedProject {
  id: string;
  name: string;
  domainId: string;
  description: string;
  tags: string[];
  owned: boolean;
  /** Owned through the old mark (`sync.adoptUnmarked`): this deployment's tag is still to be written. */
  remark?: boolean;
  /** Not owned: whose it is, for plan problems. */
  whose?: string;
}

/** Projects Archway owns (read by tag, filtered server-side), and those the desired state names. */
export const projects: SyncResource<ProjectOperation, ProjectMap<ObservedProject>> = {
  name: "project",
  observe: observeProjects,
  plan: (ctx) => ctx.memo(planProjects),
  steps: {
    createProject: {
      phase: "objects",
      action: () => "create",
      describe: (op) => `create project ${projectLabel(op)}`,
      async apply(ctx, op) {
        const domainId = domainIdOf(ctx, op.domain);
        if (!domainId) throw new ArchwayError("sync_unresolved", `domain ${op.domain} not found`, 409);
        const ks = ctx.clients.keystone;
        const body = { name: op.name, domain_id: domainId, description: op.description, tags: op.tags };
        const project = await adoptOnConflict(
          () => ks.createProject(body),
          async () =>
            (await ks.listProjects({ domainId, name: op.name })).find(
              (p) => projectMark(p, ctx.ownership).owner === "self",
            ),
        );
        projectIds(ctx).set(op, project.id);
      },
    },
    updateProject: {
      phase: "objects",
      action: () => "update",
      describe: (op) =>
        `update project ${projectLabel(op)} (${[op.description !== undefined && "description", op.tags && "tags"].filter(Boolean).join(", ")})`,
      async apply(ctx, op) {
        await ctx.clients.keystone.updateProject(op.projectId, { description: op.description, tags: op.tags });
      },
    },
  },
};

async function observeProjects(ctx: ObserveContext): Promise<ProjectMap<ObservedProject>> {
  const ks = ctx.clients.keystone;
  const [tagged, { byName }] = await Promise.all([ks.listProjects({ tags: [PROJECT_TAG] }), ctx.slice(domains)]);
  const domainNames = new Map([...byName].map(([name, id]) => [id, name]));
  const out = new ProjectMap<ObservedProject>();
  const add = (p: Project) => {
    const domain = domainNames.get(p.domain_id);
    if (!domain) return;
    const mark = projectMark(p, ctx.input.ownership);
    out.set(
      { domain, name: p.name },
      {
        id: p.id,
        name: p.name,
        domainId: p.domain_id,
        description: p.description ?? "",
        tags: p.tags,
        owned: mark.owner === "self",
        ...(mark.owner === "self" ? (mark.remark ? { remark: true } : {}) : { whose: whose(mark) }),
      },
    );
  };
  for (const p of tagged) add(p);
  // Projects policies grant on without creating them (not Archway's, so untagged): looked up by name.
  const missing = ctx.input.desired.projects.filter((p) => !out.has(p) && byName.has(p.domain));
  await mapLimit(missing, ctx.clients.limiter.max, async (p) => {
    for (const found of await ks.listProjects({ domainId: byName.get(p.domain), name: p.name })) add(found);
  });
  return out;
}

/** Project ids during an apply run: observed, plus those created in this run. */
function projectIds(ctx: ApplyContext): ProjectMap<string> {
  return ctx.memo(observedProjectIds);
}

function observedProjectIds(ctx: ApplyContext): ProjectMap<string> {
  const ids = new ProjectMap<string>();
  for (const [ref, p] of ctx.observed(projects).entries()) ids.set(ref, p.id);
  return ids;
}

/** The id of a project during apply; throws `sync_unresolved` when an earlier step did not make it. */
export function projectIdOf(ctx: ApplyContext, ref: ProjectRef): string {
  const id = projectIds(ctx).get(ref);
  if (!id)
    throw new ArchwayError(
      "sync_unresolved",
      `project ${projectLabel(ref)} does not exist (an earlier step failed)`,
      409,
    );
  return id;
}

export { createdProjects, orphanProjects, readyProjects } from "./plan.js";
