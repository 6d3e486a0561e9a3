import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { type Cloud, didYouMean, formatPath, type LocatedProblem, parseYaml, zodProblems } from "../config/index.js";
import type { Identity } from "../identity/index.js";
import { type Problem, selectClouds } from "./clouds.js";
import { globMatcher } from "./glob.js";
import { type CompiledManifest, compileManifest, isManifest } from "./manifests/index.js";
import { freezeQuotas, type Quotas } from "./quotas.js";
import {
  type AccessPolicyManifest,
  type DenyPolicyManifest,
  type Grant,
  type GroupsFromAttribute,
  PolicyManifestSchema,
} from "./schema.js";
import { compileSearch } from "./search-pattern.js";
import {
  attributeValuesOf,
  compileSubjectMatcher,
  compileSubjects,
  type SubjectCheck,
  type SubjectMatcher,
} from "./subjects.js";
import { parseTemplate, type Template, TemplateError, usesField } from "./template.js";
import { memberOf } from "./value-set.js";

/** What the compiler checks references against. */
export interface PolicyContext {
  clouds: readonly Cloud[];
  /** Ids of the configured identity sources. */
  sources: readonly string[];
  /** Roles any cloud may grant unless it lists its own. */
  roles: readonly string[];
}

/** A grant with its templates parsed. */
export interface CompiledGrant {
  project?: Template;
  domain?: string;
  roles: string[];
  create: boolean;
  description?: Template;
  /** Tags without template fields, sorted; `tagTemplates` holds the others (rendered per person). */
  tags: string[];
  tagTemplates?: Template[];
  /** Keystone groups without template fields, sorted; `groupTemplates` holds the others (rendered per person). */
  groups: string[];
  groupTemplates?: Template[];
  /**
   * `assignTo: group`: the name of the Keystone group (Archway's domain) that holds `roles` on the project, which
   * the person joins; absent when the person's own user holds them.
   */
  keystoneGroup?: Template;
  /** Keystone groups named by an attribute's values (`values` reads them); `keep` is the whitelist/blacklist. */
  groupsFromAttribute?: {
    name: string;
    values: (identity: Identity) => readonly string[];
    keep: (value: string) => boolean;
  };
  /** `quotas:` of the grant, frozen: one object shared by every project the grant gives it to. */
  quotas?: Quotas;
}

/** A policy ready to evaluate: subject check compiled, cloud selector resolved to cloud ids. */
export interface CompiledPolicy {
  name: string;
  /**
   * `[name]`, frozen: the `policies` list of every result entry that this policy alone grants, shared by them all
   * (results are read-only, and an entry a second policy grants gets its own list; see access.ts).
   */
  named: string[];
  effect: "allow" | "deny";
  /** `file:line` where it is defined, for explain and audit. */
  origin: string;
  /** Why the person does not match (explain). */
  subject: SubjectCheck;
  /** Whether the person matches: the same verdict as `subject`, built for evaluation's hot path. */
  matches: SubjectMatcher;
  /** Ids of the clouds it applies to, sorted; policies with the same clouds share one array (see indexPolicies). */
  clouds: string[];
  /** Each cloud's position in {@link CompiledPolicySet.ordered}, ascending (shared like `clouds`). */
  ranks: number[];
  grants: CompiledGrant[];
  keys: boolean;
  /** Deny filters: undefined means everything in those clouds. */
  denyProjects?: (name: string) => boolean;
  denyRoles?: ReadonlySet<string>;
  /** Groups of which at least one is required (anyOf): the index key. */
  requiredAnyGroup?: string[];
  /** True when a template uses `{{ cloud }}`: its grants then differ per cloud. */
  usesCloud: boolean;
  /**
   * `spec.forEach.group`: the grants are given once per directory group of the person whose name this accepts, with
   * `{{ group }}` that name. The result then depends on the person's groups, never on a cached plan (match-plan.ts
   * caches only which policies match).
   */
  forEach?: (group: string) => boolean;
  /** The `spec.forEach.group` glob as written (explain). */
  forEachGlob?: string;
  /** `spec.requires.mfa`: the grants apply only to sessions that passed a second factor (sync provisions them). */
  requiresMfa: boolean;
  /** Position in the name-sorted set, assigned by {@link indexPolicies}. */
  index: number;
}

