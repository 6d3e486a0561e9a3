/**
 * One error type for the whole gateway: a stable machine-readable `code`, a message a person can act on,
 * and the HTTP status it maps to when it surfaces through an API. Messages never carry secrets.
 */
export class ArchwayError extends Error {
  /** Stable identifier (`snake_case`) that scripts can branch on. */
  readonly code: string;
  /** HTTP status used when the error reaches a client. */
  readonly status: number;

  constructor(code: string, message: string, status = 500, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ArchwayError";
    this.code = code;
    this.status = status;
  }
}

/** True when `err` is an {@link ArchwayError} (also across module copies, by shape). */
export function isArchwayError(err: unknown): err is ArchwayError {
  return (
    err instanceof ArchwayError ||
    (err instanceof Error &&
      err.name === "ArchwayError" &&
      typeof (err as { code?: unknown }).code === "string" &&
      typeof (err as { status?: unknown }).status === "number")
  );
}
