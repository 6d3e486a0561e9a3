import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { IdentitySource, UnlockResult, UnlockVia } from "../../identity/index.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { AdminOnly, CsrfField, Layout, Notice, PostButton, renderPage } from "./layout.js";
import { person, readForm, requireAdmin, requirePage, type WebContext, type WebEnv } from "./security.js";

/** Who to unlock: a username in any spelling, a stable identity id, or a subject the lockout list shows. */
export const UnlockRequestSchema = z.object({ person: z.string().min(1, "name a person").max(512) });

const SCOPES: Record<string, string> = {
  user_address: "username from one address refused",
  user: "username slowed down",
  address: "address slowed down",
};

/**
 * Clears a person's sign-in limits for an administrator (the page and the API share it), refusing a person no
 * source knows when nothing was held. Audited and counted by the guard.
 */
export async function unlockFor(c: WebContext, deps: WebDeps, who: string, via: UnlockVia): Promise<UnlockResult> {
  const sources = [...new Set<IdentitySource>([...deps.passwordSources, ...deps.lookupSources])];
  const result = await deps.guard.unlock(who, { sources, actor: person(c).identity.username, via });
  if (!result.known) throw new ArchwayError("not_found", `no identity source knows '${who}' and nothing was held`, 404);
  return result;
}

/** The person page of a lockout's subject (`person:<id>` or `name:<source>:<folded username>`). */
export function personLink(subject: string): string {
  return `/admin/people?person=${encodeURIComponent(subject)}`;
}

/** `/admin/lockouts`: recent sign-in lockouts and delays, and a CSRF-protected form to unlock a person. */
export function adminLockoutRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/lockouts", requirePage(deps), requireAdmin(deps));
  app.use("/admin/lockouts/*", requirePage(deps), requireAdmin(deps));

  app.get("/admin/lockouts", async (c) => {
    const user = pageUser(deps, c);
    const recent = await deps.guard.recent(200);
    const unlocked = c.req.query("unlocked");
    return renderPage(
      c,
      <Layout title="Sign-in lockouts" user={user} current="admin">
        <Notice
          kind="ok"
          text={unlocked ? `Unlocked ${unlocked}: ${c.req.query("cleared") ?? 0} limit(s) cleared.` : undefined}
        />
        <AdminOnly user={user}>
          <form method="post" action="/admin/lockouts/unlock" class="card" aria-label="Unlock a person">
            <CsrfField token={user.csrf} />
            <label for="unlock-person">Username or identity id</label>
            <input id="unlock-person" type="text" name="person" required />
            <button type="submit">Unlock</button>
          </form>
        </AdminOnly>
        <h2>Recent</h2>
        {recent.length === 0 ? <p class="muted">No sign-in limit has been reached recently.</p> : null}
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Who</th>
                <th scope="col">Address</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {recent.map((r) => (
                <tr data-subject={r.subject ?? ""}>
                  <td class="nowrap">{r.at.slice(0, 19).replace("T", " ")}</td>
                  <td>
                    {SCOPES[r.scope] ?? r.scope} <span class="muted">({r.kind})</span>
                  </td>
                  <td class="mono">{r.subject ? <a href={personLink(r.subject)}>{r.subject}</a> : ""}</td>
                  <td class="mono">{r.address ?? ""}</td>
                  <td>
                    {r.subject && !user.readOnly ? (
                      <PostButton
                        action="/admin/lockouts/unlock"
                        csrf={user.csrf}
                        fields={{ person: r.subject }}
                        label="Unlock"
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  app.post("/admin/lockouts/unlock", async (c) => {
    const form = await readForm(c, deps, UnlockRequestSchema);
    const result = await unlockFor(c, deps, form.person, "web");
    const query = new URLSearchParams({ unlocked: form.person, cleared: String(result.cleared) });
    return c.redirect(`/admin/lockouts?${query}`, 303);
  });
  return app;
}