/**
 * What evaluation derives from one combination of matching policies. People who match the same policies share it,
 * so it is worked out once per combination rather than once per person (see match-plan.ts).
 */
export interface MatchPlan {
  /** The matching policies, in name order. */
  policies: readonly CompiledPolicy[];
  /** Every one covers the same clouds: then no per-cloud grouping is needed. */
  sameClouds: boolean;
  /** At least one allows: a deny alone never creates access. */
  allows: boolean;
  /** A template names the cloud, so the grants differ from cloud to cloud. */
  namesCloud: boolean;
}

/** Every compiled policy, indexed so evaluation visits only candidates. */
export interface CompiledPolicySet {
  policies: CompiledPolicy[];
  /** Policies that need one of these groups, by group. */
  byGroup: Map<string, CompiledPolicy[]>;
  /** Policies without a group requirement: checked for everyone. */
  unindexed: CompiledPolicy[];
  /** Every cloud, in id order: a cloud's rank is its position here, so evaluation looks no id up. */
  ordered: Cloud[];
  /** Plans of the combinations of matching policies seen so far, by bit mask of policy index: a bounded cache. */
  plans: Map<number, MatchPlan>;
  /**
   * Bit mask (by policy index) of the policies that require a second factor; in sets too large for masks, any
   * non-zero value. Zero in the common case, where evaluation ignores the session's strength altogether.
   */
  mfaOnly: number;
  /** Every manifest (flavors, baselines...: see manifests/), in kind then name order. */
  manifests: CompiledManifest[];
}

