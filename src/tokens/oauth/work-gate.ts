/**
 * Runs expensive work (scrypt checks of client secrets) at most `concurrency` at a time, with at most `queue` jobs
 * waiting; a job beyond both is refused at once rather than queued. scrypt runs on libuv's thread pool (4 threads by
 * default), which password logins, file reads and DNS lookups share: 100 parallel wrong secrets queued there made an
 * unrelated login wait 9 s. Bounding the work here keeps pool threads free for everyone else.
 */
export class WorkGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** `work()`'s result, or `undefined` without running it when the gate and its queue are full. */
  async run<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.queue) return undefined;
      // The slot is handed over by the job that ends (#running stays counted), so no newcomer can take it first.
      await new Promise<void>((resume) => this.#waiting.push(resume));
    } else {
      this.#running++;
    }
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
