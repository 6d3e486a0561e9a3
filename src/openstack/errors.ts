import { ArchwayError } from "../errors.js";

/** Which OpenStack service a call went to. */
export type OpenStackService = "keystone" | "nova" | "cinder" | "neutron" | "glance";

/**
 * An OpenStack call that failed. Besides the stable `code` it says which cloud, which operation
 * (`keystone.users.create`) and which upstream HTTP status (0 when no reply came), so an operator can act on it.
 *
 * Codes: `cloud_unavailable` (503: no answer, timeout, reset, 5xx after retries, 429 after retries),
 * `<service>_not_found` (404), `<service>_conflict` (409), `<service>_unauthorized` (401/403),
 * `<service>_invalid_reply` (502: a reply that does not match its schema), `<service>_error` (other statuses).
 */
export class OpenStackError extends ArchwayError {
  readonly cloudId: string;
  readonly operation: string;
  /** Upstream HTTP status; 0 when the request got no reply. */
  readonly upstreamStatus: number;

  constructor(
    code: string,
    message: string,
    status: number,
    info: { cloudId: string; operation: string; upstreamStatus: number },
    options?: { cause?: unknown },
  ) {
    super(code, message, status, options);
    this.name = "ArchwayError";
    this.cloudId = info.cloudId;
    this.operation = info.operation;
    this.upstreamStatus = info.upstreamStatus;
  }
}

/** True for an {@link OpenStackError} with the given upstream status. */
export function isUpstreamStatus(err: unknown, status: number): err is OpenStackError {
  return err instanceof OpenStackError && err.upstreamStatus === status;
}

/** Maps an upstream HTTP status to a stable code and the status Archway reports. */
export function codeForStatus(service: OpenStackService, status: number): { code: string; status: number } {
  if (status === 404) return { code: `${service}_not_found`, status: 404 };
  if (status === 409) return { code: `${service}_conflict`, status: 409 };
  if (status === 401 || status === 403) return { code: `${service}_unauthorized`, status: 502 };
  if (status === 429 || status >= 500) return { code: "cloud_unavailable", status: 503 };
  return { code: `${service}_error`, status: 502 };
}

/** Pulls the human part out of an OpenStack error body (`{"error":{"message":...}}` or Nova's shapes). */
export function upstreamMessage(body: unknown): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  for (const value of Object.values(body as Record<string, unknown>)) {
    if (value && typeof value === "object" && typeof (value as { message?: unknown }).message === "string") {
      // Cap it: upstream messages can echo request bodies, and a log line should stay a line.
      return (value as { message: string }).message.slice(0, 300);
    }
  }
  return undefined;
}
