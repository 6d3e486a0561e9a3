import { z } from "zod";
import type { Transport } from "./http.js";

const AppCredentialSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  project_id: z.string(),
  secret: z.string().optional(),
  expires_at: z.string().nullish(),
});
/** A Keystone application credential (the secret only in the reply that created it). */
export type AppCredential = z.infer<typeof AppCredentialSchema>;

/**
 * Creates an application credential for `userId` with that user's own project-scoped token: Keystone lets only the
 * user create one, bound to the token's project and roles.
 */
export async function createAppCredential(
  transport: Transport,
  authUrl: string,
  auth: { token: string; userId: string },
  body: {
    name: string;
    description: string;
    expires_at?: string;
    /** A secret of the caller's choosing (Keystone makes one when absent). */
    secret?: string;
    /** A subset of the token's roles (all of them when absent). */
    roles?: { name: string }[];
    /** Whether tokens of it may create application credentials and trusts (Keystone's default: no). */
    unrestricted?: boolean;
  },
): Promise<AppCredential & { secret: string }> {
  const reply = await transport.call({
    operation: "keystone.application_credentials.create",
    method: "POST",
    url: `${authUrl}/users/${encodeURIComponent(auth.userId)}/application_credentials`,
    headers: { "x-auth-token": auth.token },
    body: { application_credential: body },
    schema: z.object({ application_credential: AppCredentialSchema.extend({ secret: z.string() }) }),
  });
  return reply.data.application_credential;
}

/** Deletes one of the user's application credentials (404 counts as done). */
export async function deleteAppCredential(
  transport: Transport,
  authUrl: string,
  auth: { token: string; userId: string },
  id: string,
): Promise<void> {
  await transport.call({
    operation: "keystone.application_credentials.delete",
    method: "DELETE",
    url: `${authUrl}/users/${encodeURIComponent(auth.userId)}/application_credentials/${encodeURIComponent(id)}`,
    headers: { "x-auth-token": auth.token },
  });
}

/** The user's application credentials of this name (Keystone's `?name=` filter): none or one. */
export async function findAppCredentials(
  transport: Transport,
  authUrl: string,
  auth: { token: string; userId: string },
  name: string,
): Promise<AppCredential[]> {
  const reply = await transport.call({
    operation: "keystone.application_credentials.list",
    method: "GET",
    url: `${authUrl}/users/${encodeURIComponent(auth.userId)}/application_credentials?name=${encodeURIComponent(name)}`,
    headers: { "x-auth-token": auth.token },
    schema: z.object({ application_credentials: z.array(AppCredentialSchema) }),
  });
  return reply.data.application_credentials;
}
