import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";

// No systemd runs the tests: read the units as systemd parses them (sections of key=value, keys may repeat).
function unit(file: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let section = "";
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? "";
      continue;
    }
    const eq = line.indexOf("=");
    expect(eq, `${file}: ${line}`).toBeGreaterThan(0);
    const key = `${section}.${line.slice(0, eq)}`;
    keys.set(key, [...(keys.get(key) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

describe("systemd units (deploy/systemd)", () => {
  const drainSeconds = loadConfig("config/archway.example.yaml").config.shutdown.drainSeconds;

  // The worker runs with a heap limit (BENCHMARKS.md, sync-scale): V8 otherwise grows it to ~4x what sync keeps live.
  for (const [file, command, node] of [
    ["deploy/systemd/archway.service", "serve", "/usr/bin/node"],
    [
      "deploy/systemd/archway-worker@.service",
      "worker",
      "/usr/bin/node --max-old-space-size=1024 --max-semi-space-size=32",
    ],
  ] as const) {
    it(`${file} runs archway ${command} as an unprivileged user, with time to drain and hardening`, () => {
      const u = unit(file);
      expect(u.get("Service.ExecStart")).toEqual([`${node} /opt/archway/dist/main.js ${command}`]);
      expect(u.get("Service.User")).toEqual(["archway"]);
      expect(u.get("Service.Environment")).toContain("ARCHWAY_CONFIG=/etc/archway/archway.yaml");
      expect(u.get("Service.EnvironmentFile")).toEqual(["/etc/archway/archway.env"]);
      expect(Number(u.get("Service.TimeoutStopSec")?.[0])).toBeGreaterThan(drainSeconds);
      for (const hardening of ["NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome"]) {
        expect(u.get(`Service.${hardening}`), hardening).toBeDefined();
      }
      expect(u.get("Service.CapabilityBoundingSet")).toEqual([""]);
      expect(u.get("Install.WantedBy")).toEqual(["multi-user.target"]);
    });
  }
});
