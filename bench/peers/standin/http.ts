// Request and reply helpers shared by the stand-in's services.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudState } from "./state.js";

export type Json = Record<string, unknown>;

/** One call as a service sees it: the method, the path segments after the service prefix, the query, the body. */
export interface Call {
  method: string;
  /** Segments after the service's prefix, e.g. ["projects", "<id>", "users", "<id>", "roles", "<id>"]. */
  parts: string[];
  query: URLSearchParams;
  body(): Promise<Json>;
  /** `http://host/<cloud>`: where this cloud's services live (for catalogs and links). */
  base: string;
}

/** What a service answers: a status and an optional JSON body (and headers). */
export interface Answer {
  status: number;
  data?: unknown;
  headers?: Record<string, string>;
}

export const ok = (data?: unknown, status = 200): Answer => ({ status, data });
export const fail = (status: number, message = "stand-in"): Answer => ({
  status,
  data: { error: { code: status, message } },
});
export const notFound = (): Answer => fail(404, "not found");
export const conflict = (): Answer => fail(409, "conflict");

export async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Json) : {};
}

export function reply(res: ServerResponse, answer: Answer): void {
  const text = answer.data === undefined ? "" : JSON.stringify(answer.data);
  res.writeHead(answer.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...answer.headers,
  });
  res.end(text);
}

/** True when `o[field]` equals the query parameter for every parameter present. */
export const matches = (o: Json, q: URLSearchParams, fields: Record<string, string>) =>
  Object.entries(fields).every(([param, field]) => !q.has(param) || o[field] === q.get(param));

/** A service's routes: a pattern for {@link at} and what answers it (with the pattern's ids). */
export type Routes = [string, (c: CloudState, call: Call, ids: string[]) => Promise<Answer>][];

/** The answer of the first route whose pattern matches, or null. */
export async function dispatch(routes: Routes, c: CloudState, call: Call): Promise<Answer | null> {
  for (const [pattern, answer] of routes) {
    const ids = at(call, pattern);
    if (ids) return answer(c, call, ids);
  }
  return null;
}

/**
 * The ids of a call that matches `pattern` (`METHOD seg/:id/seg`, `:`-segments match anything), or null. One
 * string per `:` segment, in order.
 */
export function at(call: Call, pattern: string): string[] | null {
  const [method, path = ""] = pattern.split(" ");
  if (method !== call.method) return null;
  const want = path.split("/").filter(Boolean);
  if (want.length !== call.parts.length) return null;
  const ids: string[] = [];
  for (const [i, seg] of want.entries()) {
    const got = call.parts[i] as string;
    if (seg.startsWith(":")) ids.push(got);
    else if (seg !== got) return null;
  }
  return ids;
}
