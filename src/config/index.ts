/**
 * Configuration: the zod schemas of `archway.yaml` (the types are derived from them), the loader that resolves
 * `${env:NAME}` / `${file:PATH}` secrets, the check that refuses public demo secrets and weak keys outside demo
 * mode, and located YAML parsing reused by the policy compiler.
 */
export { checkSecrets, type SecretsVerdict } from "./check-secrets.js";
export { configJsonSchema, inventoryJsonSchema, jsonSchemaOf } from "./json-schema.js";
export { ConfigError, type LoadedConfig, loadConfig } from "./load.js";
export {
  formatPath,
  formatProblem,
  type LocatedDocument,
  type LocatedProblem,
  parseYaml,
  zodProblems,
} from "./located-yaml.js";
export * from "./schema/index.js";
export { SecretValues } from "./secrets.js";
export { readSigningKeyFiles, type SigningKeyFile } from "./signing-keys.js";
export { didYouMean, keysAt } from "./suggest.js";
export {
  DEMO_SECRET_DIGESTS,
  demoSecretOf,
  findWeakSecrets,
  isLoopbackHost,
  MIN_DISTINCT_CHARS,
  MIN_SECRET_BYTES,
  type SecretFinding,
  secretWeakness,
} from "./weak-secrets.js";
