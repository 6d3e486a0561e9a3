import { afterEach, describe, expect, it } from "vitest";
import type { AccountEvent, AccountWatchHandler, AccountWatchSource } from "../../../src/identity/index.js";
import { type AccountChange, DepartureWatch, snapshotKey } from "../../../src/offboard/index.js";
import { MemoryStore, setJson } from "../../../src/store/index.js";

/** A source whose watch the test drives: `emit` sends events to whichever process is watching. */
function watchable(id: string, unavailable?: string) {
  const handlers: AccountWatchHandler[] = [];
  let started = 0;
  let stopped = 0;
  const source: AccountWatchSource = {
    id,
    type: "ldap",
    ping: async () => {},
    close: async () => {},
    async watchAccounts(handler) {
      if (unavailable) return { unavailable };
      started++;
      handlers.push(handler);
      return {
        stop: async () => {
          stopped++;
          handlers.splice(handlers.indexOf(handler), 1);
        },
      };
    },
  };
  return {
    source,
    emit: (e: AccountEvent) => {
      for (const h of handlers) h.event(e);
    },
    counts: () => ({ started, stopped, watching: handlers.length }),
  };
}

const gone = (n: number, username = `u${n}`): AccountEvent => ({
  kind: "departed",
  account: { id: `corp:${n}`, username, disabled: false },
});

const watches: DepartureWatch[] = [];
afterEach(async () => {
  await Promise.all(watches.splice(0).map((w) => w.stop()));
});

function start(store: MemoryStore, source: AccountWatchSource, maxDepartures = 5) {
  const applied: AccountChange[] = [];
  const audit: Record<string, unknown>[] = [];
  const logs: string[] = [];
  const w = new DepartureWatch({
    sources: [source],
    store,
    audit: async (e) => void audit.push(e as Record<string, unknown>),
    apply: async (c) => void applied.push(c),
    maxDepartures,
    windowMs: 60_000,
    log: { info: (_s, m) => logs.push(`info ${m}`), error: (_s, m) => logs.push(`error ${m}`) },
    leaseMs: 300,
    retryMs: 50,
  });
  watches.push(w);
  w.start();
  return { w, applied, audit, logs };
}

async function until(check: () => boolean): Promise<void> {
  const end = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("DepartureWatch", () => {
  it("acts on what the watch sees, naming someone it only knows by id from the last listing", async () => {
    const store = new MemoryStore();
    await setJson(store, snapshotKey("corp"), { at: "x", accounts: { "corp:2": ["bob", 0] } });
    const s = watchable("corp");
    const { applied } = start(store, s.source);
    await until(() => s.counts().watching === 1);
    s.emit(gone(1));
    s.emit(gone(2, ""));
    s.emit({ kind: "enabled", account: { id: "corp:3", username: "u3", disabled: false } });
    await until(() => applied.length === 3);
    // In order per person; people are acted on side by side.
    expect(applied.sort((x, y) => x.person.id.localeCompare(y.person.id))).toEqual([
      { person: { id: "corp:1", username: "u1" }, kind: "departed", sourceId: "corp" },
      { person: { id: "corp:2", username: "bob" }, kind: "departed", sourceId: "corp" },
      { person: { id: "corp:3", username: "u3" }, kind: "enabled", sourceId: "corp" },
    ]);
  });

  it("holds a burst larger than maxDeparturesPerRun and audits it once", async () => {
    const s = watchable("corp");
    const { applied, audit } = start(new MemoryStore(), s.source, 3);
    await until(() => s.counts().watching === 1);
    for (let i = 0; i < 6; i++) s.emit(gone(i));
    await until(() => applied.length === 3);
    await new Promise((r) => setTimeout(r, 20));
    expect(applied).toHaveLength(3);
    expect(audit).toEqual([expect.objectContaining({ type: "offboard.held", source: "corp" })]);
  });

  it("lets one process watch a source (a lease), and another takes over when it stops", async () => {
    const store = new MemoryStore();
    const s = watchable("corp");
    const a = start(store, s.source);
    const b = start(store, s.source);
    await until(() => s.counts().watching === 1);
    await new Promise((r) => setTimeout(r, 250));
    expect(s.counts().started).toBe(1);
    await a.w.stop();
    await until(() => s.counts().started === 2 && s.counts().watching === 1);
    s.emit(gone(7));
    await until(() => b.applied.length === 1);
    expect(a.applied).toHaveLength(0);
  });

  it("leaves a source that will not watch to the listing, and says so", async () => {
    const s = watchable("corp", "syncrepl: off");
    const { logs } = start(new MemoryStore(), s.source);
    await until(() => logs.length === 1);
    expect(logs[0]).toMatch(/not watching \(syncrepl: off\): departures are found by the listing/);
  });
});
