import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { loadConfig } from "../../src/config/index.js";

// There is no Docker engine on these machines: check the file's shape and what it points at instead.
const Service = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
});
const Compose = z.object({ services: z.record(z.string(), Service) });

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

  it("points at a config file that passes archway config check", () => {
    const loaded = loadConfig("config/archway.compose.yaml", { env: { ARCHWAY_LDAP_BIND_PASSWORD: "x" } });
    expect(loaded.config.store).toMatchObject({ type: "redis", url: "redis://redis:6379" });
  });
});
