import { Agent } from "undici";
import type { Cloud } from "../../config/index.js";
import { ArchwayError } from "../../errors.js";
import { ConnectionGate, type Release } from "./gate.js";

/** The error code of a request refused because every connection the proxy allows to its cloud is busy. */
export const CLOUD_SATURATED = "cloud_saturated";

/** Seconds a client should wait after {@link CLOUD_SATURATED}: long enough for a timeout to free some slots. */
const SATURATED_RETRY_AFTER_SECONDS = 2;

/** A request refused because its cloud's connections are all busy (503); `retryAfterSeconds` goes to `Retry-After`. */
export class CloudSaturated extends ArchwayError {
  readonly retryAfterSeconds = SATURATED_RETRY_AFTER_SECONDS;

  constructor(cloudId: string, limit: number) {
    super(
      CLOUD_SATURATED,
      `cloud ${cloudId} is saturated: all ${limit} connections Archway allows to it are busy (it may be slow or hanging); retry shortly`,
      503,
    );
  }
}

/** What the proxy holds for one cloud: its own connection pool, its gate, and how long it waits for it. */
export interface CloudUpstream {
  readonly agent: Agent;
  readonly gate: ConnectionGate;
  /** The cloud's `timeoutMs`: for its answer's headers, and between two chunks of its body. */
  readonly timeoutMs: number;
}

/**
 * One undici pool and one {@link ConnectionGate} per cloud, made on a cloud's first proxied request (1,000 clouds
 * cost nothing until used). Separate pools keep one cloud's stuck sockets out of every other cloud's way.
 */
export class UpstreamPools {
  readonly #byCloud = new Map<string, CloudUpstream>();
  readonly #timeoutOverride: number | undefined;

  /** `timeoutMs`, when given, replaces every cloud's own (tests). */
  constructor(opts: { timeoutMs?: number } = {}) {
    this.#timeoutOverride = opts.timeoutMs;
  }

  /** The upstream of `cloud`, made on first use. */
  of(cloud: Cloud): CloudUpstream {
    let upstream = this.#byCloud.get(cloud.id);
    if (!upstream) {
      const timeoutMs = this.#timeoutOverride ?? cloud.timeoutMs;
      upstream = {
        agent: new Agent({
          keepAliveTimeout: 4_000,
          connections: cloud.proxy.maxConnections,
          connectTimeout: timeoutMs,
        }),
        gate: new ConnectionGate(cloud.proxy.maxConnections, cloud.proxy.queueMs),
        timeoutMs,
      };
      this.#byCloud.set(cloud.id, upstream);
    }
    return upstream;
  }

  /**
   * A slot for one exchange with `cloud`. Throws {@link CLOUD_SATURATED} (503, `Retry-After`) when none came free
   * within the cloud's `proxy.queueMs`, or the signal's reason when the client left while waiting.
   */
  async slot(cloud: Cloud, signal?: AbortSignal): Promise<Release> {
    const { gate } = this.of(cloud);
    const release = await gate.acquire(signal);
    if (release) return release;
    throw new CloudSaturated(cloud.id, gate.limit);
  }

  /** Closes every pool (their sockets with them). */
  async close(): Promise<void> {
    const agents = [...this.#byCloud.values()].map((u) => u.agent);
    this.#byCloud.clear();
    await Promise.allSettled(agents.map((a) => a.destroy()));
  }
}
