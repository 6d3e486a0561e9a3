import { ArchwayError } from "../../errors.js";
import { headerOf, type RequestHeaders } from "../env.js";

/** The error every over-limit body gets, whichever way its size was found. */
export function bodyTooLarge(maxSize: number): ArchwayError {
  return new ArchwayError("body_too_large", `request body is larger than ${maxSize} bytes`, 413);
}

/**
 * Checks a request body against `maxSize` before any route sees it. A declared Content-Length is compared
 * without reading anything (Node's parser ends the body at that length, so the declared size is the size): the
 * request passes on as it is, or the error is thrown. A streamed body (chunked, or a WHATWG request without a
 * length) is read up to the limit and handed on as a new request over the bytes read, as Hono's own body-limit
 * does. Requests without a body pass untouched and pay nothing.
 */
export function limitBody(
  request: Request,
  headers: RequestHeaders,
  maxSize: number,
  viaNode: boolean,
): Request | Promise<Request> {
  const declared = headerOf(headers, "content-length");
  const chunked = headerOf(headers, "transfer-encoding") !== undefined;
  if (declared !== undefined && !chunked) {
    if (Number.parseInt(declared, 10) > maxSize) throw bodyTooLarge(maxSize);
    return request;
  }
  // Through Node a body is announced by one of the two headers; without either there is none to read (and
  // touching `request.body` would build a WHATWG Request and stream for nothing).
  if (viaNode && !chunked) return request;
  if (!viaNode && (request.body === null || request.method === "GET" || request.method === "HEAD")) return request;
  return buffered(request, maxSize);
}

async function buffered(request: Request, maxSize: number): Promise<Request> {
  const body = request.body;
  if (!body) return request;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxSize) {
      await reader.cancel().catch(() => undefined);
      throw bodyTooLarge(maxSize);
    }
    chunks.push(value);
  }
  return new Request(request, { body: Buffer.concat(chunks, size) });
}
