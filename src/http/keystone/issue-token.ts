import { isArchwayError } from "../../errors.js";
import {
  archwayAcr,
  type Identity,
  keystoneMethods,
  type PasswordSource,
  retryAfterOf,
  satisfiesMfa,
} from "../../identity/index.js";
import { auditChain, type Entitlements, entitlementsOf, FACADE_DOMAIN, type ProjectScope } from "../../tokens/index.js";
import { clientIp, noteRequest, requestJson, setResponseHeader } from "../env.js";
import { type AuthRequest, AuthRequestSchema } from "./auth-request.js";
import {
  FACADE_AUDIENCE,
  type FacadeDeps,
  type FacadeHandler,
  facadeCaller,
  jsonText,
  KeystoneHttpError,
} from "./caller.js";
import type { FacadeCatalogs } from "./facade-catalog.js";
import { fromReceipt, secondFactor } from "./receipt.js";
import { tokenJson } from "./shapes.js";

/**
 * `POST /v3/auth/tokens`: a password checked against the identity sources, or an Archway token (re-scoping);
 * unscoped or scoped to one facade project (by id, or by name and domain); the catalog unless `nocatalog`. A
 * password starts a login session; a token made from a token stays in its session and its audit chain and expires
 * no later than the token it came from (as Keystone's do): re-scoping never extends a chain.
 */
export function issueToken(deps: FacadeDeps, catalogs: FacadeCatalogs): FacadeHandler {
  return async (c) => {
    const parsed = AuthRequestSchema.safeParse(await requestJson(c));
    if (!parsed.success)
      throw new KeystoneHttpError(
        400,
        `invalid auth request: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
      );
    const { identity: auth, scope } = parsed.data.auth;
    let identity: Identity;
    let sid: string;
    /** The session's RFC 8176 values: a token made from a token keeps its session's, never more. */
    let amr: readonly string[];
    let methods: string[];
    let entitlements: Entitlements | undefined;
    // The chain (Keystone's audit_ids) and the latest expiry: a token made from a token keeps the first one's.
    let chain: string | undefined;
    let notAfter: number;
    // Continuing a sign-in with Keystone's auth receipt (the first factor passed in an earlier request).
    const receipt = await fromReceipt(c, deps.mfa);
    let firstFactor: { identity: Identity; methods: string[]; receipt?: string } | undefined;
    if (receipt && !(auth.methods.includes("password") && auth.password))
      firstFactor = { identity: receipt.identity, methods: receipt.methods, receipt: receipt.id };
    if (firstFactor || (auth.methods.includes("password") && auth.password)) {
      firstFactor ??= { identity: await passwordLogin(c, deps, auth.password), methods: ["password"] };
      const second = await secondFactor(c, deps.mfa, {
        ...firstFactor,
        totp: auth.methods.includes("totp") ? auth.totp : undefined,
      });
      if (second.kind === "receipt") return second.response;
      // A receipt completes one sign-in only.
      if (second.receipt && !(await deps.mfa?.pending.take(second.receipt)))
        throw new KeystoneHttpError(401, "The auth receipt is not valid.");
      identity = second.identity;
      const session = await deps.sessions.create(identity, { amr: second.amr });
      sid = session.sid;
      amr = session.amr;
      notAfter = session.absoluteEnd / 1000;
      methods = keystoneMethods(amr);
    } else if (auth.methods.includes("token") && auth.token) {
      const caller = await facadeCaller(deps, auth.token.id, c);
      identity = caller.identity;
      sid = String(caller.claims.sid);
      amr = caller.amr;
      // As Keystone: `token` first, then the methods of the session's sign-in (["token", "password"]).
      methods = keystoneMethods(amr, true);
      chain = auditChain(caller.claims);
      notAfter = caller.claims.exp;
      // The same evaluation of the same session's identity that validated the token: no second one per re-scope.
      entitlements = caller.entitlements;
    } else {
      throw new KeystoneHttpError(401, `unsupported authentication method(s): ${auth.methods.join(", ")}`);
    }
    noteRequest(c, { person: identity.id });
    entitlements ??= entitlementsOf(identity, deps.policies(), { mfa: satisfiesMfa(amr) });
    let project: ProjectScope | undefined;
    const wanted = scope && scope !== "unscoped" ? scope.project : undefined;
    if (scope && scope !== "unscoped" && (scope.domain || scope.system))
      throw new KeystoneHttpError(401, "only project scope is available through Archway");
    if (wanted) {
      // By id, or by facade name: a project (every region where the person holds it) or a `<cloud>:<project>` alias.
      project = wanted.id
        ? entitlements.byId(wanted.id)
        : wanted.name !== undefined && domainMatches(wanted.domain)
          ? entitlements.byName(wanted.name)
          : undefined;
      if (!project) {
        await deps.audit({
          type: "token.refused",
          actor: identity.username,
          reason: "project_not_granted",
          project: wanted.id ?? wanted.name,
        });
        throw new KeystoneHttpError(401, `you have no role on project ${wanted.id ?? wanted.name}`);
      }
    }
    const claims: Record<string, unknown> = { sid, amr: [...amr], acr: archwayAcr(amr) };
    if (chain !== undefined) claims.ach = chain;
    if (project) claims.prj = project.id;
    const issued = await deps.tokens.issue({
      subject: identity.id,
      audience: FACADE_AUDIENCE,
      ttlSeconds: deps.ttlSeconds,
      notAfter,
      claims,
    });
    // The catalog lists the regions of the scoped project only: the token reaches no other cloud.
    const catalog = project && c.req.query("nocatalog") === undefined ? await catalogs.of(project) : undefined;
    const body = tokenJson(
      {
        identity,
        methods,
        auditIds: chain === undefined ? [issued.jti] : [issued.jti, chain],
        issuedAt: Date.now(),
        expiresAt: issued.expiresAt * 1000,
        project,
      },
      catalog?.json,
    );
    setResponseHeader(c, "x-subject-token", issued.token);
    return jsonText(c, body, 201);
  };
}

/** The first factor: a password checked by the sign-in guard, Keystone's 401 when wrong. */
async function passwordLogin(
  c: Parameters<FacadeHandler>[0],
  deps: FacadeDeps,
  password: AuthRequest["auth"]["identity"]["password"],
): Promise<Identity> {
  const user = password?.user;
  if (!user?.name) throw new KeystoneHttpError(400, "password authentication needs a user name");
  const source = pickSource(deps.sources, user.domain?.name ?? user.domain?.id);
  if (!source) throw new KeystoneHttpError(401, "unknown user domain");
  // The name tried, until the login says who it is (then the identity id replaces it).
  noteRequest(c, { person: user.name });
  return deps.guard.login(source, user.name, user.password, clientIp(c)).catch((err) => {
    if (isArchwayError(err) && err.code === "login_failed")
      throw new KeystoneHttpError(401, "The request you have made requires authentication.");
    const retryAfter = retryAfterOf(err);
    if (retryAfter !== undefined) setResponseHeader(c, "retry-after", String(retryAfter));
    throw err;
  });
}

function pickSource(sources: readonly PasswordSource[], domain: string | undefined): PasswordSource | undefined {
  if (!domain || domain.toLowerCase() === "default" || domain === FACADE_DOMAIN.name) return sources[0];
  return sources.find((s) => s.id === domain);
}

function domainMatches(domain: { id?: string; name?: string } | undefined): boolean {
  if (!domain) return true;
  const v = domain.id ?? domain.name;
  return v === undefined || v === FACADE_DOMAIN.id || v.toLowerCase() === "default";
}
