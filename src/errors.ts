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

/** The error code of a store (Redis) that is down, hung or refusing writes: a 503 the client may retry. */
export const STORE_UNAVAILABLE = "store_unavailable";

/** Seconds a client should wait before retrying after {@link STORE_UNAVAILABLE}; a reconnect takes about that. */
export const STORE_RETRY_AFTER_SECONDS = 1;

/** The 503 every surface answers when the store cannot be reached; `cause` is the driver's error (logged, not shown). */
export function storeUnavailable(cause?: unknown): ArchwayError {
  return new ArchwayError(
    STORE_UNAVAILABLE,
    "the session store is unavailable; retry in a moment (your token is not affected)",
    503,
    { cause },
  );
}

/** The `Retry-After` value (seconds) for an error, when a retry is expected to succeed soon. */
export function retryAfterOf(err: unknown): string | undefined {
  return isArchwayError(err) && err.code === STORE_UNAVAILABLE ? String(STORE_RETRY_AFTER_SECONDS) : undefined;
}

/**
 * A `.catch` handler that turns a failure into `fallback`, except a store outage, which is rethrown: "the token
 * is not active" must not be the answer when the store merely could not be asked.
 */
export function unlessStoreUnavailable<T>(fallback: T): (err: unknown) => T {
  return (err) => {
    if (isArchwayError(err) && err.code === STORE_UNAVAILABLE) throw err;
    return fallback;
  };
}
