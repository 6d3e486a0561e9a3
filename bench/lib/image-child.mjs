// The Archway side of `bench image-sync`, in its own process on the compiled build (dist/, as production runs it;
// no tsx): it loads only what a transfer needs (the OpenStack clients and the streaming code of src/images, not the
// gateway app, the policy engine or the status store), gets each cloud's token and Glance URL first (the curl side
// gets them before its clock starts too), then streams one image to every cloud (create, upload, verify) and prints
// one JSON line: the seconds, the CPU it spent, and its memory from the kernel (VmHWM: the peak resident set).
// Input on stdin (credentials never on the command line): { dist, clouds, path, sha512, expected?, mark, options }
// (`expected`: the file's known digests, as the sync resource passes a file's cached ones).
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const { createCloudClients, createGlanceClient } = await import(`${input.dist}/openstack/index.js`);
// context.js + stream.js are what ImageTransfers.stream runs; its index also exports the status store (ioredis).
const { TransferContext } = await import(`${input.dist}/images/context.js`);
const { streamImage } = await import(`${input.dist}/images/stream.js`);

/** Kilobyte fields of /proc/self/status, in bytes. */
function status(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

const made = input.clouds.map((cloud) => {
  const clients = createCloudClients(cloud);
  const { glance, close } = createGlanceClient(clients);
  return { cloudId: cloud.id, clients, glance, close };
});
try {
  await Promise.all(
    made.map(async ({ clients, cloudId }) => {
      await clients.keystone.token();
      await clients.keystone.endpoint("image", { region: cloudId });
    }),
  );
  const baseline = status("VmRSS");
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await streamImage(new TransferContext(input.options ?? {}), {
    source: { kind: "file", path: input.path, pin: { algorithm: "sha512", value: input.sha512 } },
    image: { name: "bench-archway", diskFormat: "raw", containerFormat: "bare" },
    mark: input.mark,
    ...(input.expected ? { expected: input.expected } : {}),
    targets: made.map(({ cloudId, glance }) => ({ cloudId, glance })),
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bad = report.outcomes.filter((o) => !o.ok);
  if (bad.length > 0) throw new Error(`archway transfer failed: ${JSON.stringify(bad)}`);
  process.stdout.write(
    `${JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRss: status("VmHWM"), baseline })}\n`,
  );
  for (const { glance } of made) {
    for (const img of await glance.list({ properties: input.mark })) await glance.delete(img.id);
  }
} finally {
  for (const m of made) {
    await m.close();
    await m.clients.close();
  }
}
