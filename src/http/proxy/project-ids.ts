/**
 * The facade shows each project under its own id (a hash, the same in every region), while each cloud knows the
 * project by that cloud's Keystone id. Clients put the id they know into URLs (`openstack quota show` asks Nova for
 * `/os-quota-sets/<id>`, Cinder and Neutron alike), so the proxy maps the token's own project, and only it, to its id
 * in the cloud the request goes to: a whole path segment or a whole query value equal to one of the facade's ids of
 * that project. Nothing else changes; the Keystone token is scoped to that very project anyway.
 */

/** Keystone ids are hex or UUIDs; anything else is left alone rather than spliced into a path. */
const CLOUD_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `rest` (a raw path) with every segment equal to one of `facadeIds` replaced by `cloudProjectId`. */
export function withCloudProjectPath(
  rest: string,
  facadeIds: readonly string[],
  cloudProjectId: string | undefined,
): string {
  if (!cloudProjectId || !CLOUD_ID.test(cloudProjectId)) return rest;
  return rest
    .split("/")
    .map((segment) => (facadeIds.includes(segment) ? cloudProjectId : segment))
    .join("/");
}

/**
 * `search` (a raw query string, `?` included or empty) with every value equal to one of `facadeIds` replaced by
 * `cloudProjectId` (`?project_id=<id>`); names and every other byte are kept as sent.
 */
export function withCloudProjectQuery(
  search: string,
  facadeIds: readonly string[],
  cloudProjectId: string | undefined,
): string {
  if (!search || !cloudProjectId || !CLOUD_ID.test(cloudProjectId)) return search;
  const pairs = search.slice(1).split("&");
  const mapped = pairs.map((pair) => {
    const eq = pair.indexOf("=");
    if (eq < 0) return pair;
    return facadeIds.includes(pair.slice(eq + 1)) ? `${pair.slice(0, eq)}=${cloudProjectId}` : pair;
  });
  return `?${mapped.join("&")}`;
}

/**
 * Fields of JSON request bodies that name a project: Neutron's and Cinder's `project_id` and `tenant_id` on any
 * resource (`{"network": {"project_id": …}}`, bulk lists, RBAC's `target_tenant` / `target_project_id`), Nova's
 * flavor access (`{"addTenantAccess": {"tenant": …}}`) and Cinder's volume-type access (`{"addProjectAccess":
 * {"project": …}}`), at any depth.
 */
const PROJECT_FIELDS = new Set(["project_id", "tenant_id", "target_tenant", "target_project_id", "tenant", "project"]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `body` (a JSON request body) with every string value of a {@link PROJECT_FIELDS} member equal to one of
 * `facadeIds` replaced by `cloudProjectId`; every other byte is kept as sent (whitespace, key order, numbers,
 * escapes). The same Buffer when nothing is replaced, or when the body is not valid UTF-8 JSON (the cloud answers
 * that). Only whole values are replaced, only for the token's own project, as in paths.
 */
export function withCloudProjectBody(
  body: Buffer,
  facadeIds: readonly string[],
  cloudProjectId: string | undefined,
): Buffer {
  if (!cloudProjectId || !CLOUD_ID.test(cloudProjectId) || body.length === 0) return body;
  // Ids are matched as spelled (see projectValues): a body that never spells one is not decoded or parsed.
  if (!facadeIds.some((id) => id.length > 0 && body.includes(id))) return body;
  let text: string;
  try {
    text = strictUtf8.decode(body);
    JSON.parse(text);
  } catch {
    return body;
  }
  const found = projectValues(text, facadeIds);
  if (found.length === 0) return body;
  let out = "";
  let at = 0;
  for (const [start, end] of found) {
    out += `${text.slice(at, start)}"${cloudProjectId}"`;
    at = end;
  }
  return Buffer.from(out + text.slice(at), "utf8");
}

/**
 * The [start, end) offsets of the string tokens of valid JSON `text` that are a value (after `:`) of a
 * {@link PROJECT_FIELDS} key and spell one of `ids` exactly. A token scan, not a parse: strings are the only tokens
 * that matter, and one is a key when `:` follows it.
 */
function projectValues(text: string, ids: readonly string[]): [number, number][] {
  const out: [number, number][] = [];
  let key: string | undefined;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    const start = i;
    for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
    const end = i + 1;
    if (text[skipSpace(text, end, 1)] === ":") {
      key = JSON.parse(text.slice(start, end)) as string;
      continue;
    }
    if (
      text[skipSpace(text, start - 1, -1)] === ":" &&
      key !== undefined &&
      PROJECT_FIELDS.has(key) &&
      ids.includes(text.slice(start + 1, end - 1))
    )
      out.push([start, end]);
  }
  return out;
}

/** The index of the first non-whitespace character from `i` on, going in `step`'s direction. */
function skipSpace(text: string, i: number, step: 1 | -1): number {
  while (i >= 0 && i < text.length && /\s/.test(text[i] ?? "")) i += step;
  return i;
}
