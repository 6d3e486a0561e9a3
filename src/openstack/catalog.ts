import { ArchwayError } from "../errors.js";
import type { CatalogEntry } from "./keystone-schemas.js";

/**
 * The URL of `serviceType` in a token's catalog for one interface (default `public`) and, when given, one region.
 * Trailing slashes are removed so callers can append paths.
 */
export function endpointFor(
  catalog: readonly CatalogEntry[],
  serviceType: string,
  opts: { interface?: string; region?: string },
  cloudId: string,
): string {
  const iface = opts.interface ?? "public";
  const service = catalog.find((e) => e.type === serviceType);
  const endpoint = service?.endpoints.find(
    (e) => e.interface === iface && (!opts.region || e.region_id === opts.region || e.region === opts.region),
  );
  if (!endpoint) {
    const where = `${iface}${opts.region ? ` in region ${opts.region}` : ""}`;
    throw new ArchwayError(
      "endpoint_not_found",
      `cloud ${cloudId}: the catalog has no ${serviceType} endpoint (${where}); register it in Keystone or fix the cloud's region/interface`,
      502,
    );
  }
  return endpoint.url.replace(/\/+$/, "");
}
