/** What every compiled manifest carries: what it is, where it is defined, and the clouds it targets. */
export interface CompiledManifestBase {
  kind: string;
  /** `metadata.name`: unique per kind; the mark Archway writes on what the manifest creates names it. */
  name: string;
  /** `file:line` where it is defined. */
  origin: string;
  /** Ids of the targeted clouds, sorted. */
  clouds: string[];
}
