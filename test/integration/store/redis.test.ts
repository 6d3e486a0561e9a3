import { RedisStore } from "../../../src/store/index.js";
import { describeStoreConformance } from "../../conformance/store.js";
import { loadEndpoints } from "../../env/endpoints.js";

// Against the real redis-server started by the test environment.
describeStoreConformance(
  "redis",
  () =>
    new RedisStore({ type: "redis", url: loadEndpoints().redis.url, keyPrefix: "archway-test:", db: 0, tls: false }),
);
