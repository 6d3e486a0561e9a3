// Cinder's block-storage API as far as Archway syncs it: quota sets (`/v3/<admin project>/os-quota-sets/<id>`).
import { type Answer, type Call, dispatch, fail, type Json, ok, type Routes } from "./http.js";
import { type CloudState, limitsOf, resetLimits, setLimits } from "./state.js";

/** Cinder's defaults. */
export const CINDER_QUOTAS: Record<string, number> = {
  volumes: 10,
  gigabytes: 1000,
  snapshots: 10,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
  groups: 10,
};

/** Answers `/<cloud>/volume/v3/<admin project>/...` (the admin project segment already taken off). */
const ROUTES: Routes = [
  [
    "GET os-quota-sets/:id",
    async (c, call, ids) => {
      const limits = limitsOf(c, "volume", ids[0]!, CINDER_QUOTAS);
      if (call.query.get("usage") !== "true") return ok({ quota_set: { id: ids[0], ...limits } });
      const detail = Object.fromEntries(
        Object.entries(limits).map(([k, limit]) => [k, { limit, in_use: 0, reserved: 0, allocated: 0 }]),
      );
      return ok({ quota_set: { id: ids[0], ...detail } });
    },
  ],
  [
    "PUT os-quota-sets/:id",
    async (c, call, ids) => {
      const set = setLimits(c, "volume", ids[0]!, CINDER_QUOTAS, ((await call.body()).quota_set ?? {}) as Json);
      return set ? ok({ quota_set: set }) : fail(400, "bad quota set");
    },
  ],
  [
    "DELETE os-quota-sets/:id",
    async (c, _call, ids) => {
      resetLimits(c, "volume", ids[0]!);
      return ok(undefined, 200);
    },
  ],
];

/** Answers this service's calls; null when the call is not one of them. */
export function cinder(c: CloudState, call: Call): Promise<Answer | null> {
  return dispatch(ROUTES, c, call);
}
