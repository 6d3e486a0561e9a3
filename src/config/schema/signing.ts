import { z } from "zod";

/** Algorithms Archway signs with: ES256 (its own tokens by default), EdDSA, RS256 (OpenID Connect's mandatory one). */
export const SigningAlgorithmSchema = z.enum(["ES256", "EdDSA", "RS256"]);
export type SigningAlgorithm = z.infer<typeof SigningAlgorithmSchema>;
