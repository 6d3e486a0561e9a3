import type { z } from "zod";
import type { Cloud } from "../../config/index.js";
import type { Problem } from "../clouds.js";
import { compileFlavorSet } from "./flavor-set.js";
import { compileImageSet } from "./image-set.js";
import type { MANIFEST_SCHEMAS } from "./schemas.js";
import { compileSecurityGroupBaseline } from "./security-group-baseline.js";

/**
 * Manifests: documents of the policies folder that say what every targeted cloud holds whoever uses it (flavors,
 * security-group baselines, images), as opposed to policies, which say what people get. Each kind is one file here
 * (schema + compile); the sync resource that realises it reads its compiled form from the cloud's desired state
 * (`manifestsOf`).
 */

/** A manifest document, as parsed. */
export type ManifestDocument = z.infer<(typeof MANIFEST_SCHEMAS)[number]>;
/** The kinds of {@link ManifestDocument}. */
export type ManifestKind = ManifestDocument["kind"];

type Compiler<D> = (doc: D, clouds: readonly Cloud[], problem: Problem, origin: string) => { kind: string };
type Compilers = { [K in ManifestKind]: Compiler<Extract<ManifestDocument, { kind: K }>> };

const COMPILERS = {
  FlavorSet: compileFlavorSet,
  SecurityGroupBaseline: compileSecurityGroupBaseline,
  ImageSet: compileImageSet,
} satisfies Compilers;

/** A compiled manifest of any kind. */
export type CompiledManifest = ReturnType<(typeof COMPILERS)[ManifestKind]>;

/** True for the kinds compiled here (the others are policies). */
export function isManifest(doc: { kind: string }): doc is ManifestDocument {
  return Object.hasOwn(COMPILERS, doc.kind);
}

/** Compiles one manifest document against the cloud inventory, reporting located problems. */
export function compileManifest(
  doc: ManifestDocument,
  clouds: readonly Cloud[],
  problem: Problem,
  origin: string,
): CompiledManifest {
  // One cast: TypeScript cannot correlate `doc.kind` with the table's key.
  const compile = COMPILERS[doc.kind] as Compiler<ManifestDocument>;
  return compile(doc, clouds, problem, origin) as CompiledManifest;
}

/** The compiled manifests of one kind that target a cloud, from its desired state. */
export function manifestsOf<K extends ManifestKind>(
  desired: { manifests?: readonly CompiledManifest[] },
  kind: K,
): Extract<CompiledManifest, { kind: K }>[] {
  return (desired.manifests ?? []).filter((m): m is Extract<CompiledManifest, { kind: K }> => m.kind === kind);
}

export type { CompiledManifestBase } from "./base.js";
export {
  type CompiledFlavorSet,
  type FlavorSetManifest,
  FlavorSetSchema,
  type FlavorSpec,
  FlavorSpecSchema,
} from "./flavor-set.js";
export {
  type CompiledImage,
  type CompiledImageSet,
  type ImageSetManifest,
  ImageSetSchema,
  type ImageSourceSpec,
  type ImageSpec,
  type ImageTransferMode,
} from "./image-set.js";
export {
  baselineProjects,
  type CompiledSecurityGroupBaseline,
  canonicalCidr,
  RULE_PROTOCOLS,
  ruleIdentity,
  type SecurityGroupRule,
  type SecurityGroupSpec,
} from "./security-group-baseline.js";