/** Compiles every `*.yaml` file of a folder. Files are read in name order; the result does not depend on it. */
export function loadPolicies(
  dir: string,
  ctx: PolicyContext,
  cwd = process.cwd(),
): { policies: CompiledPolicySet; problems: LocatedProblem[] } {
  let names: string[] = [];
  const problems: LocatedProblem[] = [];
  try {
    names = readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch {
    problems.push({
      file: relative(cwd, dir) || dir,
      line: 1,
      column: 1,
      path: "",
      message: "policies folder cannot be read",
    });
  }
  const files = names.map((n) => ({
    file: relative(cwd, join(dir, n)) || n,
    text: readFileSync(join(dir, n), "utf8"),
  }));
  const result = compilePolicies(files, ctx);
  return { policies: result.policies, problems: [...problems, ...result.problems] };
}

/** Compiles policy files given as text (what `loadPolicies` and the tests use). */
export function compilePolicies(
  files: readonly { file: string; text: string }[],
  ctx: PolicyContext,
): { policies: CompiledPolicySet; problems: LocatedProblem[] } {
  const problems: LocatedProblem[] = [];
  const compiled: CompiledPolicy[] = [];
  const manifests: CompiledManifest[] = [];
  const seen = new Map<string, string>();
  for (const { file, text } of files) {
    const parsed = parseYaml(text, file);
    problems.push(...parsed.problems);
    for (const doc of parsed.documents) {
      if (doc.value === null || doc.value === undefined) continue;
      const result = PolicyManifestSchema.safeParse(doc.value);
      if (!result.success) {
        problems.push(...zodProblems(result.error, file, doc, [], PolicyManifestSchema));
        continue;
      }
      const local: LocatedProblem[] = [];
      const problem = (path: PropertyKey[], message: string) =>
        local.push({ file, ...doc.locate(path), path: formatPath(path), message });
      const origin = `${file}:${doc.locate([]).line}`;
      const data = result.data;
      // Policies (allow and deny) share one namespace; each manifest kind has its own.
      const what = isManifest(data) ? data.kind : "policy";
      const name = data.metadata.name;
      const key = `${what}\0${name}`;
      if (seen.has(key)) problem(["metadata", "name"], `${what} '${name}' is already defined at ${seen.get(key)}`);
      seen.set(key, `${file}:${doc.locate(["metadata", "name"]).line}`);
      if (isManifest(data)) {
        const manifest = compileManifest(data, ctx.clouds, problem, origin);
        problems.push(...local);
        if (local.length === 0) manifests.push(manifest);
        continue;
      }
      const policy = compileOne(data, ctx, problem, origin);
      problems.push(...local);
      if (local.length === 0 && policy) compiled.push(policy);
    }
  }
  return { policies: indexPolicies(compiled, ctx.clouds, manifests), problems };
}

/** Builds the evaluation index from compiled policies (sorted by name: evaluation never depends on order). */
export function indexPolicies(
  policies: CompiledPolicy[],
  clouds: readonly Cloud[],
  manifests: readonly CompiledManifest[] = [],
): CompiledPolicySet {
  const sorted = [...policies].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const ordered = [...new Map(clouds.map((c) => [c.id, c])).values()].sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const rank = new Map(ordered.map((c, i) => [c.id, i]));
  // Equal cloud lists become one array, so evaluation can tell "these policies cover the same clouds" by reference.
  const cloudLists = new Map<string, { clouds: string[]; ranks: number[] }>();
  sorted.forEach((p, i) => {
    p.index = i;
    const key = p.clouds.join("\0");
    let shared = cloudLists.get(key);
    if (!shared) {
      const known = p.clouds.filter((id) => rank.has(id));
      shared = { clouds: known, ranks: known.map((id) => rank.get(id) ?? -1) };
      cloudLists.set(key, shared);
    }
    p.clouds = shared.clouds;
    p.ranks = shared.ranks;
  });
  const byGroup = new Map<string, CompiledPolicy[]>();
  const unindexed: CompiledPolicy[] = [];
  for (const p of sorted) {
    if (!p.requiredAnyGroup) {
      unindexed.push(p);
      continue;
    }
    for (const g of p.requiredAnyGroup) {
      const list = byGroup.get(g) ?? [];
      list.push(p);
      byGroup.set(g, list);
    }
  }
  let mfaOnly = 0;
  for (const p of sorted) if (p.requiresMfa) mfaOnly |= p.index < 30 ? 1 << p.index : 1;
  const byKindName = (a: CompiledManifest, b: CompiledManifest) =>
    a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  return {
    policies: sorted,
    byGroup,
    unindexed,
    ordered,
    plans: new Map(),
    mfaOnly,
    manifests: [...manifests].sort(byKindName),
  };
}

function compileOne(
  m: AccessPolicyManifest | DenyPolicyManifest,
  ctx: PolicyContext,
  problem: Problem,
  origin: string,
): CompiledPolicy | undefined {
  const spec = m.spec;
  const effect = m.kind === "DenyPolicy" || (m.kind === "AccessPolicy" && m.spec.effect === "deny") ? "deny" : "allow";
  spec.subjects.attributes?.forEach((a, i) => {
    if (a.matches === undefined) return;
    try {
      new RegExp(a.matches, "u");
    } catch (err) {
      problem(
        ["spec", "subjects", "attributes", i, "matches"],
        `invalid regular expression: ${(err as Error).message}`,
      );
    }
  });
  for (const [i, source] of (spec.subjects.sources ?? []).entries()) {
    if (!ctx.sources.includes(source)) {
      problem(
        ["spec", "subjects", "sources", i],
        `unknown identity source '${source}'${didYouMean(source, ctx.sources)} (configured: ${ctx.sources.join(", ") || "none"})`,
      );
    }
  }
  const clouds = selectClouds(spec.clouds, ctx.clouds, problem);
  const grants: CompiledGrant[] = [];
  const requiresMfa = m.kind === "AccessPolicy" && m.spec.requires?.mfa === true;
  const forEach = m.kind === "AccessPolicy" ? m.spec.forEach : undefined;
  if (m.kind === "AccessPolicy") {
    m.spec.grants.forEach((g, i) => {
      const compiled = compileGrant(g, i, forEach !== undefined, problem);
      if (compiled) grants.push(compiled);
      checkRoles(g, i, clouds, ctx, problem);
      if (requiresMfa) checkMfaGrant(g, i, clouds, problem);
    });
  }
  let subject: SubjectCheck;
  let matches: SubjectMatcher;
  try {
    subject = compileSubjects(spec.subjects);
    matches = compileSubjectMatcher(spec.subjects);
  } catch {
    return undefined; // a bad regex, already reported
  }
  const anyOf = spec.subjects.groups?.anyOf;
  return {
    name: m.metadata.name,
    named: Object.freeze([m.metadata.name]) as string[],
    effect,
    origin,
    subject,
    matches,
    clouds: clouds.map((c) => c.id).sort(),
    ranks: [], // filled by indexPolicies
    grants,
    keys: m.kind === "AccessPolicy" ? m.spec.keys : false,
    denyProjects: m.kind === "DenyPolicy" && m.spec.projects ? globMatcher(m.spec.projects) : undefined,
    denyRoles: m.kind === "DenyPolicy" && m.spec.roles ? new Set(m.spec.roles) : undefined,
    // DN-style groups are matched against groupDns, so they cannot key the name index.
    requiredAnyGroup: anyOf?.every((g) => !g.includes("=")) ? anyOf : undefined,
    usesCloud: grants.some((g) => templatesOf(g).some((t) => usesField(t, "cloud"))),
    forEach: forEach && globMatcher([forEach.group]),
    forEachGlob: forEach?.group,
    requiresMfa,
    index: 0,
  };
}

/** Every template of a compiled grant. */
function templatesOf(g: CompiledGrant): (Template | undefined)[] {
  return [g.project, g.description, g.keystoneGroup, ...(g.tagTemplates ?? []), ...(g.groupTemplates ?? [])];
}

const GROUP_WITHOUT_FOR_EACH =
  "'{{ group }}' is the directory group of spec.forEach: add spec.forEach: { group: <glob> } (one grant set per matching group of the person)";

function compileGrant(g: Grant, i: number, forEach: boolean, problem: Problem): CompiledGrant | undefined {
  let bad = false;
  const template = (value: string, path: PropertyKey[]): Template | undefined => {
    try {
      const t = parseTemplate(value);
      if (!forEach && usesField(t, "group")) {
        problem(["spec", "grants", i, ...path], GROUP_WITHOUT_FOR_EACH);
        bad = true;
        return undefined;
      }
      return t;
    } catch (err) {
      if (err instanceof TemplateError) problem(["spec", "grants", i, ...path], err.message);
      else throw err;
      bad = true;
      return undefined;
    }
  };
  const project = g.project === undefined ? undefined : template(g.project, ["project"]);
  const description = g.description === undefined ? undefined : template(g.description, ["description"]);
  const tagTemplates: Template[] = [];
  const tags: string[] = [];
  for (const [t, tag] of g.tags.entries()) {
    const parsed = template(tag, ["tags", t]);
    const literal = parsed?.parts.flatMap((x) => ("literal" in x ? [x.literal] : [])).join("") ?? "";
    if (literal.includes(",") || literal.includes("/") || literal.length > 60) {
      problem(
        ["spec", "grants", i, "tags", t],
        "a Keystone tag may not contain ',' or '/' and has at most 60 characters",
      );
    } else if (parsed?.constant) tags.push(tag);
    else if (parsed) tagTemplates.push(parsed);
  }
  const groupTemplates: Template[] = [];
  const groups: string[] = [];
  for (const [n, name] of g.groups.entries()) {
    const parsed = template(name, ["groups", n]);
    if (parsed?.constant) groups.push(name);
    else if (parsed) groupTemplates.push(parsed);
  }
  let keystoneGroup: Template | undefined;
  if (g.assignTo === "group") {
    if (g.keystoneGroup !== undefined) keystoneGroup = template(g.keystoneGroup, ["keystoneGroup"]);
    else if (forEach) keystoneGroup = parseTemplate("{{ group }}");
    else {
      problem(
        ["spec", "grants", i, "assignTo"],
        "assignTo: group needs keystoneGroup (the Keystone group's name, a template) or spec.forEach (then the directory group's name)",
      );
      bad = true;
    }
  }
  if (bad) return undefined;
  let badPattern = false;
  const gfa = g.groupsFromAttribute;
  for (const pattern of gfa?.regex ? [...(gfa.whitelist ?? []), ...(gfa.blacklist ?? [])] : []) {
    try {
      new RegExp(pattern, "u");
    } catch (err) {
      problem(["spec", "grants", i, "groupsFromAttribute"], `invalid regular expression: ${(err as Error).message}`);
      badPattern = true;
    }
  }
  if (badPattern) return undefined; // reported; compiling the list would throw
  return {
    project,
    domain: g.domain,
    roles: [...new Set(g.roles)].sort(),
    create: g.create,
    description,
    tags: [...new Set(tags)].sort(),
    ...(tagTemplates.length > 0 ? { tagTemplates } : {}),
    groups: [...new Set(groups)].sort(),
    ...(groupTemplates.length > 0 ? { groupTemplates } : {}),
    ...(keystoneGroup ? { keystoneGroup } : {}),
    groupsFromAttribute: g.groupsFromAttribute && {
      name: g.groupsFromAttribute.name,
      values: attributeValuesOf(g.groupsFromAttribute.name),
      keep: valueKeep(g.groupsFromAttribute),
    },
    ...(g.quotas ? { quotas: freezeQuotas(g.quotas) } : {}),
  };
}

/** Compiles a whitelist/blacklist (exact values, or regular expressions searched) into a test per value. */
function valueKeep(spec: GroupsFromAttribute): (value: string) => boolean {
  const patterns = spec.whitelist ?? spec.blacklist;
  if (!patterns) return () => true;
  let test: (v: string) => boolean;
  if (spec.regex) {
    const searches = patterns.map(compileSearch);
    test = (v) => searches.some((search) => search(v));
  } else {
    test = memberOf(patterns);
  }
  return spec.whitelist ? test : (v) => !test(v);
}

function checkRoles(g: Grant, i: number, clouds: readonly Cloud[], ctx: PolicyContext, problem: Problem): void {
  g.roles.forEach((role, r) => {
    const missing = clouds.filter((c) => !(c.roles.length > 0 ? c.roles : ctx.roles).includes(role)).map((c) => c.id);
    if (missing.length > 0) {
      const shown =
        missing.length > 5 ? `${missing.slice(0, 5).join(", ")} and ${missing.length - 5} more` : missing.join(", ");
      const known = new Set(clouds.flatMap((c) => (c.roles.length > 0 ? c.roles : ctx.roles)));
      problem(["spec", "grants", i, "roles", r], `role '${role}' does not exist in ${shown}${didYouMean(role, known)}`);
    }
  });
}

/**
 * A grant that waits on a second factor must be one Archway can withhold per session. In a brokered cloud a
 * Keystone group membership belongs to the shadow user, whatever session asks, and the roles it brings are not
 * Archway's to know: such a grant is refused. (Federated clouds take groups from each token: those work.)
 */
function checkMfaGrant(g: Grant, i: number, clouds: readonly Cloud[], problem: Problem): void {
  if (g.groups.length === 0 && !g.groupsFromAttribute && g.assignTo !== "group") return;
  const brokered = clouds.filter((c) => c.mode === "brokered").map((c) => c.id);
  if (brokered.length === 0) return;
  const shown =
    brokered.length > 5 ? `${brokered.slice(0, 5).join(", ")} and ${brokered.length - 5} more` : brokered.join(", ");
  problem(
    ["spec", "grants", i, g.groups.length > 0 ? "groups" : g.groupsFromAttribute ? "groupsFromAttribute" : "assignTo"],
    `a grant that requires mfa cannot give Keystone groups in brokered clouds (${shown}): a group membership holds for every session of the person; grant roles on projects instead`,
  );
}
