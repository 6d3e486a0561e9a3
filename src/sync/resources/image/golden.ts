import { ArchwayError } from "../../../errors.js";
import type { GlanceClient } from "../../../openstack/index.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The golden image of a source `cloud: <id>, image: <name or id>`: exactly one active image of that name (or that
 * id) in the golden cloud, hashed by Glance with sha512 (its `os_hash_value` is the version every copy is checked
 * against).
 */
export async function resolveGolden(
  glance: Pick<GlanceClient, "find" | "list">,
  cloudId: string,
  nameOrId: string,
): Promise<{ id: string; sha512: string; size?: number; md5?: string }> {
  const byId = UUID.test(nameOrId) ? await glance.find(nameOrId) : undefined;
  const found = byId ? [byId] : (await glance.list({ name: nameOrId })).filter((i) => i.status === "active");
  if (found.length === 0)
    throw new ArchwayError("image_source_unavailable", `cloud ${cloudId} has no active image '${nameOrId}'`, 404);
  if (found.length > 1)
    throw new ArchwayError(
      "image_source_ambiguous",
      `cloud ${cloudId} has ${found.length} active images named '${nameOrId}': name it by id`,
      409,
    );
  const image = found[0] as (typeof found)[number];
  if (image.status !== "active" || image.os_hash_algo !== "sha512" || !image.os_hash_value)
    throw new ArchwayError(
      "image_source_unavailable",
      `image ${image.id} of cloud ${cloudId} is ${image.status}, hashed with ${image.os_hash_algo ?? "nothing"}: not a source (active, sha512 wanted)`,
      409,
    );
  return {
    id: image.id,
    sha512: image.os_hash_value.toLowerCase(),
    ...(image.size ? { size: image.size } : {}),
    ...(image.checksum ? { md5: image.checksum.toLowerCase() } : {}),
  };
}
