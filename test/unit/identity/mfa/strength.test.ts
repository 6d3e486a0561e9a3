import { describe, expect, it } from "vitest";
import {
  ARCHWAY_ACR,
  archwayAcr,
  keystoneMethods,
  satisfiesMfa,
  upstreamAmr,
} from "../../../../src/identity/mfa/strength.js";

describe("satisfiesMfa", () => {
  it("counts a second factor in amr, never a password alone", () => {
    expect(satisfiesMfa(["pwd"])).toBe(false);
    expect(satisfiesMfa(["pwd", "otp"])).toBe(true);
    expect(satisfiesMfa(["fed", "mfa"])).toBe(true);
    expect(satisfiesMfa(["hwk", "user"])).toBe(true);
    expect(satisfiesMfa(["swk"])).toBe(true);
    expect(satisfiesMfa(["pin", "kba", "wia", "rba", "geo"])).toBe(false);
    expect(satisfiesMfa([])).toBe(false);
    expect(satisfiesMfa(undefined)).toBe(false);
  });

  it("counts an acr only when the source lists it as strong (exact, case-sensitive)", () => {
    expect(satisfiesMfa(["pwd"], "gold")).toBe(false);
    expect(satisfiesMfa(["pwd"], "gold", ["gold", "platinum"])).toBe(true);
    expect(satisfiesMfa(["pwd"], "Gold", ["gold"])).toBe(false);
    expect(satisfiesMfa(["pwd"], "silver", ["gold"])).toBe(false);
    expect(satisfiesMfa(undefined, undefined, ["gold"])).toBe(false);
  });
});

describe("upstreamAmr", () => {
  it("records fed and the upstream's values, and mfa when they or a strong acr say so", () => {
    expect(upstreamAmr(undefined, undefined)).toEqual(["fed"]);
    expect(upstreamAmr(["pwd"], undefined)).toEqual(["fed", "pwd"]);
    expect(upstreamAmr(["pwd", "otp"], undefined)).toEqual(["fed", "pwd", "otp", "mfa"]);
    expect(upstreamAmr(["mfa"], undefined)).toEqual(["fed", "mfa"]);
    expect(upstreamAmr(["pwd"], "urn:corp:loa:3", ["urn:corp:loa:3"])).toEqual(["fed", "pwd", "mfa"]);
    expect(upstreamAmr(["pwd"], "urn:corp:loa:1", ["urn:corp:loa:3"])).toEqual(["fed", "pwd"]);
  });

  it("ignores what is not a short token: the claim is the upstream's to fill", () => {
    expect(upstreamAmr("mfa", undefined)).toEqual(["fed"]);
    expect(upstreamAmr([42, { mfa: true }, "a b", "x".repeat(40)], undefined)).toEqual(["fed"]);
    expect(upstreamAmr(["pwd"], 3, ["3"])).toEqual(["fed", "pwd"]);
  });
});

describe("archwayAcr and keystoneMethods", () => {
  it("asserts Archway's own acr from amr", () => {
    expect(archwayAcr(["pwd"])).toBe(ARCHWAY_ACR.singleFactor);
    expect(archwayAcr(["pwd", "otp"])).toBe(ARCHWAY_ACR.mfa);
  });

  it("lists Keystone methods as a real Keystone does, token first on re-scoping", () => {
    expect(keystoneMethods(["pwd"])).toEqual(["password"]);
    expect(keystoneMethods(["pwd", "otp"])).toEqual(["password", "totp"]);
    expect(keystoneMethods(["pwd"], true)).toEqual(["token", "password"]);
    expect(keystoneMethods(["pwd", "otp"], true)).toEqual(["token", "password", "totp"]);
    expect(keystoneMethods(["fed", "mfa"])).toEqual(["openid"]);
    expect(keystoneMethods(["fed", "pwd", "otp"], true)).toEqual(["token", "openid"]);
    expect(keystoneMethods(["hwk", "user"])).toEqual(["webauthn"]);
    expect(keystoneMethods([])).toEqual(["password"]);
  });
});
