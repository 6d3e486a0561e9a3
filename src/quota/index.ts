/**
 * Quotas of Archway-owned projects: the resource names each backend uses (`names.ts`) and the report of limits and
 * usage per project per cloud with totals across clouds (`report.ts`, behind `archway quota report`). Planning and
 * applying a grant's `quotas:` belongs to sync's resource registry.
 */
export { fromUnifiedNames, SERVICE_TYPES, UNIFIED_LIMIT_NAMES, usesUnifiedLimits } from "./names.js";
export {
  addUsage,
  type CloudReport,
  type ProjectReport,
  type ProjectTotals,
  type QuotaReport,
  type QuotaTotals,
  quotaReport,
  reportCloud,
  type ServiceReport,
  summarize,
} from "./report.js";
