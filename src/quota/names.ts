/**
 * The resource names each quota backend uses. They live with sync's quota resource (which writes them); the report
 * reads them from there, so sync never depends on this folder.
 */
export { fromUnifiedNames, SERVICE_TYPES, UNIFIED_LIMIT_NAMES, usesUnifiedLimits } from "../sync/index.js";
