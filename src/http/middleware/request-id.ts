import { randomBytes } from "node:crypto";

/**
 * A source of request ids: a random prefix drawn once per source (64 bits, so two processes never share one in
 * practice) and a counter, as `5f0c9e1b2a7d4e36-1k2`. Unique within the process and across processes, and
 * cheaper than a UUID per request, which drew and formatted 122 random bits on every health probe. A request id
 * names a request in logs; it is no secret and grants nothing, so it need not be unpredictable.
 */
export function requestIds(): () => string {
  const prefix = `${randomBytes(8).toString("hex")}-`;
  let counter = 0;
  return () => prefix + (++counter).toString(36);
}
