import { bodyLimit } from "hono/body-limit";
import { ArchwayError } from "../../errors.js";

/** 413 for a body over `maxSize`, whether declared in Content-Length or streamed. */
export function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ArchwayError("body_too_large", `request body is larger than ${maxSize} bytes`, 413);
    },
  });
}
