// Image transfer: (1) throughput of one image streamed by Archway to the 3 real glance-api at once (read once, teed,
// created + uploaded + verified) next to the peer: raw `curl -T` of the same file to the same 3 Glance servers in
// parallel (images created beforehand, upload only), alternated, with the CPU each side and the glance-api spend;
// (2) peak RSS of the Archway process during 256 MiB and 1 GiB transfers (a child process on the compiled build that
// does only the transfer); (3) a simulation of 1,000 stand-in Glance
// endpoints (in-process sinks that take bytes as fast as they come) under a per-site and a total bandwidth cap:
// the time to finish next to the time the caps allow, and the busiest second next to the total cap.
// Knobs for experiments: BENCH_IMAGE_MIB (sizes, "256,1024"), BENCH_IMAGE_ROUNDS (5), BENCH_IMAGE_CHUNK_KIB and
// BENCH_IMAGE_SINK_KIB (the transfer's read and per-upload buffer sizes), BENCH_IMAGE_NODE_FLAGS (for the Archway
// child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { type ImageApi, ImageTransfers } from "../src/images/index.js";
import { createCloudClients, createGlanceClient, type Image } from "../src/openstack/index.js";
import { repoRoot } from "../test/env/endpoints.js";
import { testClouds } from "../test/integration/openstack/clouds.js";
import { withCpu } from "./lib/cpu.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

const exec = promisify(execFile);
const MiB = 1 << 20;
const SIZES = (process.env.BENCH_IMAGE_MIB ?? "256,1024").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_IMAGE_ROUNDS ?? 5);

function glances() {
  const made = testClouds({ timeoutMs: 60_000 }).map((cloud) => {
    const clients = createCloudClients(cloud);
    const { glance, close } = createGlanceClient(clients);
    return {
      cloudId: cloud.id,
      glance,
      clients,
      close: async () => {
        await close();
        await clients.close();
      },
    };
  });
  return { made, close: async () => void (await Promise.all(made.map((m) => m.close()))) };
}

/** A generated image file and its digests. */
interface BenchFile {
  path: string;
  size: number;
  sha512: string;
  md5: string;
}

/**
 * The two Archway sides: a source whose digests are known (a file source: the sync resource hashes it once per
 * path, size and mtime to know its version; a golden image), streamed without hashing and proved by Glance's
 * hashes; and one hashed while streamed (a URL source, whose pin gives no md5).
 */
const ARCHWAY_KNOWN = "archway stream, digests known";
const ARCHWAY_HASHING = "archway stream, hashing";

