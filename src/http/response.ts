import { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from "node:http";

/**
 * Node's `ServerResponse` with one addition, {@link GatewayResponse.presetHeader}: headers known before the
 * answer (the request id, a validated token) are kept aside and joined to the header block `writeHead` is given.
 * With Node's own `setHeader` every header of the answer would then go through Node's progressive path (each
 * validated and stored again, one by one), about a tenth of a health probe's cost. The server creates its
 * responses from this class (`startServer`).
 */
export class GatewayResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  #preset: Record<string, string> | undefined;

  /** Adds a header to the answer; a header of the same name in the answer itself is replaced. */
  presetHeader(name: Lowercase<string>, value: string): void {
    this.#preset ??= {};
    this.#preset[name] = value;
  }

  override writeHead(
    statusCode: number,
    statusMessage?: string,
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this;
  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    obj?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const preset = this.#preset;
    this.#preset = undefined;
    const given = typeof reason === "string" ? obj : reason;
    if (preset && given && !Array.isArray(given)) {
      // A copy, never the caller's object: a Response reused across requests must not carry one request's token
      // into another's answer.
      const merged = withPreset(given, preset);
      return typeof reason === "string"
        ? super.writeHead(statusCode, reason, merged)
        : super.writeHead(statusCode, merged);
    }
    if (preset) for (const name in preset) this.setHeader(name, preset[name] as string);
    return typeof reason === "string" ? super.writeHead(statusCode, reason, obj) : super.writeHead(statusCode, reason);
  }
}

function withPreset(given: OutgoingHttpHeaders, preset: Record<string, string>): OutgoingHttpHeaders {
  const merged: OutgoingHttpHeaders = {};
  for (const name in given) {
    // Header names in Node's records may be in any case; a preset one replaces its namesake whatever the case.
    if (!Object.hasOwn(preset, name.toLowerCase())) merged[name] = given[name];
  }
  for (const name in preset) merged[name] = preset[name];
  return merged;
}
