import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { PlanView } from "../../../src/http/web/admin-data.js";
import { lockoutConcerns } from "../../../src/http/web/admin-person-data.js";
import { adminCheck } from "../../../src/http/web/deps.js";
import { binHistory, chartGeometry } from "../../../src/http/web/history-chart.js";
import { summarisePlan } from "../../../src/http/web/plan-summary.js";
import { requireAdmin, type WebEnv } from "../../../src/http/web/security.js";
import { type Identity, IdentitySchema } from "../../../src/identity/index.js";
import { compileSubjects } from "../../../src/policy/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { type HistoryBucket, readHistory, recordCloudRun } from "../../../src/sync/index.js";

const op = (action: string, i: number) => ({ action, text: `${action} thing ${i}`, policies: ["p"] });

/** A plan of `clouds` clouds, cloud i holding i+1 creates, every third a revoke, one cloud unreadable. */
function plan(clouds: number): PlanView {
  const list: PlanView["clouds"] = Array.from({ length: clouds }, (_, i) => ({
    cloudId: `c-${String(i).padStart(4, "0")}`,
    counts: {},
    problems: i === 5 ? ["a problem"] : [],
    orphans: [],
    operations: [
      ...Array.from({ length: i + 1 }, (_, j) => op("create", j)),
      ...(i % 3 === 0 ? [op("revoke", 0), op("update", 0)] : []),
    ],
    ...(i === 7 ? { overDeleteLimit: true } : {}),
  }));
  list.push({
    cloudId: "down",
    error: "cannot read the cloud: refused",
    counts: {},
    problems: [],
    orphans: [],
    operations: [],
  });
  list.push({ cloudId: "quiet", counts: {}, problems: [], orphans: [], operations: [] });
  return { planId: "p1", clouds: list, total: list.reduce((n, c) => n + c.operations.length, 0) };
}

describe("the plan summary", () => {
  it("counts per cloud and column, folds the small clouds into one row, errors and refusals first", () => {
    const p = plan(90);
    const s = summarisePlan(p, { topClouds: 10, perCloudLimit: 5 });
    const creates = (90 * 91) / 2;
    const thirds = 30;
    expect(s.totals).toEqual({ creates, updates: thirds, deletes: thirds });
    expect(s.total).toBe(creates + 2 * thirds);
    expect(s.byAction).toEqual({ create: creates, update: thirds, revoke: thirds, disable: 0, delete: 0 });
    expect(s.inSync).toBe(1);
    expect(s.unavailable).toBe(1);
    expect(s.changing).toHaveLength(91);
    // c-0087 (88 creates, an update, a revoke) ties c-0089 (90 creates): ties go by id.
    expect(s.top.map((r) => r.cloudId).slice(0, 4)).toEqual(["c-0007", "down", "c-0087", "c-0089"]);
    expect(s.top).toHaveLength(10);
    expect(s.rest?.clouds).toBe(81);
    // The folded row and the shown rows add up to the totals.
    const shown = s.top.reduce((n, r) => n + r.total, 0);
    expect(shown + (s.rest?.total ?? 0)).toBe(s.total);
    expect(s.overDeleteLimit).toEqual(["c-0007"]);
  });

  it("groups by action, largest cloud first, capping each cloud's list but not its count", () => {
    const s = summarisePlan(plan(90), { perCloudLimit: 5 });
    expect(s.groups.map((g) => g.action)).toEqual(["create", "update", "revoke"]);
    const create = s.groups[0]!;
    expect(create.total).toBe((90 * 91) / 2);
    expect(create.clouds[0]).toMatchObject({ cloudId: "c-0089", count: 90 });
    expect(create.clouds[0]?.operations).toHaveLength(5);
    expect(s.groups[2]?.clouds).toHaveLength(30);
  });

  it("summarises a 4,406-operation plan into a dozen rows and three groups", () => {
    const clouds: PlanView["clouds"] = Array.from({ length: 1000 }, (_, i) => ({
      cloudId: `edge-${i}`,
      counts: {},
      problems: [],
      orphans: [],
      operations: Array.from({ length: i < 406 ? 5 : 4 }, (_, j) => op(j === 0 ? "update" : "create", j)),
    }));
    clouds[0]?.operations.push(op("delete", 9));
    const total = clouds.reduce((n, c) => n + c.operations.length, 0);
    const s = summarisePlan({ clouds, total });
    expect(total).toBe(406 * 5 + 594 * 4 + 1);
    expect(s.top).toHaveLength(12);
    expect(s.rest?.clouds).toBe(988);
    expect(s.groups.map((g) => g.action)).toEqual(["create", "update", "delete"]);
  });
});

