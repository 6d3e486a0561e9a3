import { z } from "zod";
import type { Cloud } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Identity } from "../identity/index.js";
import type { ArchwayMetrics } from "../metrics/index.js";
import {
  type CloudBreakers,
  createAgent,
  federatedToken,
  type IssuedToken,
  issueToken,
  Limiter,
  OpenStackError,
  type RequestEvent,
  Transport,
} from "../openstack/index.js";
import type { Store } from "../store/index.js";
import { inSpan } from "../telemetry/index.js";
import type { FacadeProject } from "./entitlements.js";
import { JustInTime } from "./just-in-time.js";
import { restrictedToken } from "./restricted.js";
import { Sealer } from "./sealed.js";

const CachedSchema = z.object({
  token: z.string(),
  expiresAt: z.number(),
  userId: z.string(),
  projectId: z.string().optional(),
});
/** A project-scoped Keystone token of one cloud. */
export type BrokeredToken = z.infer<typeof CachedSchema>;

interface BrokerOptions {
  store: Store;
  clouds: readonly Cloud[];
  /** The shadow user's password in a cloud (HMAC of the cloud, the identity and the key version). */
  shadowPassword: (cloudId: string, identityId: string) => string;
  /**
   * An Archway access token for a person and a federated cloud (its audience and groups); `mfa`: whether the
   * session asking passed a second factor (groups of grants that wait on one only then).
   */
  federatedAccessToken?: (identity: Identity, cloudId: string, mfa: boolean) => Promise<string>;
  /**
   * Just-in-time sync of one person into one cloud, when their shadow user is missing. A request waits for it at
   * most the cloud's `provisionWaitMs` (then 503 {@link ProvisioningPending}, the run going on); one run per
   * (person, cloud) at a time in this process.
   */
  ensureUser?: (identity: Identity, cloudId: string) => Promise<void>;
  /** Hears of a just-in-time run that failed after every request had stopped waiting for it. */
  onLateProvisioningFailure?: (err: unknown, cloudId: string) => void;
  /** Seals cached tokens in the store (`secrets.storeKey`); without one they are stored as JSON. */
  sealer?: Sealer;
  /** Tokens are dropped from the cache this long before Keystone would expire them. */
  marginMs?: number;
  now?: () => number;
  /** The process's per-cloud breakers (shared with catalogs, proxy, sync): a cloud known down is refused at once. */
  breakers?: CloudBreakers;
  /** Counts cache hits and misses and Keystone logins by cloud. */
  metrics?: Pick<ArchwayMetrics, "brokerCache" | "brokerLogin">;
  /** Hears of every HTTP attempt to a Keystone (the upstream duration histogram). */
  onRequest?: (event: RequestEvent) => void;
}

/**
 * Per-cloud Keystone tokens for (person, cloud, project): brokered clouds by logging in as the person's shadow
 * user with the derived password; federated clouds by exchanging an Archway access token for that cloud at its
 * OS-FEDERATION endpoint, then scoping the result with the token method. Tokens are cached in the store until shortly before they expire, with one
 * fetch in flight per key across every Archway process (a store lock), and dropped when the person is
 * deprovisioned or signs out (a per-person generation number).
 */
export class TokenBroker {
  readonly #o: Required<
    Omit<
      BrokerOptions,
      "ensureUser" | "federatedAccessToken" | "breakers" | "onLateProvisioningFailure" | "metrics" | "onRequest"
    >
  > &
    Pick<BrokerOptions, "ensureUser" | "federatedAccessToken" | "breakers" | "metrics">;
  readonly #clouds: Map<string, { cloud: Cloud; transport: Transport }>;
  readonly #justInTime: JustInTime | undefined;

