import { describe, expect, it } from "vitest";
import { StoreConfigSchema } from "../../../src/config/index.js";
import { queuePrefix } from "../../../src/sync/index.js";

const store = (s: Record<string, unknown>) => StoreConfigSchema.parse(s);
const nodes = [{ host: "127.0.0.1", port: 7000 }];

describe("BullMQ's key prefix (issue 23 item 8: the queue on Redis Cluster)", () => {
  it("is <keyPrefix>bull on a single Redis and on Sentinel, as before", () => {
    expect(queuePrefix(store({ type: "redis", url: "redis://127.0.0.1:6379" }))).toBe("archway:bull");
    expect(queuePrefix(store({ type: "redis-sentinel", sentinels: nodes, name: "m", keyPrefix: "prod:" }))).toBe(
      "prod:bull",
    );
  });

  it("is wrapped in a hash tag on a Cluster, so every key of the queue hashes to one slot", () => {
    expect(queuePrefix(store({ type: "redis-cluster", nodes }))).toBe("{archway:bull}");
    expect(queuePrefix(store({ type: "redis-cluster", nodes, keyPrefix: "prod:" }))).toBe("{prod:bull}");
  });

  it("keeps a hash tag the key prefix already has", () => {
    expect(queuePrefix(store({ type: "redis-cluster", nodes, keyPrefix: "{archway}:" }))).toBe("{archway}:bull");
    // Redis reads only the first `{...}`: an empty one is no tag (the whole key is hashed), so one is added.
    expect(queuePrefix(store({ type: "redis-cluster", nodes, keyPrefix: "a{}b{c}:" }))).toBe("{a{}b{c}:bull}");
  });
});
