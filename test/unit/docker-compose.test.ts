import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { loadConfig } from "../../src/config/index.js";
import { runCli } from "../../src/main.js";
import { captureIO } from "../helpers/io.js";

// There is no Docker engine on these machines: check the file's shape and what it points at instead.
const Service = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  secrets: z.array(z.string()).optional(),
});
const Compose = z.object({
  services: z.record(z.string(), Service),
  secrets: z.record(z.string(), z.object({ file: z.string() })).optional(),
});

/**
 * The compose config as Archway reads it in the container, its Docker secrets (/run/secrets/...) written to a temp
 * folder with the given values, then `archway config check` on it.
 */
async function checkComposeConfig(keys: { shadow: string; session: string }) {
  const dir = mkdtempSync(join(tmpdir(), "archway-compose-"));
  try {
    writeFileSync(join(dir, "archway_shadow_password_key"), keys.shadow);
    writeFileSync(join(dir, "archway_session_key"), keys.session);
    const text = readFileSync("config/archway.compose.yaml", "utf8").replaceAll("/run/secrets/", `${dir}/`);
    writeFileSync(join(dir, "archway.yaml"), text);
    const io = captureIO({ ARCHWAY_LDAP_BIND_PASSWORD: "x" });
    const code = await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io);
    return {
      code,
      err: io.stderr(),
      loaded: code === 0 ? loadConfig(join(dir, "archway.yaml"), { env: io.env }) : null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("docker-compose.yml", () => {
  const compose = Compose.parse(parse(readFileSync("docker-compose.yml", "utf8")));

  it("runs archway, a worker, redis and openldap", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["archway", "openldap", "redis", "worker"]);
  });

  it("publishes Archway's port and mounts config and policies read-only", () => {
    const archway = compose.services.archway!;
    expect(archway.ports).toContain("8080:8080");
    expect(archway.volumes).toEqual(
      expect.arrayContaining(["./config:/etc/archway:ro", "./policies:/etc/archway/policies:ro"]),
    );
    expect(archway.command).toEqual(["serve", "--config", "/etc/archway/archway.compose.yaml", "--host", "0.0.0.0"]);
    expect(existsSync("Dockerfile")).toBe(true);
  });

  it("uses the images and ports of Redis and OpenLDAP", () => {
    expect(compose.services.redis!.image).toMatch(/^redis:7/);
    expect(compose.services.redis!.ports).toContain("127.0.0.1:6379:6379");
    expect(compose.services.openldap!.image).toMatch(/openldap/);
    expect(compose.services.openldap!.ports).toEqual(
      expect.arrayContaining(["127.0.0.1:1389:1389", "127.0.0.1:1636:1636"]),
    );
  });

  it("points at a config file that passes archway config check with real keys", async () => {
    const strong = () => randomBytes(32).toString("base64");
    const { code, err, loaded } = await checkComposeConfig({ shadow: strong(), session: strong() });
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(loaded?.config.store).toMatchObject({ type: "redis", url: "redis://redis:6379" });
    expect(loaded?.config.demo).toBe(false);
  });

  it("takes its keys from Docker secrets, never from the public demo files, and refuses those if copied in", async () => {
    const config = parse(readFileSync("config/archway.compose.yaml", "utf8")) as Record<string, unknown>;
    expect(JSON.stringify(config)).not.toMatch(/demo-/);
    expect(config.demo).toBeUndefined();
    expect(config.secrets).toEqual({
      shadowPasswordKey: "${file:/run/secrets/archway_shadow_password_key}",
      sessionKey: "${file:/run/secrets/archway_session_key}",
    });
    for (const name of ["archway", "worker"]) {
      expect(compose.services[name]!.secrets).toEqual(["archway_shadow_password_key", "archway_session_key"]);
    }
    for (const secret of Object.values(compose.secrets ?? {})) expect(secret.file).not.toMatch(/config\/secrets/);
    // Someone copies the demo keys into the secret files: it listens on 0.0.0.0, so the check refuses them.
    const demo = (name: string) => readFileSync(join("config/secrets", name), "utf8");
    const { code, err } = await checkComposeConfig({
      shadow: demo("demo-shadow-key"),
      session: demo("demo-session-key"),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/secrets\.shadowPasswordKey: is the public demo secret/);
    expect(err).toMatch(/secrets\.sessionKey: is the public demo secret/);
  });
});
