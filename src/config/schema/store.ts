import { z } from "zod";

const RedisCommon = {
  /** Prefix for every key Archway writes, so one Redis can serve several deployments. */
  keyPrefix: z.string().default("archway:"),
  password: z.string().optional(),
  username: z.string().optional(),
  db: z.number().int().min(0).default(0),
  tls: z.boolean().default(false),
  caFile: z.string().optional(),
  /** Longest wait for one store command; past it the request answers 503 `store_unavailable` (issue 23). */
  commandTimeoutMs: z.number().int().min(50).max(60_000).default(750),
};

export const MemoryStoreSchema = z.object({ type: z.literal("memory") }).strict();

export const RedisStoreSchema = z
  .object({
    type: z.literal("redis"),
    url: z.string().regex(/^rediss?:\/\//, "expected a redis:// or rediss:// URL"),
    ...RedisCommon,
  })
  .strict();

const HostPort = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict();

export const RedisSentinelStoreSchema = z
  .object({
    type: z.literal("redis-sentinel"),
    sentinels: z.array(HostPort).min(1),
    name: z.string().min(1),
    ...RedisCommon,
  })
  .strict();

export const RedisClusterStoreSchema = z
  .object({ type: z.literal("redis-cluster"), nodes: z.array(HostPort).min(1), ...RedisCommon })
  .strict();

/** Where sessions, caches, locks, counters and the audit stream live. Absent means in-memory. */
export const StoreConfigSchema = z.discriminatedUnion("type", [
  MemoryStoreSchema,
  RedisStoreSchema,
  RedisSentinelStoreSchema,
  RedisClusterStoreSchema,
]);
export type StoreConfig = z.infer<typeof StoreConfigSchema>;