  constructor(opts: BrokerOptions) {
    this.#o = { marginMs: 120_000, now: Date.now, sealer: new Sealer(), ...opts };
    this.#justInTime = opts.ensureUser
      ? new JustInTime(opts.ensureUser, { onLateFailure: opts.onLateProvisioningFailure })
      : undefined;
    const agent = createAgent();
    this.#clouds = new Map(
      opts.clouds.map((cloud) => [
        cloud.id,
        {
          cloud,
          transport: new Transport({
            cloudId: cloud.id,
            service: "keystone",
            limiter: new Limiter(cloud.maxConcurrency),
            timeoutMs: cloud.timeoutMs,
            dispatcher: agent,
            breaker: opts.breakers?.get(cloud.id),
            onRequest: opts.onRequest,
          }),
        },
      ]),
    );
  }

  /**
   * A Keystone token scoped to `project` in its cloud for `identity`, carrying only the roles the session behind
   * `project` may use: where it may not use all the shadow user holds (`withheldRoles`), a token of a restricted
   * application credential with the session's roles; in a federated cloud, groups for the session's strength.
   */
  projectToken(identity: Identity, project: FacadeProject): Promise<BrokeredToken> {
    return inSpan("broker.project_token", { "archway.cloud": project.cloudId }, (span) =>
      this.#projectToken(identity, project, (hit) => span.setAttribute("archway.broker.cache_hit", hit)),
    );
  }

  async #projectToken(
    identity: Identity,
    project: FacadeProject,
    noteHit: (hit: boolean) => void,
  ): Promise<BrokeredToken> {
    const metrics = this.#o.metrics;
    const key = `broker:${await this.#generation(identity.id)}:${identity.id}:${project.cloudId}:${project.keystoneDomain}/${project.keystoneName}${strengthKey(project, this.#clouds.get(project.cloudId)?.cloud.mode)}`;
    const cached = await this.#readCached(key);
    if (cached && cached.expiresAt - this.#o.marginMs > this.#o.now()) {
      metrics?.brokerCache(project.cloudId, true);
      noteHit(true);
      return cached;
    }
    metrics?.brokerCache(project.cloudId, false);
    noteHit(false);
    const lock = await this.#o.store.acquireLock(`${key}:lock`, 15_000);
    if (!lock) {
      // Another process is fetching this very token: wait for it rather than logging in twice.
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const fresh = await this.#readCached(key);
        if (fresh) return fresh;
      }
    }
    try {
      const issued = await this.#login(identity, project, true).then(
        (t) => {
          metrics?.brokerLogin(project.cloudId, true);
          return t;
        },
        (err: unknown) => {
          metrics?.brokerLogin(project.cloudId, false);
          throw err;
        },
      );
      const ttlMs = issued.expiresAt - this.#o.marginMs - this.#o.now();
      if (ttlMs > 0) await this.#writeCached(key, issued, ttlMs);
      return issued;
    } finally {
      await lock?.release();
    }
  }

  /**
   * A cached token, opened: the store keeps it sealed (bound to its cache key), so a dump of the store holds no
   * usable Keystone token. A value that does not open (tampered, written unsealed before sealing was configured,
   * sealed with a key since dropped) is a miss: the broker logs in again.
   */
  async #readCached(key: string): Promise<BrokeredToken | null> {
    const raw = await this.#o.store.get(key);
    if (raw === null) return null;
    try {
      const parsed = CachedSchema.safeParse(JSON.parse(this.#o.sealer.open(raw, key).plaintext));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  async #writeCached(key: string, token: BrokeredToken, ttlMs: number): Promise<void> {
    await this.#o.store.set(key, this.#o.sealer.seal(JSON.stringify(token), key), { ttlMs });
  }

  /** The Keystone of a cloud, for calls made with a brokered token (application credentials). */
  keystone(cloudId: string): { cloud: Cloud; transport: Transport; authUrl: string } {
    const entry = this.#clouds.get(cloudId);
    if (!entry) throw new ArchwayError("cloud_unknown", `cloud ${cloudId} is not configured`, 404);
    return { ...entry, authUrl: entry.cloud.authUrl.replace(/\/+$/, "") };
  }

  /** Forgets every cached token of a person (deprovisioned, signed out, revoked). */
  /**
   * Follows a reloaded inventory (`clouds.d`): added clouds get their Keystone transport, removed ones are
   * forgotten (their cached tokens expire unused). A changed cloud keeps its transport (timeouts, limits) until a
   * restart.
   */
  setClouds(clouds: readonly Cloud[]): void {
    const ids = new Set(clouds.map((c) => c.id));
    for (const id of [...this.#clouds.keys()]) if (!ids.has(id)) this.#clouds.delete(id);
    for (const cloud of clouds) {
      const known = this.#clouds.get(cloud.id);
      if (known) {
        known.cloud = cloud;
        continue;
      }
      const transport = new Transport({
        cloudId: cloud.id,
        service: "keystone",
        limiter: new Limiter(cloud.maxConcurrency),
        timeoutMs: cloud.timeoutMs,
        dispatcher: createAgent(),
        breaker: this.#o.breakers?.get(cloud.id),
      });
      this.#clouds.set(cloud.id, { cloud, transport });
    }
  }

  async drop(identityId: string): Promise<void> {
    await dropBrokeredTokens(this.#o.store, identityId);
  }

  async #generation(identityId: string): Promise<string> {
    return (await this.#o.store.get(`broker:gen:${identityId}`)) ?? "0";
  }

  async #federatedLogin(
    identity: Identity,
    project: FacadeProject,
    cloud: Cloud,
    transport: Transport,
  ): Promise<BrokeredToken> {
    if (!this.#o.federatedAccessToken)
      throw new ArchwayError("config_invalid", `cloud ${cloud.id} is federated but Archway's IdP is not wired`, 500);
    const authUrl = cloud.authUrl.replace(/\/+$/, "");
    try {
      const unscoped = await federatedToken(transport, authUrl, {
        identityProvider: cloud.federation?.identityProviderId ?? "archway",
        protocol: cloud.federation?.protocol ?? "openid",
        accessToken: await this.#o.federatedAccessToken(identity, cloud.id, project.sessionMfa),
      });
      const scoped = await issueToken(transport, authUrl, {
        method: "token",
        token: unscoped.token,
        projectName: project.keystoneName,
        projectDomainName: project.keystoneDomain,
      });
      return brokered(scoped);
    } catch (err) {
      // The cloud has not got this person's groups or the project yet: the next full sync makes them.
      if (err instanceof OpenStackError && (err.upstreamStatus === 401 || err.upstreamStatus === 403)) {
        throw new ArchwayError(
          "cloud_access_pending",
          `cloud ${cloud.id}: your access there is not ready yet; try again after the next sync`,
          403,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async #login(identity: Identity, project: FacadeProject, mayProvision: boolean): Promise<BrokeredToken> {
    const entry = this.#clouds.get(project.cloudId);
    if (!entry) throw new ArchwayError("cloud_unknown", `cloud ${project.cloudId} is not configured`, 404);
    const { cloud, transport } = entry;
    if (cloud.mode === "federated") return this.#federatedLogin(identity, project, cloud, transport);
    try {
      const password = this.#o.shadowPassword(cloud.id, identity.id);
      const full = () =>
        issueToken(transport, cloud.authUrl.replace(/\/+$/, ""), {
          method: "password",
          username: identity.username,
          password,
          userDomainName: cloud.domain,
          projectName: project.keystoneName,
          projectDomainName: project.keystoneDomain,
        });
      if (project.withheldRoles.length > 0)
        return brokered(
          await restrictedToken({ cloud, transport, identity, project, shadowPassword: password, fullToken: full }),
        );
      return brokered(await full());
    } catch (err) {
      // 401: no shadow user yet (or not yet in the project): provision this person now, then try once more.
      if (mayProvision && this.#justInTime && err instanceof OpenStackError && err.upstreamStatus === 401) {
        await this.#justInTime.provision(identity, cloud.id, cloud.provisionWaitMs);
        return this.#login(identity, project, false);
      }
      if (err instanceof OpenStackError && err.upstreamStatus === 401) {
        throw new ArchwayError(
          "cloud_access_pending",
          `cloud ${cloud.id}: your account there is not ready yet; try again after the next sync`,
          403,
          { cause: err },
        );
      }
      throw err;
    }
  }
}

/**
 * Forgets every cached Keystone token of a person, for any broker sharing `store` (offboarding from a worker or
 * the command line, where no broker runs): their generation number moves on, so no cache key matches any more.
 */
export async function dropBrokeredTokens(store: Store, identityId: string): Promise<void> {
  await store.increment(`broker:gen:${identityId}`, { ttlMs: 30 * 24 * 3600_000 });
}

/**
 * The cache key's suffix for the session's strength: tokens that carry fewer roles (or, federated, fewer groups)
 * than the person's full set are cached apart from the full ones.
 */
function strengthKey(project: FacadeProject, mode: Cloud["mode"] | undefined): string {
  if (project.withheldRoles.length > 0) return `:roles=${JSON.stringify(project.roles)}`;
  return mode === "federated" && !project.sessionMfa ? ":1f" : "";
}

/** What the broker caches of a Keystone token. */
function brokered(issued: IssuedToken): BrokeredToken {
  return {
    token: issued.token,
    expiresAt: issued.expiresAt.getTime(),
    userId: issued.userId,
    projectId: issued.projectId,
  };
}
