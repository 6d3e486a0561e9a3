import { describe, expect, it } from "vitest";
import { compilePolicies, desiredState, manifestsOf } from "../../../src/policy/index.js";
import { canonicalCidr } from "../../../src/policy/manifests/security-group-baseline.js";
import { compileOk, ctx, person } from "./fixtures.js";

const baseline = (groups: string, extra = "") =>
  `apiVersion: archway.dev/v1\nkind: SecurityGroupBaseline\nmetadata: { name: bastion }\nspec:\n${extra}  securityGroups:\n${groups}\n`;
const oneRule = (rule: string) => baseline(`    - name: ssh\n      rules:\n        - ${rule}`);

function problems(text: string): string[] {
  return compilePolicies([{ file: "b.yaml", text }], ctx).problems.map((p) => `${p.path}: ${p.message}`);
}

describe("kind SecurityGroupBaseline", () => {
  it("compiles a baseline: SSH from a bastion range and ICMP, into the desired state of its clouds", () => {
    const set = compileOk(
      baseline(
        [
          "    - name: bastion-ssh",
          "      description: SSH from the bastion",
          "      rules:",
          "        - { direction: ingress, protocol: tcp, portRangeMin: 22, remoteIpPrefix: 192.0.2.0/24 }",
          "        - { direction: ingress, protocol: icmp }",
          "        - { direction: ingress, ethertype: IPv6, protocol: icmp, portRangeMin: 128, remoteIpPrefix: '2001:DB8::/32' }",
        ].join("\n"),
        "  clouds: { labels: { kind: edge } }\n  projects: [web-*]\n",
      ),
    );
    const [m] = manifestsOf({ manifests: set.manifests }, "SecurityGroupBaseline");
    expect(m).toMatchObject({
      name: "bastion",
      clouds: ["store-0001", "store-0002", "store-0100"],
      projects: ["web-*"],
    });
    expect(m?.securityGroups[0]?.rules).toEqual([
      {
        direction: "ingress",
        ethertype: "IPv4",
        protocol: "tcp",
        portRangeMin: 22,
        portRangeMax: 22,
        remoteIpPrefix: "192.0.2.0/24",
      },
      { direction: "ingress", ethertype: "IPv4", protocol: "icmp" },
      { direction: "ingress", ethertype: "IPv6", protocol: "icmp", portRangeMin: 128, remoteIpPrefix: "2001:db8::/32" },
    ]);
    const desired = desiredState([person()], set);
    expect(manifestsOf(desired.get("store-0001") ?? {}, "SecurityGroupBaseline")).toHaveLength(1);
    expect(desired.has("region-1")).toBe(false);
  });

  it("refuses ports outside 1-65535, min above max, ports on other protocols", () => {
    expect(problems(oneRule("{ direction: ingress, protocol: tcp, portRangeMin: 0 }"))).toEqual([
      expect.stringMatching(/portRangeMin: ports are 1-65535/),
    ]);
    expect(problems(oneRule("{ direction: ingress, protocol: udp, portRangeMin: 53, portRangeMax: 70000 }"))).toEqual([
      expect.stringMatching(/portRangeMax: ports are 1-65535/),
    ]);
    expect(problems(oneRule("{ direction: ingress, protocol: tcp, portRangeMin: 2000, portRangeMax: 1000 }"))).toEqual([
      expect.stringMatching(/portRangeMax: portRangeMin \(2000\) is greater than portRangeMax \(1000\)/),
    ]);
    expect(problems(oneRule("{ direction: ingress, protocol: any, portRangeMin: 22 }"))).toEqual([
      expect.stringMatching(/ports apply to tcp and udp/),
    ]);
  });

  it("refuses ICMP types and codes outside 0-255, and a code without a type", () => {
    expect(problems(oneRule("{ direction: ingress, protocol: icmp, portRangeMin: 256 }"))).toEqual([
      expect.stringMatching(/an ICMP type \(portRangeMin\) is 0-255/),
    ]);
    expect(problems(oneRule("{ direction: ingress, protocol: icmp, portRangeMin: 3, portRangeMax: 300 }"))).toEqual([
      expect.stringMatching(/an ICMP code \(portRangeMax\) is 0-255/),
    ]);
    expect(problems(oneRule("{ direction: ingress, protocol: icmp, portRangeMax: 0 }"))).toEqual([
      expect.stringMatching(/needs a type/),
    ]);
  });

  it("refuses a CIDR that is not one, has host bits, or is of the other family than the ethertype", () => {
    expect(problems(oneRule("{ direction: ingress, remoteIpPrefix: 192.0.2.0/33 }"))).toEqual([
      expect.stringMatching(/remoteIpPrefix: '192.0.2.0\/33' is not a CIDR/),
    ]);
    expect(problems(oneRule("{ direction: ingress, remoteIpPrefix: 192.0.2.1/24 }"))).toEqual([
      expect.stringMatching(/without host bits/),
    ]);
    expect(problems(oneRule("{ direction: ingress, remoteIpPrefix: '2001:db8::/32' }"))).toEqual([
      expect.stringMatching(/is an IPv6 range; the rule's ethertype is IPv4/),
    ]);
    expect(canonicalCidr("0.0.0.0/0")).toEqual({ cidr: "0.0.0.0/0", family: 4 });
    expect(canonicalCidr("2001:0DB8:0000::/48")).toEqual({ cidr: "2001:db8::/48", family: 6 });
    expect(canonicalCidr("2001:db8::1/64")).toBeNull();
  });

  it("refuses a remote group outside the baseline, both remotes, duplicates, and Neutron's own 'default'", () => {
    expect(problems(oneRule("{ direction: ingress, remoteGroup: web }"))).toEqual([
      expect.stringMatching(/remoteGroup: 'web' is not a group of this baseline \(ssh\)/),
    ]);
    expect(problems(oneRule("{ direction: ingress, remoteGroup: ssh, remoteIpPrefix: 10.0.0.0/8 }"))).toEqual([
      expect.stringMatching(/give remoteIpPrefix or remoteGroup, not both/),
    ]);
    expect(
      problems(
        baseline(
          "    - name: ssh\n      rules:\n        - { direction: egress }\n        - { direction: egress, description: again }",
        ),
      ),
    ).toEqual([expect.stringMatching(/rules\[1\]: the same rule is listed twice in this group/)]);
    expect(problems(baseline("    - { name: default }"))).toEqual([
      expect.stringMatching(/'default' is Neutron's own group/),
    ]);
    expect(problems(baseline("    - { name: a }\n    - { name: a }"))).toEqual([
      expect.stringMatching(/securityGroups\[1\]\.name: security group 'a' is listed twice/),
    ]);
  });
});
