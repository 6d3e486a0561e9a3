import { performance } from "node:perf_hooks";

/**
 * Below this many milliseconds of waiting for I/O since the previous call, the event loop counts as saturated.
 * A lone client's next request takes a loopback round trip (well over 0.1 ms here) to arrive, so the loop waits
 * between its requests; under concurrent load the next request is already there and epoll returns at once.
 */
const SATURATED_BELOW_MS = 0.02;

/**
 * A check answering whether the event loop has gone without waiting for I/O since the check last ran, i.e.
 * whether other work is queued behind the caller. Token signing asks it (see `offloadSigning` of TokenService):
 * a signature done inline is quickest for a lone request, one done on the thread pool lets queued requests go
 * on meanwhile and puts a second core to use. The figure is libuv's own idle-time metric, read in a microsecond.
 */
export function loopSaturation(): () => boolean {
  let lastIdle = performance.eventLoopUtilization().idle;
  return () => {
    const idle = performance.eventLoopUtilization().idle;
    const waited = idle - lastIdle;
    lastIdle = idle;
    return waited < SATURATED_BELOW_MS;
  };
}
