import { describe, expect, it } from "vitest";
import { requestIds } from "../../../src/http/middleware/request-id.js";

describe("request ids", () => {
  it("never repeat within a source, and two sources (two processes) share no prefix", () => {
    const next = requestIds();
    const ids = Array.from({ length: 10_000 }, next);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/);
    const other = requestIds()();
    expect(other.split("-")[0]).not.toBe(ids[0]?.split("-")[0]);
  });

  it("are safe to echo: they pass the check an incoming X-Request-Id must pass", () => {
    expect(requestIds()()).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  });
});