const hour = 3600_000;
const bucket = (i: number, over: Partial<HistoryBucket> = {}): HistoryBucket => ({
  start: i * hour,
  runs: 0,
  cloudRuns: 0,
  changes: 0,
  failures: 0,
  ...over,
});

describe("the history chart", () => {
  it("bins hours from the newest, the oldest bin taking the remainder", () => {
    const hours = Array.from({ length: 10 }, (_, i) => bucket(i, { runs: 1, changes: i }));
    const bins = binHistory(hours, 4);
    expect(bins.map((b) => b.start)).toEqual([0, 2 * hour, 6 * hour]);
    expect(bins.map((b) => b.runs)).toEqual([2, 4, 4]);
    expect(bins.map((b) => b.changes)).toEqual([0 + 1, 2 + 3 + 4 + 5, 6 + 7 + 8 + 9]);
  });

  it("lays out one panel per series, scaled to its own maximum, bars inside the plot and never hidden", () => {
    const bins = [
      bucket(0, { runs: 2, changes: 4000, failures: 0 }),
      bucket(1, { runs: 1, changes: 1, failures: 1 }),
      bucket(2),
      bucket(3, { runs: 4, changes: 2000, failures: 3 }),
    ];
    const g = chartGeometry(bins, { binMs: hour, width: 500, panelHeight: 100, gap: 10, left: 100 });
    expect(g.panels.map((p) => [p.series, p.max, p.total])).toEqual([
      ["runs", 4, 7],
      ["changes", 4000, 6001],
      ["failures", 3, 4],
    ]);
    const changes = g.panels[1]!;
    expect(changes.bars.map((b) => b.height)).toEqual([100, 1, 0, 50]);
    // Bars sit on the panel's base line, in order, inside the plot area, none overlapping.
    for (const p of g.panels) {
      for (const b of p.bars) {
        expect(b.y + b.height).toBeCloseTo(p.top + p.height, 5);
        expect(b.x).toBeGreaterThanOrEqual(100);
        expect(b.x + b.width).toBeLessThanOrEqual(500);
      }
      for (let i = 1; i < p.bars.length; i++)
        expect(p.bars[i]!.x).toBeGreaterThan(p.bars[i - 1]!.x + p.bars[i - 1]!.width);
    }
    expect(g.panels[1]!.top).toBeGreaterThanOrEqual(g.panels[0]!.top + 100);
    expect(g.height).toBeGreaterThan(g.panels[2]!.top + 100);
    expect(g.ticks[0]).toEqual({ x: 150, label: "00:00" });
  });

  it("draws nothing for an empty history and thins its labels", () => {
    const g = chartGeometry(
      Array.from({ length: 168 }, (_, i) => bucket(i)),
      { binMs: hour, maxTicks: 8 },
    );
    expect(g.panels.every((p) => p.max === 0 && p.bars.every((b) => b.height === 0))).toBe(true);
    expect(g.ticks.length).toBeLessThanOrEqual(8);
  });
});

