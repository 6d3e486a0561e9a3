import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { registerSyncMetrics, writeStatus } from "../../../src/sync/index.js";

describe("per-cloud sync status on /metrics", () => {
  it("reports degraded, drift and last success per cloud from the store, whichever process wrote them", async () => {
    const store = new MemoryStore();
    const registry = new Registry();
    registerSyncMetrics(registry, { store, cloudIds: () => ["cloud-1", "cloud-2", "cloud-3"] });
    await writeStatus(store, {
      cloudId: "cloud-1",
      lastSuccessAt: "2026-01-01T00:00:00.000Z",
      degraded: false,
      drift: { create: 3, revoke: 1 },
    });
    await writeStatus(store, { cloudId: "cloud-2", lastError: "cannot read the cloud: refused", degraded: true });

    const text = await registry.metrics();
    expect(text).toContain('archway_sync_degraded{cloud="cloud-1"} 0');
    expect(text).toContain('archway_sync_degraded{cloud="cloud-2"} 1');
    expect(text).toContain('archway_sync_drift{cloud="cloud-1",action="create"} 3');
    expect(text).toContain('archway_sync_drift{cloud="cloud-1",action="revoke"} 1');
    expect(text).toContain(`archway_sync_last_success_seconds{cloud="cloud-1"} ${Date.parse("2026-01-01") / 1000}`);
    // A cloud that never ran reports nothing rather than a misleading zero.
    expect(text).not.toContain('cloud="cloud-3"');
  });
});
