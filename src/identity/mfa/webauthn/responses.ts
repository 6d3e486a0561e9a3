import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { z } from "zod";
import { ArchwayError } from "../../../errors.js";
import { TRANSPORTS } from "./record.js";

const B64 = z.string().regex(/^[A-Za-z0-9_-]*$/, "base64url");

/** What registration and sign-in answers share: the credential's ids and the browser's envelope. */
const CredentialEnvelope = z.object({
  id: B64.min(1).max(1400),
  rawId: B64.min(1).max(1400),
  type: z.literal("public-key"),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

/** A registration answer as the page's script posts it (`PublicKeyCredential` in JSON, base64url fields). */
export const RegistrationResponseSchema = CredentialEnvelope.extend({
  response: z.object({
    clientDataJSON: B64.max(4096),
    attestationObject: B64.max(65536),
    // Unknown transports are dropped rather than refused: browsers add new ones.
    transports: z
      .array(z.string())
      .optional()
      .transform((t) =>
        t?.filter((x): x is (typeof TRANSPORTS)[number] => (TRANSPORTS as readonly string[]).includes(x)),
      ),
  }),
});

/** A sign-in answer as the page's script posts it. */
export const AuthenticationResponseSchema = CredentialEnvelope.extend({
  response: z.object({
    clientDataJSON: B64.max(4096),
    authenticatorData: B64.max(4096),
    signature: B64.max(1024),
    userHandle: B64.max(128).optional(),
  }),
});

/** Parses the JSON a page posted as a registration answer (400 `invalid_form` when it is not one). */
export function parseRegistrationResponse(json: string): RegistrationResponseJSON {
  return parse(json, RegistrationResponseSchema) as RegistrationResponseJSON;
}

/** Parses the JSON a page posted as a sign-in answer (400 `invalid_form` when it is not one). */
export function parseAuthenticationResponse(json: string): AuthenticationResponseJSON {
  return parse(json, AuthenticationResponseSchema) as AuthenticationResponseJSON;
}

function parse<S extends z.ZodType>(json: string, schema: S): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ArchwayError("invalid_form", "credential: not JSON", 400);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ArchwayError("invalid_form", "credential: not a WebAuthn answer", 400);
  return parsed.data;
}
