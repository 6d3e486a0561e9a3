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
 * length) passes on still streaming, counted as it is read: whoever reads past the limit (a handler parsing JSON,
 * the proxy sending it to a cloud) gets {@link bodyTooLarge} from the stream, so an upload is never held in
 * memory whole. Requests without a body pass untouched and pay nothing.
 */
export function limitBody(request: Request, headers: RequestHeaders, maxSize: number, viaNode: boolean): Request {
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
  return counted(request, maxSize);
}

/** The same request over its body, which errors with {@link bodyTooLarge} once more than `maxSize` bytes pass. */
function counted(request: Request, maxSize: number): Request {
  const body = request.body;
  if (!body) return request;
  let size = 0;
  const limited = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > maxSize) controller.error(bodyTooLarge(maxSize));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Request(request, { body: limited, duplex: "half" } as RequestInit);
}
