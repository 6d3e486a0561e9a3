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

async function randomFile(dir: string, mib: number): Promise<{ path: string; sha512: string }> {
  const path = join(dir, `bench-${mib}m.raw`);
  const hash = createHash("sha512");
  const out = createWriteStream(path);
  for (let i = 0; i < mib / 4; i++) {
    const piece = randomBytes(4 * MiB);
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { path, sha512: hash.digest("hex") };
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
async function archwayRound(file: { path: string; sha512: string }): Promise<ChildResult> {
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
  const ratios: number[] = [];
  // CPU seconds per round: each side's own, and the glance-api's while it ran (for the CPU-bound ceiling).
  const cpu = {
    curl: [] as number[],
    archway: [] as number[],
    glanceCurl: [] as number[],
    glanceArchway: [] as number[],
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
          // Alternate which side goes first, so neither always runs on a machine the other just warmed or heated.
          const runCurl = async () => {
            const m = await withCpu(pids, () => curlRound(made, file.path, mark));
            await cleanup(made, mark);
            return m;
          };
          const runArchway = () => withCpu(pids, () => archwayRound(file));
          let curl: Awaited<ReturnType<typeof runCurl>>;
          let archway: Awaited<ReturnType<typeof runArchway>>;
          if (r % 2 === 1) {
            curl = await runCurl();
            archway = await runArchway();
          } else {
            archway = await runArchway();
            curl = await runCurl();
          }
          const ratio = curl.value.seconds / archway.value.seconds;
          ratios.push(ratio);
          cpu.curl.push(curl.value.cpuSeconds);
          cpu.archway.push(archway.value.cpuSeconds);
          cpu.glanceCurl.push(curl.pidsCpu);
          cpu.glanceArchway.push(archway.pidsCpu);
          rows.push([
            `${mib} MiB`,
            "curl -T x3",
            r,
            curl.value.seconds.toFixed(2),
            rate(curl.value.seconds),
            curl.value.cpuSeconds.toFixed(2),
            curl.pidsCpu.toFixed(2),
            curl.machineCpu.toFixed(2),
            "",
          ]);
          rows.push([
            `${mib} MiB`,
            "archway stream",
            r,
            archway.value.seconds.toFixed(2),
            rate(archway.value.seconds),
            archway.value.cpuSeconds.toFixed(2),
            archway.pidsCpu.toFixed(2),
            archway.machineCpu.toFixed(2),
            ratio.toFixed(2),
          ]);
          console.log(
            rows
              .slice(-2)
              .map((row) => row.join(" | "))
              .join("\n"),
          );
        }
      }
      const rss = await archwayRound(file);
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
        `Median ratio archway/curl over ${ratios.length} rounds: ${median(ratios).toFixed(2)}. ` +
          `Median CPU seconds: 3 curl ${median(cpu.curl).toFixed(2)}, Archway ${median(cpu.archway).toFixed(2)}, ` +
          `3 glance-api ${median(cpu.glanceCurl).toFixed(2)} (curl's rounds) and ${median(cpu.glanceArchway).toFixed(2)} ` +
          `(Archway's). When the cores are saturated, the ratio cannot exceed (glance + curl CPU) / (glance + Archway ` +
          `CPU) = ${((median(cpu.glanceCurl) + median(cpu.curl)) / (median(cpu.glanceArchway) + median(cpu.archway))).toFixed(2)}.`,
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
        "Throughput: ratio = curl seconds / Archway seconds (target >= 0.9), rounds alternate which side goes first, " +
        "the file is in the page cache for both. Archway runs as its own process on the compiled build " +
        "(bench/lib/image-child.mjs), tokens and catalog fetched before the clock starts as for curl; its time includes " +
        "creating the 3 images, reading the file once, its sha512 (also the pin's algorithm: one hash serves both) and " +
        "md5, the upload, and verifying (GET) each image; curl's is the upload only. CPU: from /proc (the glance-api " +
        "pids, the machine's busy time) and `times` for curl. RSS: the kernel's peak resident set (VmHWM) of that " +
        "process doing one transfer to 3 clouds (target <= 128 MiB, flat in image size). Simulation: 1 MiB image, " +
        "1,000 in-process stand-in endpoints, real clock.",
    });
  } finally {
    await cleanup(made, mark);
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
}
