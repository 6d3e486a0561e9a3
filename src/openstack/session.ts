import type { z } from "zod";
import type { CloudAdmin } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Transport } from "./http.js";
import { type CatalogEntry, TokenReplySchema } from "./keystone-schemas.js";

/** How to authenticate to Keystone. */
export type KeystoneAuth =
  | {
      method: "password";
      username: string;
      password: string;
      userDomainName: string;
      projectName: string;
      projectDomainName: string;
      /** Scope the token to the whole system instead of the project (unified limits of every project). */
      system?: boolean;
    }
  | { method: "application_credential"; id: string; secret: string }
  /** An application credential by its name and its user's (no id to keep: the name is derived). */
  | { method: "application_credential"; name: string; secret: string; userName: string; userDomainName: string }
  /** An existing token exchanged for a new (optionally project-scoped) one. */
  | { method: "token"; token: string; projectName?: string; projectDomainName?: string };

/**
 * The admin's auth scoped to the system, for what only a system-scoped token sees (every project's unified limits).
 * An application credential keeps the scope it was made with: it is returned unchanged.
 */
export function systemAuth(auth: KeystoneAuth): KeystoneAuth {
  return auth.method === "password" ? { ...auth, system: true } : auth;
}

/** The auth of a cloud's `admin` configuration. */
export function adminAuth(admin: CloudAdmin): KeystoneAuth {
  if ("applicationCredentialId" in admin) {
    return {
      method: "application_credential",
      id: admin.applicationCredentialId,
      secret: admin.applicationCredentialSecret,
    };
  }
  return { method: "password", ...admin };
}

/** A token and what came with it. */
export interface IssuedToken {
  token: string;
  expiresAt: Date;
  userId: string;
  projectId?: string;
  /** The token's role names (implied roles included, as Keystone lists them). */
  roles: string[];
  catalog: CatalogEntry[];
}

/** The `auth` body of `POST /v3/auth/tokens` for one auth method. */
export function authBody(auth: KeystoneAuth): unknown {
  switch (auth.method) {
    case "password":
      return {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: auth.username, domain: { name: auth.userDomainName }, password: auth.password } },
          },
          scope: auth.system
            ? { system: { all: true } }
            : { project: { name: auth.projectName, domain: { name: auth.projectDomainName } } },
        },
      };
    case "application_credential":
      return {
        auth: {
          identity: {
            methods: ["application_credential"],
            application_credential:
              "id" in auth
                ? { id: auth.id, secret: auth.secret }
                : {
                    name: auth.name,
                    secret: auth.secret,
                    user: { name: auth.userName, domain: { name: auth.userDomainName } },
                  },
          },
        },
      };
    case "token":
      return {
        auth: {
          identity: { methods: ["token"], token: { id: auth.token } },
          ...(auth.projectName
            ? { scope: { project: { name: auth.projectName, domain: { name: auth.projectDomainName ?? "Default" } } } }
            : {}),
        },
      };
  }
}

/** Issues one token (no caching). */
export async function issueToken(transport: Transport, authUrl: string, auth: KeystoneAuth): Promise<IssuedToken> {
  const reply = await transport.call({
    operation: "keystone.auth.issue",
    method: "POST",
    url: `${authUrl}/auth/tokens`,
    body: authBody(auth),
    schema: TokenReplySchema,
    // Issuing a token changes nothing Archway cares about: safe to retry on a reset.
    idempotent: true,
  });
  return issuedFrom(transport.cloudId, reply);
}

/**
 * Exchanges an OpenID Connect access token for an unscoped Keystone token at a federated cloud's
 * `OS-FEDERATION/identity_providers/{idp}/protocols/{protocol}/auth` (Apache's mod_auth_openidc checks the Bearer
 * token, Keystone's mapping turns its claims into a user and groups).
 */
export async function federatedToken(
  transport: Transport,
  authUrl: string,
  opts: { identityProvider: string; protocol: string; accessToken: string },
): Promise<IssuedToken> {
  const reply = await transport.call({
    operation: "keystone.federation.auth",
    method: "POST",
    url: `${authUrl}/OS-FEDERATION/identity_providers/${encodeURIComponent(opts.identityProvider)}/protocols/${encodeURIComponent(opts.protocol)}/auth`,
    headers: { authorization: `Bearer ${opts.accessToken}` },
    schema: TokenReplySchema,
    idempotent: true,
  });
  return issuedFrom(transport.cloudId, reply);
}

/** The token of a `POST .../auth/tokens`-like reply: the `X-Subject-Token` header and what the body says of it. */
function issuedFrom(cloudId: string, reply: { headers: Headers; data: z.infer<typeof TokenReplySchema> }): IssuedToken {
  const token = reply.headers.get("x-subject-token");
  if (!token) {
    throw new ArchwayError("keystone_invalid_reply", `cloud ${cloudId}: token reply had no X-Subject-Token`, 502);
  }
  const t = reply.data.token;
  return {
    token,
    expiresAt: new Date(t.expires_at),
    userId: t.user.id,
    projectId: t.project?.id,
    roles: (t.roles ?? []).map((r) => r.name),
    catalog: t.catalog ?? [],
  };
}

/**
 * The admin session of one cloud: one token shared by every call, re-issued shortly before it expires (or after
 * a 401), with one login in flight at a time however many calls wait for it.
 */
export class KeystoneSession {
  private current: IssuedToken | null = null;
  private pending: Promise<IssuedToken> | null = null;

  constructor(
    private readonly transport: Transport,
    private readonly authUrl: string,
    private readonly auth: KeystoneAuth,
    private readonly now: () => number = Date.now,
    /** Re-authenticate this long before expiry. */
    private readonly marginMs = 120_000,
  ) {}

  /** A valid token, logging in when none is cached or it is about to expire. */
  async get(): Promise<IssuedToken> {
    const cur = this.current;
    if (cur && cur.expiresAt.getTime() - this.marginMs > this.now()) return cur;
    this.pending ??= issueToken(this.transport, this.authUrl, this.auth).then(
      (t) => {
        this.current = t;
        this.pending = null;
        return t;
      },
      (err) => {
        this.pending = null;
        throw err;
      },
    );
    return this.pending;
  }

  /** Forgets `token` (after a 401), so the next {@link get} logs in again. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = null;
  }
}
