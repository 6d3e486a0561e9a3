import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import type { LoadedConfig } from "../config/index.js";
import type { Logger } from "../log/index.js";

/** What {@link watchConfigFiles} watches: folders, each with the file names that count. */
export interface WatchedFolder {
  dir: string;
  /** A file name in `dir` that counts as a change. */
  matches(name: string): boolean;
}

/**
 * The files a running process reloads: the config file (its folder is watched, since editors replace a file by
 * renaming a new one over it, which a watch on the file itself misses), the `clouds.d` folder and the policies
 * folder (YAML files only).
 */
export function reloadedFolders(loaded: LoadedConfig): WatchedFolder[] {
  const yaml = (name: string) => /\.ya?ml$/.test(name);
  const folders: WatchedFolder[] = [
    { dir: dirname(loaded.file), matches: (name) => name === basename(loaded.file) },
    { dir: loaded.policiesDir, matches: yaml },
  ];
  if (loaded.config.cloudsDir)
    folders.push({ dir: resolve(dirname(loaded.file), loaded.config.cloudsDir), matches: yaml });
  // One watch per folder: the config may live beside its clouds or policies.
  const byDir = new Map<string, WatchedFolder>();
  for (const f of folders) {
    const known = byDir.get(f.dir);
    byDir.set(f.dir, known ? { dir: f.dir, matches: (n) => known.matches(n) || f.matches(n) } : f);
  }
  return [...byDir.values()];
}

/**
 * Calls `onChange` once a burst of changes in the watched folders has been quiet for `debounceMs` (an editor's
 * save, a `cp -r` of a clouds.d, a config management run: one reload each). A folder that cannot be watched is
 * logged and skipped (SIGHUP still reloads). Returns the function that stops watching.
 */
export function watchConfigFiles(
  folders: readonly WatchedFolder[],
  opts: { debounceMs: number; onChange: () => void; log: Logger },
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  const changed = (folder: WatchedFolder, name: string | null) => {
    // Some platforms give no name: count it (a reload of unchanged files does nothing).
    if (name !== null && !folder.matches(name)) return;
    clearTimeout(timer);
    timer = setTimeout(opts.onChange, opts.debounceMs);
    timer.unref();
  };
  for (const folder of folders) {
    try {
      const watcher = watch(folder.dir, { persistent: false }, (_event, name) => changed(folder, name));
      watcher.on("error", (err) => opts.log.warn({ dir: folder.dir, err: err.message }, "stopped watching a folder"));
      watchers.push(watcher);
    } catch (err) {
      opts.log.warn(
        { dir: folder.dir, err: (err as Error).message },
        "cannot watch this folder: reload it with SIGHUP",
      );
    }
  }
  if (watchers.length > 0)
    opts.log.info({ folders: folders.map((f) => f.dir), debounceMs: opts.debounceMs }, "watching configuration files");
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
