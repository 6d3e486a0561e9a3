/**
 * The policy engine: `policies/*.yaml` compiled with located errors and reference checks, evaluated per person
 * (login) or for everyone (sync), explained, and imported from Keystone federation mappings.
 */
export {
  type CompiledPolicy,
  type CompiledPolicySet,
  compilePolicies,
  loadPolicies,
  type PolicyContext,
} from "./compile.js";
export { type DesiredCloudState, type DesiredGroupGrant, type DesiredUser, desiredState } from "./desired.js";
export {
  type CloudAccess,
  type DesiredAccess,
  type DesiredAssignment,
  type DesiredKey,
  type DesiredMembership,
  type DesiredProject,
  evaluate,
  evaluateSession,
  type SessionStrength,
  WITH_MFA,
  WITHOUT_MFA,
} from "./evaluate.js";
export {
  type Explanation,
  explain,
  formatExplanation,
  MFA_ONLY_NOTE,
  type MfaOnlyGrants,
  type PolicyVerdict,
} from "./explain.js";
export { federationGroupName, federationGroups } from "./federation.js";
export {
  baselineProjects,
  type CompiledFlavorSet,
  type CompiledImage,
  type CompiledImageSet,
  type CompiledManifest,
  type CompiledManifestBase,
  type CompiledSecurityGroupBaseline,
  canonicalCidr,
  type FlavorSpec,
  type ImageTransferMode,
  type ManifestKind,
  manifestsOf,
  RULE_PROTOCOLS,
  type SecurityGroupRule,
  type SecurityGroupSpec,
} from "./manifests/index.js";
export { matchingPolicies } from "./match-plan.js";
export {
  formatQuotas,
  largerLimit,
  limitText,
  mergeQuotas,
  QUOTA_RESOURCES,
  QUOTA_SERVICES,
  type QuotaService,
  type Quotas,
  QuotasSchema,
} from "./quotas.js";
export { type PolicyManifest, PolicyManifestSchema, type Requires } from "./schema.js";
export { compileSubjects, type SubjectCheck } from "./subjects.js";
export { keystoneName, parseTemplate, renderTemplate } from "./template.js";
export { sortedUnion } from "./value-set.js";
