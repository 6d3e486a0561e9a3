/**
 * Configuration: the zod schemas of `archway.yaml` (the types are derived from them), the loader that resolves
 * `${env:NAME}` / `${file:PATH}` secrets, and located YAML parsing reused by the policy compiler.
 */
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
