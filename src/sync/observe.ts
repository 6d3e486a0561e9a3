import type { CloudClients, RoleAssignment } from "../openstack/index.js";
import type { ObserveContext, ObserveOptions, SharedReads, SliceSource, SyncInput } from "./resource.js";
import type { ImageServices } from "./resources/image/services.js";
import { RESOURCES } from "./resources/index.js";

/** What exists in one cloud, restricted to what Archway owns or needs to reference: one slice per resource. */
export class ObservedCloud {
  constructor(
    readonly cloudId: string,
    private readonly slices: ReadonlyMap<string, unknown>,
  ) {}

  /** What `resource` observed. */
  of<S>(resource: SliceSource<S>): S {
    if (!this.slices.has(resource.name)) throw new Error(`sync: resource ${resource.name} was not observed`);
    return this.slices.get(resource.name) as S;
  }
}

/**
 * Reads one cloud with few list calls, whatever the number of people: every registered resource observes its
 * slice, all at once; a resource that needs another's slice waits for it, and list calls several need (domains,
 * roles, role assignments) are made once. A person-scoped read (`people`) looks users and assignments up per
 * person instead.
 */
export async function observeCloud(
  clients: CloudClients,
  input: SyncInput,
  opts: ObserveOptions = {},
  services: { images?: ImageServices } = {},
): Promise<ObservedCloud> {
  const ks = clients.keystone;
  const once = <T>(read: () => Promise<T>) => {
    let p: Promise<T> | undefined;
    return () => {
      p ??= read();
      return p;
    };
  };
  const reads: SharedReads = {
    domains: once(async () => new Map((await ks.listDomains()).map((d) => [d.name, d.id]))),
    roles: once(async () => new Map((await ks.listRoles()).map((r) => [r.name, r.id]))),
    roleAssignments: once((): Promise<RoleAssignment[]> => ks.listRoleAssignments()),
  };
  const started = new Map<string, Promise<unknown>>();
  const ctx: ObserveContext = {
    clients,
    input,
    opts,
    reads,
    ...(services.images ? { images: services.images } : {}),
    slice<S>(resource: SliceSource<S>): Promise<S> {
      let p = started.get(resource.name);
      if (!p) {
        p = resource.observe(ctx);
        started.set(resource.name, p);
      }
      return p as Promise<S>;
    },
  };
  const slices = await Promise.all(RESOURCES.map((r) => ctx.slice<unknown>(r)));
  return new ObservedCloud(input.cloud.id, new Map(RESOURCES.map((r, i) => [r.name, slices[i]])));
}
