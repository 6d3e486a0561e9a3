import { isIP } from "node:net";
import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import { type Problem, selectClouds } from "../clouds.js";
import { CloudSelectorSchema, MetadataSchema } from "../common-schema.js";
import { globMatcher } from "../glob.js";
import type { CompiledManifestBase } from "./base.js";

/** IP protocol names a rule may use, with their numbers (how rules are compared: Neutron may store either). */
export const RULE_PROTOCOLS = { tcp: 6, udp: 17, icmp: 1 } as const;

/**
 * A CIDR in its canonical text (IPv6 lower-case and compressed), or null when it is not one or has host bits set
 * (Neutron would keep the host bits as written, so the same range could be spelled two ways).
 */
export function canonicalCidr(cidr: string): { cidr: string; family: 4 | 6 } | null {
  const [addr, bits, extra] = cidr.split("/");
  if (!addr || bits === undefined || extra !== undefined || !/^\d{1,3}$/.test(bits)) return null;
  const family = isIP(addr);
  const prefix = Number(bits);
  if (family === 4) {
    if (prefix > 32) return null;
    const value = addr.split(".").reduce((n, part) => n * 256 + Number(part), 0);
    const hostBits = prefix === 0 ? value : value % 2 ** (32 - prefix);
    return hostBits === 0 ? { cidr: `${addr.split(".").map(Number).join(".")}/${prefix}`, family: 4 } : null;
  }
  if (family === 6) {
    if (prefix > 128) return null;
    // The URL parser writes IPv6 hosts in RFC 5952 form (lower-case, longest zero run compressed).
    const canonical = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
    const bitsOf = expand6(canonical);
    if (bitsOf.slice(prefix).includes("1")) return null;
    return { cidr: `${canonical}/${prefix}`, family: 6 };
  }
  return null;
}

/** The 128 bits of an IPv6 address in URL-serialized form (hex groups only, at most one `::`), as 0s and 1s. */
function expand6(addr: string): string {
  const [head = "", tail] = addr.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const fill: string[] = Array(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g, 16).toString(2).padStart(16, "0")).join("");
}

const Port = z.number().int().min(1, "ports are 1-65535").max(65535, "ports are 1-65535");

/** One rule of a group: Neutron's fields, camel-cased; `protocol: any` (the default) means every protocol. */
export const SecurityGroupRuleSchema = z
  .object({
    direction: z.enum(["ingress", "egress"]),
    ethertype: z.enum(["IPv4", "IPv6"]).default("IPv4"),
    /** `tcp`, `udp`, `icmp`, an IP protocol number (0-255), or `any`. */
    protocol: z.union([z.enum(["tcp", "udp", "icmp", "any"]), z.number().int().min(0).max(255)]).default("any"),
    /** tcp/udp: the first port; icmp: the ICMP type (0-255). */
    portRangeMin: z.number().int().optional(),
    /** tcp/udp: the last port (default `portRangeMin`); icmp: the ICMP code (0-255; needs a type). */
    portRangeMax: z.number().int().optional(),
    /** Where traffic may come from (ingress) or go to (egress); absent with no `remoteGroup`: anywhere. */
    remoteIpPrefix: z.string().optional(),
    /** Members of another group of the same baseline (or of this one), by name. */
    remoteGroup: z.string().min(1).optional(),
    description: z.string().max(255).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (r.remoteIpPrefix !== undefined && r.remoteGroup !== undefined)
      issue("remoteGroup", "give remoteIpPrefix or remoteGroup, not both");
    if (r.remoteIpPrefix !== undefined) {
      const parsed = canonicalCidr(r.remoteIpPrefix);
      if (!parsed) issue("remoteIpPrefix", `'${r.remoteIpPrefix}' is not a CIDR without host bits (e.g. 192.0.2.0/24)`);
      else if (`IPv${parsed.family}` !== r.ethertype)
        issue(
          "remoteIpPrefix",
          `'${r.remoteIpPrefix}' is an IPv${parsed.family} range; the rule's ethertype is ${r.ethertype}`,
        );
    }
    const { portRangeMin: min, portRangeMax: max } = r;
    if (r.protocol === "tcp" || r.protocol === "udp") {
      if (min === undefined && max !== undefined) issue("portRangeMin", "portRangeMax needs portRangeMin");
      for (const [key, port] of [
        ["portRangeMin", min],
        ["portRangeMax", max],
      ] as const) {
        const result = port === undefined ? null : Port.safeParse(port);
        if (result && !result.success) issue(key, result.error.issues[0]?.message ?? "ports are 1-65535");
      }
      if (min !== undefined && max !== undefined && min > max)
        issue("portRangeMax", `portRangeMin (${min}) is greater than portRangeMax (${max})`);
    } else if (r.protocol === "icmp") {
      if (min === undefined && max !== undefined)
        issue("portRangeMax", "an ICMP code (portRangeMax) needs a type (portRangeMin)");
      if (min !== undefined && (min < 0 || min > 255)) issue("portRangeMin", "an ICMP type (portRangeMin) is 0-255");
      if (max !== undefined && (max < 0 || max > 255)) issue("portRangeMax", "an ICMP code (portRangeMax) is 0-255");
    } else if (min !== undefined || max !== undefined) {
      issue("portRangeMin", "ports apply to tcp and udp (and ICMP type/code to icmp) only");
    }
  })
  .transform((r) => ({
    ...r,
    // tcp/udp with one port: min = max, as Neutron wants both.
    ...((r.protocol === "tcp" || r.protocol === "udp") && r.portRangeMin !== undefined && r.portRangeMax === undefined
      ? { portRangeMax: r.portRangeMin }
      : {}),
    ...(r.remoteIpPrefix !== undefined
      ? { remoteIpPrefix: canonicalCidr(r.remoteIpPrefix)?.cidr ?? r.remoteIpPrefix }
      : {}),
  }));
