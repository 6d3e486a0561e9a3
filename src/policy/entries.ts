import { sortInPlace } from "./order.js";

/** How one kind of result entry is identified (by up to three of its fields) and ordered. */
export interface EntryKind<T> {
  /** Whether `entry` is the one identified by `a`, `b`, `c` (unused fields are ""). */
  is(entry: T, a: string, b: string, c: string): boolean;
  /** The {@link tupleKey} of the entry's identifying fields. */
  key(entry: T): string;
  compare(x: T, y: T): number;
}

/** A collision-free key for up to three strings: the lengths say where each ends, whatever characters they hold. */
export function tupleKey(a: string, b: string, c: string): string {
  return `${a.length}:${b.length}:${a}${b}${c}`;
}

/** The entries of one kind in one person's result, looked up by identity while they are added. */
export interface Entries<T> {
  readonly kind: EntryKind<T>;
  list: T[];
  /** Built once the list is longer than {@link SCAN_MAX}. */
  index: Map<string, T> | undefined;
}

/**
 * Past this many entries a list gets a Map index. Below it a scan comparing fields is cheaper than building and
 * hashing a key string; above it the scan would make a person with thousands of groups quadratic.
 */
const SCAN_MAX = 16;

/** `entries` with `entry` added (an entry {@link findEntry} did not find); new entries of `kind` when undefined. */
export function withEntry<T>(entries: Entries<T> | undefined, kind: EntryKind<T>, entry: T): Entries<T> {
  // A one-element literal: an empty array would get a backing store for 17 on its first push.
  if (!entries) return { kind, list: [entry], index: undefined };
  const list = entries.list;
  // A second entry makes a literal of two too: a push would grow the backing store to 17 through a builtin call.
  if (list.length === 1) entries.list = [list[0] as T, entry];
  else list.push(entry);
  if (entries.index) entries.index.set(kind.key(entry), entry);
  else if (entries.list.length > SCAN_MAX) entries.index = indexOf(entries);
  return entries;
}

/**
 * The entry identified by `a`, `b`, `c`, if added. `kind` is the entries' own, passed by the caller as a constant
 * rather than read from `e`: once this is inlined at a call site the comparison is then known and inlined too,
 * where `e.kind.is` would be a call through a site shared by every kind.
 */
export function findEntry<T>(e: Entries<T>, kind: EntryKind<T>, a: string, b: string, c: string): T | undefined {
  if (e.index) return e.index.get(tupleKey(a, b, c));
  for (const entry of e.list) if (kind.is(entry, a, b, c)) return entry;
  return undefined;
}

/** Drops every entry `drop` accepts. */
export function removeEntries<T>(e: Entries<T>, drop: (entry: T) => boolean): void {
  e.list = e.list.filter((x) => !drop(x));
  if (e.index) e.index = indexOf(e);
}

/** The entries in `kind`'s order (the entries' own kind, see {@link findEntry}): the list itself, so nothing may be added afterwards. */
export function sortedEntries<T>(e: Entries<T>, kind: EntryKind<T>): T[] {
  return sortInPlace(e.list, kind.compare);
}

function indexOf<T>(e: Entries<T>): Map<string, T> {
  return new Map(e.list.map((x) => [e.kind.key(x), x]));
}
