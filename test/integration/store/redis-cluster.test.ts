import { describe, it } from "vitest";
import { RedisStore } from "../../../src/store/index.js";
import { describeStoreConformance } from "../../conformance/store.js";
import { loadEndpoints } from "../../env/endpoints.js";

// The same conformance suite against the test environment's 3-master Redis Cluster (test/env/services/redis-cluster.sh).
const cluster = loadEndpoints().redisCluster;
if (cluster) {
  describeStoreConformance(
    "redis-cluster",
    () =>
      new RedisStore({ type: "redis-cluster", nodes: cluster.nodes, keyPrefix: "archway-test:", db: 0, tls: false }),
  );
} else {
  describe("redis-cluster", () => {
    it.skip("needs redisCluster in .testenv/endpoints.json (testenv.sh start redis-cluster)", () => {});
  });
}
