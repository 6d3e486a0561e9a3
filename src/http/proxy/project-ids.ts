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
