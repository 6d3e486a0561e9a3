import type { request } from "undici";
import { forwardableHeaders } from "../proxy-headers.js";
import { prepend, readUpTo, streamOf } from "./streams.js";

/** JSON replies up to this size are rewritten so that their links point back through the proxy. */
const REWRITE_LIMIT = 1024 * 1024;

/** What {@link answerFrom} needs to know of the proxied request. */
export interface AnswerContext {
  method: string;
  /** The real URL the request went to (a relative `Location` is read against it). */
  target: URL;
  /** The origin of the cloud's endpoint, replaced by `proxiedBase` in links. */
  realOrigin: string;
  /** `<publicUrl>/clouds/<cloud>/<service>`. */
  proxiedBase: string;
  /** Runs once the cloud's body has been read to its end (or the client's answer was cancelled). */
  done: () => void;
}

/**
 * The client's answer from the cloud's: headers filtered, `Location` and links in small JSON bodies pointed back
 * through the proxy, anything larger streamed as it comes. A `Location` off the catalog is dropped.
 */
export async function answerFrom(upstream: Awaited<ReturnType<typeof request>>, ctx: AnswerContext): Promise<Response> {
  const out = new Headers();
  for (const [name, value] of forwardableHeaders(Object.entries(upstream.headers))) out.append(name, value);
  const location = out.get("location");
  if (location) {
    const rewritten = rewriteLocation(location, ctx.target, ctx.realOrigin, ctx.proxiedBase);
    if (rewritten) out.set("location", rewritten);
    else out.delete("location"); // pointing off the catalog: never hand the client a redirect elsewhere
  }
  if ([204, 304].includes(upstream.statusCode) || ctx.method === "HEAD") {
    await upstream.body.dump();
    ctx.done();
    return new Response(null, { status: upstream.statusCode, headers: out });
  }
  if ((out.get("content-type") ?? "").includes("json")) {
    const { head, rest } = await readUpTo(upstream.body, REWRITE_LIMIT);
    if (!rest) {
      ctx.done();
      out.delete("content-length"); // the rewritten body has its own length
      return new Response(Buffer.concat(head).toString("utf8").split(ctx.realOrigin).join(ctx.proxiedBase), {
        status: upstream.statusCode,
        headers: out,
      });
    }
    return new Response(streamOf(prepend(head, rest), ctx.done), { status: upstream.statusCode, headers: out });
  }
  return new Response(streamOf(upstream.body, ctx.done), { status: upstream.statusCode, headers: out });
}

function rewriteLocation(location: string, target: URL, realOrigin: string, proxiedBase: string): string | null {
  let url: URL;
  try {
    url = new URL(location, target);
  } catch {
    return null;
  }
  if (url.origin !== realOrigin) return null;
  return `${proxiedBase}${url.pathname}${url.search}`;
}
