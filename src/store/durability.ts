/**
 * Does the store keep what Archway wrote (issue 23)? A Redis without persistence that restarts comes back empty:
 * every session, revocation and (with `signing.keys: store`) every signing key is gone, so every earlier token
 * fails. Checked at start and on each reconnect: the persistence settings, and a marker key that vanishes when
 * the data does.
 */
import { hostname } from "node:os";

/** Redis's persistence settings as `CONFIG GET` reports them. */
export interface Persistence {
  /** `appendonly`: "yes" or "no". */
  appendonly: string;
  /** `save`: RDB snapshot rules ("3600 1 300 100"), "" for none. */
  save: string;
}

/** How bad the persistence settings are for Archway; `message` is what the log says. */
export interface PersistenceVerdict {
  level: "ok" | "warn" | "error";
  message: string;
}

/** Judges the persistence settings (pure). AOF is what Archway needs; RDB alone loses the last minutes. */
export function judgePersistence(p: Persistence): PersistenceVerdict {
  if (p.appendonly.trim().toLowerCase() === "yes")
    return { level: "ok", message: "Redis persistence: append-only file on" };
  if (p.save.trim() === "")
    return {
      level: "error",
      message:
        'Redis has NO persistence (appendonly no, save ""): a restart of Redis logs everyone out and forgets revocations; set appendonly yes (see docs/operations.md)',
    };
  return {
    level: "warn",
    message: `Redis persists by RDB snapshots only (save "${p.save}"): a crash loses the sessions and revocations written since the last snapshot; set appendonly yes (see docs/operations.md)`,
  };
}

/** Parses an ioredis `CONFIG GET name` reply (`[name, value]`), or undefined when it holds no value. */
export function configValue(reply: unknown, name: string): string | undefined {
  if (!Array.isArray(reply)) return undefined;
  const i = reply.indexOf(name);
  const value = i >= 0 ? reply[i + 1] : undefined;
  return typeof value === "string" ? value : undefined;
}

/** The store key of the marker (under the key prefix). */
export const MARKER_KEY = "store:marker";

/** The value a process writes as the marker: who and when, for the incident record. */
export function markerValue(now = new Date()): string {
  return JSON.stringify({ writtenAt: now.toISOString(), by: `${hostname()}:${process.pid}` });
}

/**
 * What a reconnect found: `wiped` when the marker this process wrote (or found) at start is gone, so the store
 * lost its data while Archway was running.
 */
export function markerVerdict(opts: { hadMarker: boolean; current: string | null }): "ok" | "wiped" | "fresh" {
  if (opts.current !== null) return "ok";
  return opts.hadMarker ? "wiped" : "fresh";
}
