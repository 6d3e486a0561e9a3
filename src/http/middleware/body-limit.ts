import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ArchwayError } from "../../errors.js";
import type { AppEnv } from "../env.js";

/** 413 for a body over `maxSize`, whether declared in Content-Length or streamed. */
export function limitBody(maxSize: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => {
    throw new ArchwayError("body_too_large", `request body is larger than ${maxSize} bytes`, 413);
  };
  const streamed = bodyLimit({ maxSize, onError: tooLarge });
  return async (c, next) => {
    // Through the Node server a declared length is checked from Node's parsed headers, as Hono's middleware
    // does, but without touching `c.req.raw.body`: that would build a WHATWG Request and a web stream over the
    // body for every POST, and leave the body readable only through them. Node's parser ends the body at
    // Content-Length, so the declared size is the size.
    const headers = (c.env as Partial<AppEnv["Bindings"]> | undefined)?.incoming?.headers;
    const declared = headers?.["content-length"];
    if (declared !== undefined && headers?.["transfer-encoding"] === undefined) {
      return Number.parseInt(declared, 10) > maxSize ? tooLarge() : next();
    }
    return streamed(c, next);
  };
}