async function randomFile(dir: string, mib: number): Promise<BenchFile> {
  const path = join(dir, `bench-${mib}m.raw`);
  const hash = createHash("sha512");
  const md5 = createHash("md5");
  const out = createWriteStream(path);
  for (let i = 0; i < mib / 4; i++) {
    const piece = randomBytes(4 * MiB);
    hash.update(piece);
    md5.update(piece);
    if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { path, size: mib * MiB, sha512: hash.digest("hex"), md5: md5.digest("hex") };
}

const image = (name: string) => ({ name, diskFormat: "raw", containerFormat: "bare" });

/** Deletes every image of the bench's mark in every cloud. */
async function cleanup(made: ReturnType<typeof glances>["made"], mark: Record<string, string>) {
  for (const { glance } of made) {
    for (const img of await glance.list({ properties: mark }).catch(() => [] as Image[])) {
      await glance.delete(img.id).catch(() => {});
    }
  }
}

/** The peer: three `curl -T` uploads of the file at once into images made beforehand. */
async function curlRound(made: ReturnType<typeof glances>["made"], path: string, mark: Record<string, string>) {
  const jobs = await Promise.all(
    made.map(async ({ glance, clients, cloudId }) => {
      const img = await glance.create({ ...image("bench-curl"), properties: mark });
      // From the catalog: endpoints.json is rewritten by any `testenv.sh up`, with or without the glances.
      const base = await clients.keystone.endpoint("image", { region: cloudId });
      return { url: `${base}/v2/images/${img.id}/file`, token: await clients.keystone.token() };
    }),
  );
  const t0 = performance.now();
  // Through `sh -c 'curl ...; times'`: the shell's `times` prints its children's CPU (user, system), curl's own.
  const outs = await Promise.all(
    jobs.map((j) =>
      exec("sh", [
        "-c",
        'curl "$@"; times',
        "sh",
        "-sf",
        "-T",
        path,
        "-X",
        "PUT",
        "-H",
        `x-auth-token: ${j.token}`,
        "-H",
        "content-type: application/octet-stream",
        j.url,
      ]),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, cpuSeconds: outs.reduce((sum, o) => sum + childTimes(o.stdout), 0) };
}

/** The children's CPU seconds from the second line of `times` ("0m0.120s 0m0.340s"). */
function childTimes(out: string): number {
  const line = out.trim().split("\n").pop() ?? "";
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
}

/** Options of the Archway child's transfer (the defaults of TransferOptions unless set for an experiment). */
function childOptions(): Record<string, number> {
  const opts: Record<string, number> = {};
  if (process.env.BENCH_IMAGE_CHUNK_KIB) opts.chunkBytes = Number(process.env.BENCH_IMAGE_CHUNK_KIB) * 1024;
  if (process.env.BENCH_IMAGE_SINK_KIB) opts.sinkBufferBytes = Number(process.env.BENCH_IMAGE_SINK_KIB) * 1024;
  return opts;
}

/** What the Archway child measured: seconds, its own CPU seconds, its peak and pre-transfer RSS (bytes). */
interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  baseline: number;
}

/**
 * Archway: one stream call (create, upload, verify) to the three clouds, in its own process on the compiled build
 * (bench/lib/image-child.mjs), as a gateway runs it: the bench process's heap (tsx, the file it generated, the curl
 * children) weighs neither on the transfer nor on its RSS.
 */
async function archwayRound(file: BenchFile, known: boolean): Promise<ChildResult> {
  const flags = (process.env.BENCH_IMAGE_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const proc = spawn(process.execPath, [...flags, "bench/lib/image-child.mjs"], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "inherit"],
  });
  proc.stdin.end(
    JSON.stringify({
      dist: join(repoRoot, "dist"),
      clouds: testClouds({ timeoutMs: 60_000 }),
      path: file.path,
      sha512: file.sha512,
      ...(known ? { expected: { size: file.size, md5: file.md5, sha512: file.sha512 } } : {}),
      mark: { archway_bench: `child-${randomUUID()}` },
      options: childOptions(),
    }),
  );
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => proc.on("close", r));
  if (code !== 0) throw new Error(`archway child exited ${code}: ${out}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "{}");
}

/** The glance-api processes of the test env (their pid files), to count the CPU they spend hashing and storing. */
function glancePids(): number[] {
  const dir = join(repoRoot, ".testenv/pids");
  return [1, 2, 3].flatMap((i) => {
    try {
      return [Number(readFileSync(join(dir, `glance-${i}.pid`), "utf8").trim())];
    } catch {
      return [];
    }
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A stand-in Glance that takes bytes as fast as they come and records when. */
function standIn(cloudId: string, log: { t: number; n: number }[]): ImageApi {
  const images = new Map<string, Image>();
  return {
    async create(spec) {
      const img: Image = { ...spec.properties, id: randomUUID(), name: spec.name, status: "queued" };
      images.set(img.id, img);
      return img;
    },
    async upload(id, body) {
      const md5 = createHash("md5");
      const sha = createHash("sha512");
      let size = 0;
      const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
      for await (const c of stream as AsyncIterable<Buffer>) {
        log.push({ t: performance.now(), n: c.length });
        md5.update(c);
        sha.update(c);
        size += c.length;
      }
      Object.assign(images.get(id) ?? {}, {
        status: "active",
        size,
        checksum: md5.digest("hex"),
        os_hash_algo: "sha512",
        os_hash_value: sha.digest("hex"),
      });
    },
    async get(id) {
      return { ...(images.get(id) as Image) };
    },
    async update(id, changes) {
      return Object.assign(images.get(id) ?? ({} as Image), changes);
    },
    async delete(id) {
      images.delete(id);
    },
    async importWebDownload() {},
    async list() {
      return [...images.values()];
    },
    ...{ cloudId },
  } as ImageApi;
}

async function simulate(dir: string) {
  const sites = 1000;
  const sizeMiB = 1;
  const perSite = 1 * MiB;
  const total = 80 * MiB;
  const fanout = 100;
  const file = join(dir, "sim.raw");
  writeFileSync(file, randomBytes(sizeMiB * MiB));
  const log: { t: number; n: number }[] = [];
  const targets = Array.from({ length: sites }, (_, i) => ({
    cloudId: `site-${i}`,
    glance: standIn(`site-${i}`, log),
  }));
  const transfers = new ImageTransfers({
    concurrencyTotal: fanout,
    concurrencyPerCloud: 1,
    caps: { perCloud: perSite, total },
    chunkBytes: 64 * 1024,
  });
  const t0 = performance.now();
  const report = await transfers.stream({
    source: { kind: "file", path: file },
    image: image("sim"),
    mark: { sim: "1" },
    targets,
  });
  const seconds = (performance.now() - t0) / 1000;
  const ok = report.outcomes.filter((o) => o.ok).length;
  const bytes = sites * sizeMiB * MiB;
  const waves = Math.ceil(sites / fanout);
  const allowed = Math.max(bytes / total, (waves * sizeMiB * MiB) / perSite);
  // The busiest 1 s window of bytes delivered, against the total cap.
  let busiest = 0;
  let j = 0;
  let inWindow = 0;
  for (let i = 0; i < log.length; i++) {
    inWindow += (log[i] as { n: number }).n;
    while ((log[i] as { t: number }).t - (log[j] as { t: number }).t > 1000) inWindow -= (log[j++] as { n: number }).n;
    busiest = Math.max(busiest, inWindow);
  }
  return {
    sites,
    ok,
    seconds,
    allowed,
    busiestMiBps: busiest / MiB,
    totalCapMiBps: total / MiB,
    perSiteMiBps: perSite / MiB,
    fanout,
  };
}

export async function benchImageSync(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "archway-bench-images-"));
  const { made, close } = glances();
  const mark = { archway_bench: `image-sync-${randomUUID()}` };
  const pids = glancePids();
  const rows: (string | number)[][] = [
    [
      "image",
      "who",
      "round",
      "seconds",
      "MiB/s (x3 clouds)",
      "its CPU s",
      "3 glance-api CPU s",
      "machine busy s (of 2 x seconds)",
      "ratio archway/curl",
    ],
  ];
  const rssRows: (string | number)[][] = [
    ["image", "seconds", "peak RSS MiB (VmHWM)", "RSS before the transfer MiB", "Archway CPU s per GiB read"],
  ];
  const ratios: Record<string, number[]> = { [ARCHWAY_KNOWN]: [], [ARCHWAY_HASHING]: [] };
  // CPU seconds per round: each side's own, and the glance-api's while it ran (for the CPU-bound ceiling).
  const cpu = {
    curl: [] as number[],
    archway: { [ARCHWAY_KNOWN]: [] as number[], [ARCHWAY_HASHING]: [] as number[] } as Record<string, number[]>,
    glanceCurl: [] as number[],
    glanceArchway: { [ARCHWAY_KNOWN]: [] as number[], [ARCHWAY_HASHING]: [] as number[] } as Record<string, number[]>,
  };
  const summary = (who: string) => {
    const arch = median(cpu.archway[who] ?? []);
    const glance = median(cpu.glanceArchway[who] ?? []);
    const ceiling = (median(cpu.glanceCurl) + median(cpu.curl)) / (glance + arch);
    return (
      `${who}: median ratio ${median(ratios[who] ?? []).toFixed(2)} over ${ratios[who]?.length} rounds; median CPU s ` +
      `Archway ${arch.toFixed(2)}, 3 glance-api ${glance.toFixed(2)}; CPU-bound ceiling ${ceiling.toFixed(2)}.`
    );
  };
  try {
    const [first] = SIZES;
    for (const mib of SIZES) {
      const file = await randomFile(dir, mib);
      const size = statSync(file.path).size;
      // Both sides read the file from the page cache: one untimed read warms it (the generator wrote it, but a
      // machine short of memory may have dropped it).
      await exec("cat", [file.path]).catch(() => undefined);
      const rate = (s: number) => ((3 * size) / MiB / s).toFixed(0);
      if (mib === first) {
        for (let r = 1; r <= ROUNDS; r++) {
          const runCurl = async () => {
            const m = await withCpu(pids, () => curlRound(made, file.path, mark));
            await cleanup(made, mark);
            return m;
          };
          const sides = [
            { who: "curl -T x3", run: runCurl },
            { who: ARCHWAY_KNOWN, run: () => withCpu(pids, () => archwayRound(file, true)) },
            { who: ARCHWAY_HASHING, run: () => withCpu(pids, () => archwayRound(file, false)) },
          ];
          // Rotate which side goes first, so none always runs on a machine another just warmed or heated.
          const measured = new Map<string, Awaited<ReturnType<typeof runCurl>>>();
          for (let i = 0; i < sides.length; i++) {
            const side = sides[(i + r) % sides.length] as (typeof sides)[number];
            measured.set(side.who, await side.run());
          }
          const curl = measured.get("curl -T x3") as Awaited<ReturnType<typeof runCurl>>;
          cpu.curl.push(curl.value.cpuSeconds);
          cpu.glanceCurl.push(curl.pidsCpu);
          for (const { who } of sides) {
            const m = measured.get(who) as Awaited<ReturnType<typeof runCurl>>;
            const ratio = who === "curl -T x3" ? undefined : curl.value.seconds / m.value.seconds;
            if (ratio !== undefined) {
              ratios[who]?.push(ratio);
              cpu.archway[who]?.push(m.value.cpuSeconds);
              cpu.glanceArchway[who]?.push(m.pidsCpu);
            }
            rows.push([
              `${mib} MiB`,
              who,
              r,
              m.value.seconds.toFixed(2),
              rate(m.value.seconds),
              m.value.cpuSeconds.toFixed(2),
              m.pidsCpu.toFixed(2),
              m.machineCpu.toFixed(2),
              ratio?.toFixed(2) ?? "",
            ]);
          }
          console.log(
            rows
              .slice(-3)
              .map((row) => row.join(" | "))
              .join("\n"),
          );
        }
      }
      const rss = await archwayRound(file, true);
      rssRows.push([
        `${mib} MiB`,
        rss.seconds.toFixed(1),
        (rss.peakRss / MiB).toFixed(0),
        (rss.baseline / MiB).toFixed(0),
        (rss.cpuSeconds / (size / (1024 * MiB))).toFixed(2),
      ]);
      console.log(rssRows.at(-1)?.join(" | "));
      rmSync(file.path, { force: true });
    }
    const sim = await simulate(dir);
    appendBenchmark({
      title: "image-sync: one image streamed to 3 real glance-api, peak RSS, 1,000-site schedule",
      command: "npm run bench -- image-sync",
      markdown: [
        markdownTable(rows),
        "",
        `Median CPU seconds of 3 curl ${median(cpu.curl).toFixed(2)}, of the 3 glance-api in curl's rounds ` +
          `${median(cpu.glanceCurl).toFixed(2)}. ${summary(ARCHWAY_KNOWN)} ${summary(ARCHWAY_HASHING)} The ceiling: ` +
          "with both cores saturated the ratio cannot exceed (glance + curl CPU) / (glance + Archway CPU).",
        "",
        markdownTable(rssRows),
        "",
        markdownTable([
          [
            "sites",
            "fanout",
            "per-site cap MiB/s",
            "total cap MiB/s",
            "ok",
            "seconds",
            "allowed by caps",
            "over",
            "busiest 1 s MiB/s",
          ],
          [
            sim.sites,
            sim.fanout,
            sim.perSiteMiBps,
            sim.totalCapMiBps,
            sim.ok,
            sim.seconds.toFixed(2),
            sim.allowed.toFixed(2),
            `${((sim.seconds / sim.allowed - 1) * 100).toFixed(1)}%`,
            sim.busiestMiBps.toFixed(1),
          ],
        ]),
      ].join("\n"),
      notes:
        "Throughput: ratio = curl seconds / Archway seconds of the same round (target >= 0.9); the three sides " +
        "rotate which goes first; the file is in the page cache for all. Archway runs as its own process on the " +
        "compiled build (bench/lib/image-child.mjs), tokens and catalog fetched before the clock starts as for curl; " +
        "its time includes creating the 3 images (private until verified), reading the file once, the upload, " +
        "verifying (GET) each image against the source's digests and releasing it (PATCH); curl's is the upload only. " +
        "'digests known': the digests come with the request, as the sync resource passes a file's cached digests " +
        "(hashed once per path, size and mtime) or a golden image's: Archway counts bytes and Glance's hashes prove " +
        "each copy. 'hashing': Archway computes md5 and sha512 (the pin's algorithm: one hash serves both) while " +
        "streaming, as for a URL source. CPU: from /proc (the glance-api pids, the machine's busy time) and `times` " +
        "for curl. RSS: the kernel's peak resident set (VmHWM) of that process doing one transfer (digests known) to " +
        "3 clouds (target <= 128 MiB, flat in image size). Simulation: 1 MiB image, " +
        "1,000 in-process stand-in endpoints, real clock.",
    });
  } finally {
    await cleanup(made, mark);
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}
