import { withCloudProjectBody } from "./project-ids.js";

/** `application/json` and `application/<anything>+json`: bodies that may name the project (see project-ids.ts). */
export function isJsonBody(contentType: string | undefined): boolean {
  return /^application\/(?:json|[^;\s]*\+json)\s*(?:;|$)/i.test(contentType ?? "");
}

/**
 * A JSON request body, read whole, with the facade's ids of the token's project replaced by the cloud's (see
 * {@link withCloudProjectBody}). Reading is bounded by the server's body limit (`http.bodyLimitBytes`, checked on
 * the way in: a longer body fails the read with that limit's 413 error); other bodies keep streaming untouched.
 * `headers` gets the new `content-length` when the length changed.
 */
export async function cloudProjectBody(
  body: ReadableStream<Uint8Array>,
  headers: Record<string, string>,
  facadeIds: readonly string[],
  cloudProjectId: string | undefined,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const sent = Buffer.concat(chunks);
  const mapped = withCloudProjectBody(sent, facadeIds, cloudProjectId);
  if (mapped !== sent || headers["content-length"] !== undefined) headers["content-length"] = String(mapped.length);
  return mapped;
}