export type SecurityGroupRule = z.infer<typeof SecurityGroupRuleSchema>;

/** One group every targeted project gets, with exactly these rules. */
export const SecurityGroupSpecSchema = z
  .object({
    /** Neutron's group name; `default` is Neutron's own group and never Archway's. */
    name: z
      .string()
      .min(1)
      .max(100)
      .refine((n) => n !== "default", "'default' is Neutron's own group of every project; choose another name"),
    /** Shown in Neutron before Archway's mark (the description holds both; at most 180 characters here). */
    description: z.string().max(180).optional(),
    rules: z.array(SecurityGroupRuleSchema).default([]),
  })
  .strict();
export type SecurityGroupSpec = z.infer<typeof SecurityGroupSpecSchema>;

/**
 * `kind: SecurityGroupBaseline`: security groups every project Archway owns in the targeted clouds holds (or only
 * those whose names match `projects`), each with exactly its rules. Archway creates, fixes and removes only the
 * groups it marked; Neutron's `default` group and groups made by hand are never touched.
 */
export const SecurityGroupBaselineSchema = z
  .object({
    apiVersion: z.literal("archway.dev/v1"),
    kind: z.literal("SecurityGroupBaseline"),
    metadata: MetadataSchema,
    spec: z
      .object({
        clouds: CloudSelectorSchema.default({}),
        /** Project name globs (`*`, `?`); default every project Archway owns in the cloud. */
        projects: z.array(z.string().min(1)).min(1).optional(),
        securityGroups: z.array(SecurityGroupSpecSchema).min(1),
      })
      .strict(),
  })
  .strict();
export type SecurityGroupBaselineManifest = z.infer<typeof SecurityGroupBaselineSchema>;

/** A SecurityGroupBaseline with its clouds resolved. */
export interface CompiledSecurityGroupBaseline extends CompiledManifestBase {
  kind: "SecurityGroupBaseline";
  /** Project name globs; absent: every owned project. */
  projects?: string[];
  securityGroups: SecurityGroupSpec[];
}

/** Which project names a baseline applies to (its `projects` globs; without them every name). */
export function baselineProjects(baseline: Pick<CompiledSecurityGroupBaseline, "projects">): (name: string) => boolean {
  return baseline.projects ? globMatcher(baseline.projects) : () => true;
}

/** The fields two rules Neutron calls duplicates share (it ignores the description). */
export function ruleIdentity(r: SecurityGroupRule): string {
  const protocol =
    typeof r.protocol === "number" ? r.protocol : r.protocol === "any" ? "any" : RULE_PROTOCOLS[r.protocol];
  return JSON.stringify([
    r.direction,
    r.ethertype,
    protocol,
    r.portRangeMin ?? null,
    r.portRangeMax ?? null,
    r.remoteIpPrefix ?? null,
    r.remoteGroup ?? null,
  ]);
}

/** Resolves the baseline's clouds; checks group names are unique and every `remoteGroup` names one of its groups. */
export function compileSecurityGroupBaseline(
  m: SecurityGroupBaselineManifest,
  clouds: readonly Cloud[],
  problem: Problem,
  origin: string,
): CompiledSecurityGroupBaseline {
  const names = new Set(m.spec.securityGroups.map((g) => g.name));
  const seen = new Set<string>();
  m.spec.securityGroups.forEach((g, i) => {
    const at = ["spec", "securityGroups", i];
    if (seen.has(g.name)) problem([...at, "name"], `security group '${g.name}' is listed twice in this baseline`);
    seen.add(g.name);
    const rules = new Set<string>();
    g.rules.forEach((r, j) => {
      if (r.remoteGroup !== undefined && !names.has(r.remoteGroup))
        problem(
          [...at, "rules", j, "remoteGroup"],
          `'${r.remoteGroup}' is not a group of this baseline (${[...names].join(", ")})`,
        );
      const id = ruleIdentity(r);
      // Neutron refuses a second rule that differs only in its description (409).
      if (rules.has(id)) problem([...at, "rules", j], "the same rule is listed twice in this group");
      rules.add(id);
    });
  });
  return {
    kind: "SecurityGroupBaseline",
    name: m.metadata.name,
    origin,
    clouds: selectClouds(m.spec.clouds, clouds, problem)
      .map((c) => c.id)
      .sort(),
    ...(m.spec.projects ? { projects: m.spec.projects } : {}),
    securityGroups: m.spec.securityGroups,
  };
}
