/**
 * Projects are named by (domain, name) pairs. No key string joins the two: `a/b` + `c` and `a` + `b/c` are different
 * projects, and Keystone allows `/` in both names. Lookups go through {@link ProjectMap} (by domain, then name).
 */

/** A project by name: its domain's name and its own. */
export interface ProjectRef {
  domain: string;
  name: string;
}

/** `<domain>/<name>`: what a person reads in a plan or an audit line. Display only, never a lookup key. */
export function projectLabel(ref: ProjectRef): string {
  return `${ref.domain}/${ref.name}`;
}

/** A map keyed by (domain, name) without joining them into one string. */
export class ProjectMap<T> {
  readonly #byDomain = new Map<string, Map<string, T>>();
  #size = 0;

  /** The number of projects held. */
  get size(): number {
    return this.#size;
  }

  /** The value of the project `name` in `domain`. */
  get(ref: ProjectRef): T | undefined {
    return this.#byDomain.get(ref.domain)?.get(ref.name);
  }

  /** True when the project is held. */
  has(ref: ProjectRef): boolean {
    return this.#byDomain.get(ref.domain)?.has(ref.name) ?? false;
  }

  /** Sets the value of one project; returns the map. */
  set(ref: ProjectRef, value: T): this {
    let byName = this.#byDomain.get(ref.domain);
    if (!byName) {
      byName = new Map();
      this.#byDomain.set(ref.domain, byName);
    }
    if (!byName.has(ref.name)) this.#size++;
    byName.set(ref.name, value);
    return this;
  }

  /** Every project with its value. */
  *entries(): IterableIterator<[ProjectRef, T]> {
    for (const [domain, byName] of this.#byDomain) for (const [name, v] of byName) yield [{ domain, name }, v];
  }

  /** Every value. */
  *values(): IterableIterator<T> {
    for (const byName of this.#byDomain.values()) yield* byName.values();
  }
}

/**
 * A collision-free key for a tuple of strings (ids and names): each part's length says where it ends, whatever
 * characters the parts hold.
 */
export function tupleKey(...parts: string[]): string {
  return `${parts.map((p) => p.length).join(":")}|${parts.join("")}`;
}
