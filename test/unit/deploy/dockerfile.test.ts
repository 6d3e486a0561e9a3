import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// No Docker engine here: read the Dockerfile's instructions and check what they point at.
interface Instruction {
  op: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [op = "", ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** Whether .dockerignore (an ignore-all `*` then `!path` exceptions) lets `path` into the build context. */
function inContext(ignore: string[], path: string): boolean {
  return ignore.some(
    (p) => p.startsWith("!") && (path === p.slice(1).replace(/\/$/, "") || path.startsWith(p.slice(1))),
  );
}

describe("Dockerfile", () => {
  const steps = instructions(readFileSync("Dockerfile", "utf8"));
  const ignore = readFileSync(".dockerignore", "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const runtime = steps.slice(steps.findLastIndex((s) => s.op === "FROM"));

  it("builds in two stages on a maintained Node LTS image and runs as a non-root user", () => {
    const froms = steps.filter((s) => s.op === "FROM").map((s) => s.args);
    expect(froms).toEqual(["node:22-bookworm-slim AS build", "node:22-bookworm-slim"]);
    expect(runtime.filter((s) => s.op === "USER").map((s) => s.args)).toEqual(["node"]);
    expect(runtime.find((s) => s.op === "HEALTHCHECK")?.args).toMatch(/127\.0\.0\.1:8080\/healthz/);
    expect(runtime.find((s) => s.op === "ENTRYPOINT")?.args).toBe('["/usr/local/bin/archway-entrypoint"]');
  });

  it("copies only files that exist and that .dockerignore lets in; no demo secret, test or test state", () => {
    expect(ignore[0]).toBe("*");
    const sources = steps
      .filter((s) => s.op === "COPY" && !s.args.startsWith("--from"))
      .flatMap((s) => s.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const source of sources) {
      expect(existsSync(source), source).toBe(true);
      expect(inContext(ignore, source), source).toBe(true);
    }
    for (const secret of ["config/secrets/demo-session-key", "test/env/testenv.sh", ".testenv/endpoints.json"]) {
      expect(inContext(ignore, secret), secret).toBe(false);
    }
  });

  it("ships a default config that passes archway config check with the keys its entry point makes", async () => {
    const copy = runtime.find((s) => s.op === "COPY" && s.args.endsWith("/etc/archway/archway.yaml"));
    expect(copy?.args).toBe("deploy/container/archway.yaml /etc/archway/archway.yaml");
    const key = () => randomBytes(32).toString("base64");
    const io = captureIO({ ARCHWAY_SHADOW_PASSWORD_KEY: key(), ARCHWAY_SESSION_KEY: key() });
    expect(await runCli(["config", "check", "--config", "deploy/container/archway.yaml"], io)).toBe(0);
    expect(readFileSync("deploy/container/archway.yaml", "utf8")).not.toMatch(/secrets\/demo-/);
  });
});
