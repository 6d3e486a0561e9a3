import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { runCli } from "../../../src/main.js";
import { renderChart } from "../../helpers/helm-render.js";
import { captureIO } from "../../helpers/io.js";

const CHART = "deploy/helm/archway";
const Manifest = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()) }),
});
type Manifest = z.infer<typeof Manifest> & Record<string, unknown>;

function manifests(overrides: Record<string, unknown> = {}): Manifest[] {
  const out: Manifest[] = [];
  for (const [file, text] of renderChart(CHART, overrides)) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      const value = doc.toJS() as unknown;
      if (value !== null) out.push({ ...(value as Record<string, unknown>), ...Manifest.parse(value) });
    }
  }
  return out;
}

function find(all: Manifest[], kind: string, name: string): Manifest {
  const m = all.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name}`);
  return m;
}

/** The value at a dotted path (`spec.template.spec.containers.0.image`) of a rendered manifest. */
function dig(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

describe("Helm chart deploy/helm/archway (rendered by the test's Go-template subset)", () => {
  it("renders serve and worker Deployments, a Service, a PDB and two ConfigMaps by default", () => {
    const all = manifests();
    expect(all.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      "ConfigMap/archway-config",
      "ConfigMap/archway-policies",
      "Deployment/archway-serve",
      "Deployment/archway-worker",
      "PodDisruptionBudget/archway-serve",
      "Service/archway",
    ]);
    for (const m of all) expect(m.metadata.labels["app.kubernetes.io/instance"]).toBe("archway");
  });

  it("selects the serve pods from the Service and the PDB, probes /healthz and /readyz, runs as non-root", () => {
    const all = manifests();
    const serve = find(all, "Deployment", "archway-serve");
    const podLabels = dig(serve, "spec.template.metadata.labels") as Record<string, string>;
    for (const selector of [
      dig(find(all, "Service", "archway"), "spec.selector"),
      dig(find(all, "PodDisruptionBudget", "archway-serve"), "spec.selector.matchLabels"),
    ]) {
      for (const [k, v] of Object.entries(selector as Record<string, string>)) expect(podLabels[k]).toBe(v);
    }
    expect(dig(serve, "spec.selector.matchLabels")).toEqual({
      "app.kubernetes.io/instance": "archway",
      "app.kubernetes.io/component": "serve",
    });
    const container = dig(serve, "spec.template.spec.containers.0");
    expect(dig(container, "image")).toBe("archway:0.1.0");
    expect(dig(container, "livenessProbe.httpGet.path")).toBe("/healthz");
    expect(dig(container, "readinessProbe.httpGet.path")).toBe("/readyz");
    expect(dig(container, "envFrom")).toEqual([{ secretRef: { name: "archway-secrets" } }]);
    expect(dig(container, "env")).toContainEqual({ name: "ARCHWAY_CONFIG", value: "/etc/archway/config/archway.yaml" });
    expect(dig(serve, "spec.template.spec.securityContext.runAsNonRoot")).toBe(true);
    expect(dig(container, "securityContext.readOnlyRootFilesystem")).toBe(true);
    const worker = find(all, "Deployment", "archway-worker");
    expect(dig(worker, "spec.template.spec.containers.0.args")).toEqual(["worker"]);
    expect(dig(worker, "spec.replicas")).toBe(2);
    // The worker's heap limit (BENCHMARKS.md, sync-scale): without it V8 grows the heap to ~4x what sync keeps live.
    expect(dig(worker, "spec.template.spec.containers.0.env")).toContainEqual({
      name: "NODE_OPTIONS",
      value: "--max-old-space-size=1024 --max-semi-space-size=32",
    });
  });

  it("renders the optional Ingress and ServiceMonitor when enabled", () => {
    const all = manifests({
      ingress: { enabled: true, className: "nginx", tlsSecretName: "tls" },
      serviceMonitor: { enabled: true },
    });
    const ingress = find(all, "Ingress", "archway");
    expect(dig(ingress, "spec.ingressClassName")).toBe("nginx");
    expect(dig(ingress, "spec.rules.0.host")).toBe("archway.example.org");
    expect(dig(ingress, "spec.tls.0.secretName")).toBe("tls");
    expect(dig(find(all, "ServiceMonitor", "archway"), "spec.endpoints.0.path")).toBe("/metrics");
    expect(dig(find(all, "ServiceMonitor", "archway"), "spec.endpoints.0.port")).toBe("http");
  });

  it("scrapes a metrics listener of its own through the Service when metricsPort is set", () => {
    const all = manifests({
      serviceMonitor: { enabled: true },
      metricsPort: 9464,
      config: { metrics: { listen: "0.0.0.0:9464" } },
    });
    expect(dig(find(all, "ServiceMonitor", "archway"), "spec.endpoints.0.port")).toBe("metrics");
    expect(dig(find(all, "Service", "archway"), "spec.ports.1")).toEqual({
      name: "metrics",
      port: 9464,
      targetPort: "metrics",
    });
    const serve = find(all, "Deployment", "archway-serve");
    expect(dig(serve, "spec.template.spec.containers.0.ports.1")).toEqual({ name: "metrics", containerPort: 9464 });
  });

  it("puts a config in the ConfigMap that passes archway config check with the Secret's keys", async () => {
    const all = manifests({ policies: { "admins.yaml": "# none yet\n" } });
    const text =
      (dig(find(all, "ConfigMap", "archway-config"), "data") as Record<string, string>)["archway.yaml"] ?? "";
    expect(text).not.toMatch(/demo/);
    expect(dig(find(all, "ConfigMap", "archway-policies"), "data")).toEqual({ "admins.yaml": "# none yet\n" });
    const dir = mkdtempSync(join(tmpdir(), "archway-helm-"));
    try {
      writeFileSync(join(dir, "archway.yaml"), text.replace("/etc/archway/policies", join(dir, "policies")));
      mkdirSync(join(dir, "policies"));
      const key = () => randomBytes(32).toString("base64");
      const io = captureIO({
        ARCHWAY_SHADOW_PASSWORD_KEY: key(),
        ARCHWAY_SESSION_KEY: key(),
        ARCHWAY_LDAP_BIND_PASSWORD: "x",
      });
      expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(0);
      expect(io.stderr()).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
