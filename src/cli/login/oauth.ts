import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import { FACADE_AUDIENCE } from "../../tokens/index.js";

/** Archway's OAuth endpoints, from its discovery document. */
const DiscoverySchema = z.object({
  token_endpoint: z.string(),
  device_authorization_endpoint: z.string(),
  revocation_endpoint: z.string(),
});
type Endpoints = z.infer<typeof DiscoverySchema>;

const DeviceStartSchema = z.object({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.string().optional(),
  expires_in: z.number(),
  interval: z.number().default(5),
});
/** What `/oauth2/device_authorization` answers (RFC 8628 section 3.2). */
export type DeviceStart = z.infer<typeof DeviceStartSchema>;

const TokensSchema = z.object({
  access_token: z.string(),
  expires_in: z.number(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
});
/** Tokens from the token endpoint. */
export type Tokens = z.infer<typeof TokensSchema>;

const OAuthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

const TIMEOUT_MS = 15_000;

/**
 * The OAuth client side of `archway login`: Archway's device flow (RFC 8628) for tokens whose audience is the `/v3`
 * facade (`resource=archway:keystone`), with `offline_access` for a refresh token; refresh and revocation (RFC 7009).
 * A public client: it sends its id, never a secret.
 */
export class ArchwayOAuth {
  #endpoints: Endpoints | undefined;

  constructor(
    readonly url: string,
    readonly clientId: string,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Starts a device flow: the code to show and the page to open. */
  async start(): Promise<DeviceStart> {
    const { device_authorization_endpoint } = await this.#discover();
    const body = await this.#post(device_authorization_endpoint, {
      scope: "openid profile offline_access",
      resource: FACADE_AUDIENCE,
    });
    return DeviceStartSchema.parse(body);
  }

  /** Polls until the person approved (the tokens), or throws when they denied it or the code expired. */
  async poll(started: DeviceStart): Promise<Tokens> {
    const { token_endpoint } = await this.#discover();
    let intervalMs = started.interval * 1000;
    const deadline = Date.now() + started.expires_in * 1000;
    while (Date.now() < deadline) {
      await this.sleep(intervalMs);
      try {
        return TokensSchema.parse(
          await this.#post(token_endpoint, {
            grant_type: "urn:ietf:params:oauth:grant-type:device_code",
            device_code: started.device_code,
          }),
        );
      } catch (err) {
        const code = err instanceof OAuthFailure ? err.error : undefined;
        if (code === "authorization_pending") continue;
        // RFC 8628 section 3.5: five seconds more on every slow_down.
        if (code === "slow_down") intervalMs += 5_000;
        else throw err;
      }
    }
    throw new ArchwayError("login_expired", "the code expired before it was approved; run archway login again", 401);
  }

  /** New tokens for a refresh token (which is rotated: keep the new one). */
  async refresh(refreshToken: string): Promise<Tokens> {
    const { token_endpoint } = await this.#discover();
    return TokensSchema.parse(
      await this.#post(token_endpoint, { grant_type: "refresh_token", refresh_token: refreshToken }),
    );
  }

  /** Revokes a token at the revocation endpoint (a refresh token ends its offline session and every token of it). */
  async revoke(token: string, hint: "refresh_token" | "access_token"): Promise<void> {
    const { revocation_endpoint } = await this.#discover();
    await this.#post(revocation_endpoint, { token, token_type_hint: hint }, false);
  }

  /** GET on Archway's API with the access token as bearer. */
  async api(path: string, accessToken: string): Promise<Response> {
    const res = await fetch(new URL(path, this.url), {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new ArchwayError("api_failed", `${path}: HTTP ${res.status} ${await res.text()}`, 502);
    return res;
  }

  async #discover(): Promise<Endpoints> {
    if (this.#endpoints) return this.#endpoints;
    const res = await fetch(new URL("/.well-known/openid-configuration", this.url), {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok)
      throw new ArchwayError("discovery_failed", `${this.url} answered ${res.status} for its discovery`, 502);
    this.#endpoints = DiscoverySchema.parse(await res.json());
    return this.#endpoints;
  }

  async #post(endpoint: string, form: Record<string, string>, json = true): Promise<unknown> {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ ...form, client_id: this.clientId }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) {
      const parsed = OAuthErrorSchema.safeParse(safeJson(text));
      if (parsed.success) throw new OAuthFailure(parsed.data.error, parsed.data.error_description);
      throw new ArchwayError("oauth_failed", `${endpoint}: HTTP ${res.status}`, 502);
    }
    return json ? JSON.parse(text) : undefined;
  }
}

/** An OAuth error answer (`error`, `error_description`). */
export class OAuthFailure extends ArchwayError {
  constructor(
    readonly error: string,
    description?: string,
  ) {
    super("oauth_failed", `${error}${description ? `: ${description}` : ""}`, 401);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
