import { retryAfterOf } from "../../errors.js";
import { type Identity, keystoneMethods } from "../../identity/index.js";
import type { ArchwayClaims, ProjectScope } from "../../tokens/index.js";
import { requestHeader, setResponseHeader } from "../env.js";
import {
  type FacadeCaller,
  type FacadeDeps,
  type FacadeHandler,
  facadeCaller,
  jsonText,
  KeystoneHttpError,
} from "./caller.js";
import type { FacadeCatalogs } from "./facade-catalog.js";
import { tokenJson } from "./shapes.js";

/** `GET`/`HEAD /v3/auth/tokens`: validates `X-Subject-Token` for the holder of `X-Auth-Token`. */
export function validateToken(deps: FacadeDeps, catalogs: FacadeCatalogs): FacadeHandler {
  /**
   * The catalog-less answer serialized once per verified token, while the session's identity and the scoped
   * project are the very objects it was built from: the session and entitlement caches hand out the same objects
   * until they refresh, and the claims object is the token service's cached verification of that token.
   */
  const answers = new WeakMap<ArchwayClaims, { identity: Identity; scoped?: ProjectScope; json: string }>();
  const catalogLess = (subject: FacadeCaller): string => {
    const hit = answers.get(subject.claims);
    if (hit && hit.identity === subject.identity && hit.scoped === subject.scoped) return hit.json;
    const json = validationJson(subject, undefined);
    answers.set(subject.claims, { identity: subject.identity, scoped: subject.scoped, json });
    return json;
  };

  return async (c) => {
    const authToken = requestHeader(c, "x-auth-token");
    const caller = await facadeCaller(deps, authToken, c);
    const subjectToken = requestHeader(c, "x-subject-token");
    // A client validating its own token (the common case) is checked once.
    const subject =
      subjectToken === authToken
        ? caller
        : await facadeCaller(deps, subjectToken).catch((err: unknown) => {
            // A store outage is a 503 (see keystoneFailure), never "no such token".
            throw retryAfterOf(err) !== undefined ? err : new KeystoneHttpError(404, "Could not find token.");
          });
    if (c.req.method === "HEAD") return c.body(null, 200);
    setResponseHeader(c, "x-subject-token", subjectToken ?? "");
    // Every check above ran for this request; only the serialization of unchanged parts is reused.
    if (c.req.query("nocatalog") !== undefined || !subject.scoped) return jsonText(c, catalogLess(subject), 200);
    return jsonText(c, validationJson(subject, (await catalogs.of(subject.scoped)).json), 200);
  };
}

/**
 * `DELETE /v3/auth/tokens`: revokes `X-Subject-Token`, which must be the caller's own, with its whole audit chain:
 * the first token of the chain and every token re-scoped from it (Keystone's `audit_chain_id`). The login session
 * goes on; other chains of it (other password logins are other sessions) are untouched.
 */
export function revokeToken(deps: FacadeDeps): FacadeHandler {
  return async (c) => {
    const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
    const subject = await facadeCaller(deps, requestHeader(c, "x-subject-token")).catch((err: unknown) => {
      throw retryAfterOf(err) !== undefined ? err : new KeystoneHttpError(404, "Could not find token.");
    });
    if (subject.identity.id !== caller.identity.id)
      throw new KeystoneHttpError(403, "you may only revoke your own tokens");
    await deps.tokens.revokeChain(subject.claims, subject.identity.username);
    return c.body(null, 204);
  };
}

/** The token document answering a validation of `subject`'s token. */
function validationJson(subject: FacadeCaller, catalogJson: string | undefined): string {
  return tokenJson(
    {
      identity: subject.identity,
      methods: keystoneMethods(subject.amr, typeof subject.claims.ach === "string"),
      auditIds:
        typeof subject.claims.ach === "string" ? [subject.claims.jti, subject.claims.ach] : [subject.claims.jti],
      issuedAt: subject.claims.iat * 1000,
      expiresAt: subject.claims.exp * 1000,
      project: subject.scoped,
    },
    catalogJson,
  );
}
