import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { loadConfig } from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// There is no Docker engine on these machines: check the file's shape and what it points at instead.
const Service = z.object({
  image: z.string().optional(),
  build: z.string().optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  deploy: z.object({ replicas: z.string() }).optional(),
});
const Compose = z.object({
  services: z.record(z.string(), Service),
  secrets: z.record(z.string(), z.object({ environment: z.string() }).strict()),
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
    cpSync("config/clouds.d", join(dir, "clouds.d"), { recursive: true });
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
  const compose = Compose.parse(parse(readFileSync("docker-compose.yml", "utf8"), { merge: true }));

  it("runs archway, a worker, redis and openldap", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["archway", "openldap", "redis", "worker"]);
  });

  it("publishes Archway's port and mounts config and policies read-only into serve and the workers", () => {
    const { archway, worker } = compose.services;
    expect(archway!.ports).toContain("8080:8080");
    expect(archway!.build).toBe(".");
    expect(archway!.command).toEqual(["serve", "--host", "0.0.0.0"]);
    expect(worker!.command).toEqual(["worker"]);
    expect(worker!.deploy?.replicas).toBe("${ARCHWAY_WORKERS:-2}");
    // The worker's heap limit, beside (not instead of) the environment every Archway service shares.
    expect(worker!.environment?.NODE_OPTIONS).toBe("--max-old-space-size=1024 --max-semi-space-size=32");
    expect(archway!.environment?.NODE_OPTIONS).toBeUndefined();
    for (const service of [archway!, worker!]) {
      expect(service.image).toBe("archway:latest");
      expect(service.volumes).toEqual([
        "./config:/etc/archway:ro",
        "./deploy/compose/policies:/etc/archway/policies:ro",
      ]);
      expect(service.environment?.ARCHWAY_CONFIG).toBe("/etc/archway/archway.compose.yaml");
    }
  });

  it("builds what it runs: the Dockerfile and the OpenLDAP image it builds exist", () => {
    expect(existsSync("Dockerfile")).toBe(true);
    expect(compose.services.openldap!.build).toBe("deploy/compose/openldap");
    for (const f of ["Dockerfile", "entrypoint.sh", "base.ldif"]) {
      expect(existsSync(join("deploy/compose/openldap", f))).toBe(true);
    }
  });

  it("keeps Redis persistent and private, and one LDAP password for the directory and Archway's bind", () => {
    const { redis, openldap, archway } = compose.services;
    expect(redis!.image).toMatch(/^redis:7\.\d+-alpine$/);
    expect(redis!.command).toEqual(expect.arrayContaining(["--appendonly", "yes"]));
    expect(redis!.ports).toBeUndefined();
    expect(openldap!.ports).toEqual(["127.0.0.1:1389:1389"]);
    expect(openldap!.environment?.LDAP_ADMIN_PASSWORD).toBe("${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD}");
    expect(archway!.environment?.ARCHWAY_LDAP_BIND_PASSWORD).toBe(openldap!.environment?.LDAP_ADMIN_PASSWORD);
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
    expect(compose.secrets).toEqual({
      archway_shadow_password_key: { environment: "ARCHWAY_SHADOW_PASSWORD_KEY" },
      archway_session_key: { environment: "ARCHWAY_SESSION_KEY" },
    });
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
