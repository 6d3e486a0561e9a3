import { describe, expect, it } from "vitest";
import { type JobLook, jobFinished } from "../../../src/sync/job-finished.js";

const never = <T>() => new Promise<T>(() => {});

describe("jobFinished", () => {
  it("resolves with the event's result when it comes first, and stops looking", async () => {
    let looks = 0;
    const value = await jobFinished(
      {
        event: async () => "done",
        look: async () => {
          looks++;
          return undefined;
        },
      },
      { waitMs: 1_000, pollMs: 10 },
    );
    expect(value).toBe("done");
    await new Promise((r) => setTimeout(r, 50));
    expect(looks).toBe(0);
  });

  it("rejects with the event's failure", async () => {
    await expect(
      jobFinished({ event: () => Promise.reject(new Error("cloud down")), look: never }, { waitMs: 1_000, pollMs: 10 }),
    ).rejects.toThrow("cloud down");
  });

  it("a missed event: the look finds the job completed and resolves with its result", async () => {
    const looks: JobLook<string>[] = [undefined, undefined, { value: "converged" }];
    const value = await jobFinished({ event: never, look: async () => looks.shift() }, { waitMs: 5_000, pollMs: 5 });
    expect(value).toBe("converged");
  });

  it("a missed event: the look finds the job failed for good and rejects with its reason", async () => {
    await expect(
      jobFinished(
        { event: never, look: async () => ({ failed: "cloud-2: unreachable" }) },
        { waitMs: 5_000, pollMs: 5 },
      ),
    ).rejects.toThrow("cloud-2: unreachable");
  });

  it("a look that fails (the store down) is 'not yet', and the next look still counts", async () => {
    let n = 0;
    const value = await jobFinished(
      {
        event: never,
        look: async () => {
          n++;
          if (n < 3) throw new Error("store_unavailable");
          return { value: 42 };
        },
      },
      { waitMs: 5_000, pollMs: 5 },
    );
    expect(value).toBe(42);
  });

  it("gives up after waitMs when neither the event nor a look sees the end", async () => {
    await expect(
      jobFinished({ event: never, look: async () => undefined }, { waitMs: 60, pollMs: 10 }),
    ).rejects.toThrow("job not finished within 60 ms");
  });
});
