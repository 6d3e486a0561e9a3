import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { clientSpan } from "../../../src/telemetry/spans.js";

describe("clientSpan", () => {
  it("without tracing runs the call as is, with a span that records nothing, and passes its result and error on", async () => {
    const seen: boolean[] = [];
    const value = await clientSpan("keystone.users.list", { "archway.cloud": "c1" }, async (span) => {
      seen.push(span.isRecording());
      span.setAttribute("http.response.status_code", 200);
      return 42;
    });
    expect(value).toBe(42);
    expect(seen).toEqual([false]);
    // No context was entered: the active span is still none.
    await clientSpan("x", {}, async () => {
      expect(trace.getActiveSpan()).toBeUndefined();
    });
    await expect(
      clientSpan("x", {}, async () => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
  });
});
