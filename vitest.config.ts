import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing running; `integration` (and e2e) talk to the real servers that
// test/env brings up once per run (reusing servers already up).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/env/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 300_000,
          // Real servers on a 2-core machine: run files one at a time so they do not starve each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