describe("the sync history in the store", () => {
  it("counts runs once per run id, cloud runs, changes and failed cloud runs per hour, and reads them back", async () => {
    const store = new MemoryStore();
    const now = Date.parse("2026-12-06T10:30:00Z");
    const at = new Date(now - 5 * 60_000).toISOString();
    const earlier = new Date(now - 2 * hour).toISOString();
    await recordCloudRun(store, { cloudId: "a", lastRunId: "r1", lastRunAt: at, applied: 5, failed: 0 });
    await recordCloudRun(store, { cloudId: "b", lastRunId: "r1", lastRunAt: at, lastErrorAt: at, degraded: true });
    await recordCloudRun(store, { cloudId: "c", lastRunId: "r1", lastRunAt: at, applied: 2, failed: 1 });
    await recordCloudRun(store, { cloudId: "a", lastRunId: "r0", lastRunAt: earlier, applied: 7 });
    await recordCloudRun(store, { cloudId: "a" }); // not a run's update
    const history = await readHistory(store, 3, now);
    expect(history.map((h) => new Date(h.start).toISOString())).toEqual([
      "2026-12-06T08:00:00.000Z",
      "2026-12-06T09:00:00.000Z",
      "2026-12-06T10:00:00.000Z",
    ]);
    expect(history[0]).toMatchObject({ runs: 1, cloudRuns: 1, changes: 7, failures: 0 });
    expect(history[1]).toMatchObject({ runs: 0, cloudRuns: 0, changes: 0, failures: 0 });
    expect(history[2]).toMatchObject({ runs: 1, cloudRuns: 3, changes: 7, failures: 2 });
    expect((await readHistory(store, 10_000, now)).length).toBe(14 * 24);
  });
});

describe("a person's lockouts", () => {
  it("are the records naming their id or their folded username in their source", () => {
    const p = { id: "corp:42", username: "Alice" };
    expect(lockoutConcerns({ kind: "password", scope: "user", subject: "person:corp:42", at: "" }, p)).toBe(true);
    expect(
      lockoutConcerns(
        { kind: "password", scope: "user_address", subject: "name:corp:alice", subjects: ["name:corp:alice"], at: "" },
        p,
      ),
    ).toBe(true);
    expect(lockoutConcerns({ kind: "otp", scope: "user", subject: "name:other:alice", at: "" }, p)).toBe(false);
    expect(lockoutConcerns({ kind: "password", scope: "address", address: "10.0.0.0", at: "" }, p)).toBe(false);
  });
});

describe("web.auditors", () => {
  const who = (username: string, groups: string[] = []): Identity =>
    IdentitySchema.parse({ id: `corp:${username}`, source: "corp", username, groups });
  const deps = {
    isAdmin: adminCheck({ usernames: ["root"] }, compileSubjects),
    isAuditor: adminCheck({ groups: { anyOf: ["audit"] } }, compileSubjects),
  };
  const app = (identity: Identity) => {
    const a = new Hono<WebEnv>();
    a.use("*", async (c, next) => {
      c.set("person", { identity, via: "session", sessionId: "s" });
      await next();
    });
    a.use("/admin/*", requireAdmin(deps));
    a.onError((err, c) => c.text(err.message, (err as { status?: 403 }).status ?? 500));
    for (const path of ["/admin/plan", "/admin/explain", "/admin/people/unlock", "/admin/sync/apply"]) {
      a.get(path, (c) => c.text("read"));
      a.post(path, (c) => c.text("acted"));
    }
    a.delete("/admin/x", (c) => c.text("acted"));
    return a;
  };

  it("may read every admin page and the explain form, and is refused every action", async () => {
    const auditor = app(who("eve", ["audit"]));
    expect((await auditor.request("/admin/plan")).status).toBe(200);
    expect((await auditor.request("/admin/plan", { method: "HEAD" })).status).toBe(200);
    expect((await auditor.request("/admin/explain", { method: "POST" })).status).toBe(200);
    for (const path of ["/admin/plan", "/admin/people/unlock", "/admin/sync/apply"]) {
      const res = await auditor.request(path, { method: "POST" });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("web.auditors");
    }
    expect((await auditor.request("/admin/x", { method: "DELETE" })).status).toBe(403);
  });

  it("leaves administrators acting, and others out", async () => {
    const admin = app(who("root", ["audit"]));
    expect((await admin.request("/admin/sync/apply", { method: "POST" })).status).toBe(200);
    const nobody = app(who("bob"));
    expect((await nobody.request("/admin/plan")).status).toBe(403);
  });
});
