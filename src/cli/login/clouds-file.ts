import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { isMap, parseDocument } from "yaml";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { TokenCloudEntry } from "../../http/index.js";

/** Where `openstack` looks first: `~/.config/openstack/clouds.yaml`. */
export function defaultCloudsFile(env: NodeJS.ProcessEnv): string {
  return join(env.HOME ?? homedir(), ".config", "openstack", "clouds.yaml");
}

/**
 * What `archway login` remembers beside the clouds file (`archway-login.json`, mode 0600): the refresh token, and
 * the entries it wrote, so that `--logout` and later logins remove those and never touch anyone else's.
 */
export const LoginStateSchema = z.object({
  url: z.string(),
  clientId: z.string(),
  cloudPrefix: z.string(),
  cloudsFile: z.string(),
  username: z.string(),
  refreshToken: z.string().optional(),
  /** The access token in the entries (for `--logout` to revoke) and its expiry, milliseconds since the epoch. */
  accessToken: z.string(),
  expiresAt: z.number(),
  entries: z.array(z.string()),
});
export type LoginState = z.infer<typeof LoginStateSchema>;

/** The state file of a clouds file: beside it, so one clouds file has one login. */
export function stateFileOf(cloudsFile: string): string {
  return join(dirname(resolve(cloudsFile)), "archway-login.json");
}

/** The state of `cloudsFile`'s login, or undefined when it has none. */
export function readState(cloudsFile: string): LoginState | undefined {
  const file = stateFileOf(cloudsFile);
  if (!existsSync(file)) return undefined;
  const parsed = LoginStateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) throw new ArchwayError("login_state_invalid", `${file} is not a state archway login wrote`, 400);
  return parsed.data;
}

/** Writes the state (0600: it holds the refresh token). */
export function writeState(state: LoginState): void {
  writePrivate(stateFileOf(state.cloudsFile), `${JSON.stringify(state, null, 2)}\n`);
}

/** Deletes the state file. */
export function removeState(cloudsFile: string): void {
  rmSync(stateFileOf(cloudsFile), { force: true });
}

/**
 * Puts `entries` into the clouds file and removes the `stale` names (entries an earlier login wrote that are gone
 * now), keeping every other entry and the file's comments. An entry of the same name that `archway login` did not
 * write (not in `owned`) is left alone and reported. Returns the names written and those skipped.
 */
export function updateCloudsFile(
  file: string,
  entries: Record<string, TokenCloudEntry>,
  owned: readonly string[],
): { written: string[]; skipped: string[]; removed: string[] } {
  const doc = parseDocument(existsSync(file) ? readFileSync(file, "utf8") : "clouds: {}\n");
  if (doc.errors.length > 0) throw new ArchwayError("clouds_yaml_invalid", `${file}: ${doc.errors[0]?.message}`, 400);
  if (!isMap(doc.get("clouds"))) doc.set("clouds", doc.createNode({}));
  const clouds = doc.get("clouds");
  if (!isMap(clouds)) throw new ArchwayError("clouds_yaml_invalid", `${file}: clouds is not a map`, 400);
  const mine = new Set(owned);
  const written: string[] = [];
  const skipped: string[] = [];
  for (const [name, entry] of Object.entries(entries)) {
    if (clouds.has(name) && !mine.has(name)) {
      skipped.push(name);
      continue;
    }
    clouds.set(name, doc.createNode(entry));
    written.push(name);
  }
  const removed = owned.filter((name) => !(name in entries) && clouds.has(name));
  for (const name of removed) clouds.delete(name);
  // It holds bearer tokens now: readable by its owner only.
  writePrivate(file, doc.toString({ lineWidth: 0 }));
  return { written, skipped, removed };
}

/** Removes the `owned` entries from the clouds file, and nothing else. Returns those it found. */
export function removeFromCloudsFile(file: string, owned: readonly string[]): string[] {
  if (!existsSync(file)) return [];
  const doc = parseDocument(readFileSync(file, "utf8"));
  const clouds = doc.get("clouds");
  if (!isMap(clouds)) return [];
  const removed = owned.filter((name) => clouds.has(name));
  for (const name of removed) clouds.delete(name);
  writePrivate(file, doc.toString({ lineWidth: 0 }));
  return removed;
}

/** Writes through a temp file and a rename, mode 0600 from the start: never a half-written or readable file. */
function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
