import type { ProjectScope } from "../../tokens/index.js";
import type { CloudCatalogs } from "./catalog.js";
import type { CatalogService } from "./shapes.js";

/** A facade catalog and its JSON text. */
export interface BuiltCatalog {
  catalog: CatalogService[];
  json: string;
}

interface Built extends BuiltCatalog {
  /** The service lists it was built from, one per cloud: while each cloud hands out the same one, it holds. */
  from: Promise<Map<string, string>>[];
}

const MAX_CLOUD_SETS = 1_000;

/**
 * The catalog of a project-scoped facade token: one region per cloud where the scoped project exists (the only
 * clouds the token reaches), every endpoint pointing at Archway (the proxy, or the facade itself for identity). Every
 * project-scoped token and many validations carry one, and projects in the same clouds get the same one, so each set
 * of clouds is built and serialized once, and again only when a cloud's service list was read anew (`CloudCatalogs`
 * reads them in the background and hands out the last good copy at once: building a catalog never waits for a cloud).
 */
export class FacadeCatalogs {
  readonly #catalogs: Pick<CloudCatalogs, "services">;
  readonly #publicUrl: string;
  /** By the cloud ids, sorted and joined. */
  readonly #built = new Map<string, Built>();
  /** The cloud-set key of a project (the facade hands out the same object while the person's entitlements are fresh). */
  readonly #keys = new WeakMap<ProjectScope, { key: string; clouds: readonly string[] }>();

  constructor(deps: { catalogs: Pick<CloudCatalogs, "services">; publicUrl: string }) {
    this.#catalogs = deps.catalogs;
    this.#publicUrl = deps.publicUrl;
  }

  /** The catalog for the regions of `project`. */
  async of(project: ProjectScope): Promise<BuiltCatalog> {
    const { key, clouds } = this.#cloudsOf(project);
    const from = clouds.map((cloudId) => this.#catalogs.services(cloudId));
    const hit = this.#built.get(key);
    if (hit?.from.every((source, i) => source === from[i])) return hit;
    const catalog = this.#build(clouds, await Promise.all(from));
    const built = { catalog, json: JSON.stringify(catalog), from };
    if (this.#built.size >= MAX_CLOUD_SETS) this.#built.clear();
    this.#built.set(key, built);
    return built;
  }

  #cloudsOf(project: ProjectScope): { key: string; clouds: readonly string[] } {
    let known = this.#keys.get(project);
    if (!known) {
      // Sorted already; cloud ids never hold a newline.
      known = { key: project.regionIds.join("\n"), clouds: project.regionIds };
      this.#keys.set(project, known);
    }
    return known;
  }

  #build(clouds: readonly string[], services: readonly Map<string, string>[]): CatalogService[] {
    const byType = new Map<string, CatalogService>();
    const add = (type: string, cloudId: string, url: string) => {
      let entry = byType.get(type);
      if (!entry) {
        entry = { id: type, type, name: type, endpoints: [] };
        byType.set(type, entry);
      }
      entry.endpoints.push({ id: `${cloudId}-${type}`, interface: "public", region: cloudId, region_id: cloudId, url });
    };
    clouds.forEach((cloudId, i) => {
      add("identity", cloudId, `${this.#publicUrl}/v3`);
      for (const [type, real] of services[i] ?? []) {
        const path = new URL(real).pathname.replace(/\/+$/, "");
        add(type, cloudId, `${this.#publicUrl}/clouds/${cloudId}/${type}${path}`);
      }
    });
    return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1));
  }
}
