import { Hono } from "hono";
import { z } from "zod";
import { isArchwayError } from "../../errors.js";
import { requestLog } from "../env.js";
import { adminRole, type WebDeps } from "./deps.js";
import { CsrfField, Layout, Notice, type PageUser, PostButton, renderPage, when } from "./layout.js";
import { type MyCloud, type MyKey, myClouds, myKeys, syncMyKeys } from "./overview.js";
import { person, readForm, requirePage, sessionStrength, type WebContext, type WebEnv } from "./security.js";
import { mySessions, SessionsTable } from "./sessions.js";

const AddKeyForm = z.object({ publicKey: z.string().min(1, "paste a public key").max(8192) });
const RemoveKeyForm = z.object({ fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/) });

const OK: Record<string, string> = {
  key_added: "Key added and sent to your clouds.",
  key_removed: "Key removed from Archway and from your clouds.",
  session_ended: "Session ended: its tokens and grants no longer work.",
};

/** The page user of the header (name, admin link, sign-out CSRF token). */
export function pageUser(deps: Pick<WebDeps, "sessions" | "isAdmin" | "isAuditor">, c: WebContext): PageUser {
  const p = person(c);
  const role = adminRole(deps, p.identity);
  return {
    username: p.identity.username,
    displayName: p.identity.displayName,
    isAdmin: role !== null,
    ...(role === "auditor" ? { readOnly: true } : {}),
    csrf: p.sessionId ? deps.sessions.csrfToken({ sessionId: p.sessionId }) : "",
  };
}

const syncText: Record<MyCloud["sync"]["state"], [string, string]> = {
  ok: ["state-ok", "in sync"],
  degraded: ["state-bad", "degraded"],
  never: ["state-warn", "not synced yet"],
};

const CloudsTable = ({ clouds }: { clouds: MyCloud[] }) => (
  <div class="scroll">
    <table>
      <caption class="muted">Clouds and projects your access policies grant</caption>
      <thead>
        <tr>
          <th scope="col">Cloud</th>
          <th scope="col">Projects and roles</th>
          <th scope="col">SSH keys</th>
          <th scope="col">Sync</th>
        </tr>
      </thead>
      <tbody>
        {clouds.map((cloud) => (
          <tr data-cloud={cloud.cloudId}>
            <th scope="row">
              {cloud.name}
              {cloud.name !== cloud.cloudId ? <span class="muted"> ({cloud.cloudId})</span> : null}
            </th>
            <td>
              {cloud.projects.map((p) => (
                <div>
                  <code>{p.name}</code>{" "}
                  {p.roles.map((r) => (
                    <span class="pill">{r}</span>
                  ))}
                </div>
              ))}
            </td>
            <td>{cloud.keys ? "imported" : <span class="muted">not imported</span>}</td>
            <td>
              <span class={syncText[cloud.sync.state][0]}>{syncText[cloud.sync.state][1]}</span>
              <div class="muted">last success: {when(cloud.sync.lastSuccessAt)}</div>
              {cloud.sync.lastError ? <div class="muted">{cloud.sync.lastError}</div> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

const KeysTable = ({ keys, csrf }: { keys: MyKey[]; csrf: string }) =>
  keys.length === 0 ? (
    <p class="muted">You have not added any keys here.</p>
  ) : (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">In your clouds</th>
            <th scope="col">
              <span class="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <tr data-fingerprint={k.fingerprint}>
              <td>
                <div>
                  <strong class="key-comment">{k.comment || "(no comment)"}</strong>
                </div>
                <div class="muted">
                  {k.type}, {k.bits} bits, added {when(k.addedAt)}
                </div>
                <code>{k.fingerprint}</code>
              </td>
              <td>
                {k.clouds.length === 0 ? <span class="muted">no policy imports your keys</span> : null}
                {k.clouds.map((s) => (
                  <div>
                    {s.cloudId}:{" "}
                    <span class={s.state === "synced" ? "state-ok" : s.state === "failed" ? "state-bad" : "state-warn"}>
                      {s.state}
                    </span>
                    {s.state === "failed" && s.detail ? <span class="muted"> ({s.detail})</span> : null}
                  </div>
                ))}
              </td>
              <td>
                <PostButton
                  action="/keys/remove"
                  csrf={csrf}
                  fields={{ fingerprint: k.fingerprint }}
                  label="Remove"
                  kind="danger"
                  ariaLabel={`Remove key ${k.comment || k.fingerprint}`}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );

/** `/` (my clouds, clouds.yaml, SSH keys) and the key forms behind it. */
export function homeRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/", requirePage(deps));
  app.use("/keys/*", requirePage(deps));

  // The key change is stored either way; a cloud that is down gets it on the next run, and the page says so.
  const resync = (c: WebContext) =>
    syncMyKeys(deps, person(c).identity).catch((err: Error) => {
      requestLog(c).warn({ err: err.message }, "key sync after a change failed");
    });

  const page = async (c: WebContext, opts: { error?: string; ok?: string; keyText?: string; status?: 200 | 400 }) => {
    const user = pageUser(deps, c);
    const identity = person(c).identity;
    const clouds = await myClouds(deps, identity, sessionStrength(c));
    const keys = await myKeys(deps, identity, clouds);
    const directoryKeys = identity.sshKeys.length;
    const sessions = await mySessions(deps, c);
    return renderPage(
      c,
      <Layout title="My clouds" user={user} current="home">
        <Notice kind="error" text={opts.error} />
        <Notice kind="ok" text={opts.ok ? OK[opts.ok] : undefined} />
        {clouds.length === 0 ? (
          <p>No access policy grants you anything yet. Ask your operators which group you need.</p>
        ) : (
          <CloudsTable clouds={clouds} />
        )}
        <h2>Use them from the command line</h2>
        <p>
          One entry per cloud and project, all through Archway. Save it as <code>~/.config/openstack/clouds.yaml</code>,
          then run <code>openstack --os-cloud NAME server list</code>.
        </p>
        <a class="button" href="/api/v1/me/clouds.yaml" download="clouds.yaml">
          Download clouds.yaml
        </a>{" "}
        <a href="/app-credentials">Application credentials</a> for tools that must reach a cloud directly.{" "}
        {deps.mfa ? <a href="/mfa">Second factors</a> : null}
        <p>
          <a href="/passkeys">Passkeys and security keys</a>: sign in without a password, or as a second step.
        </p>
        <h2 id="keys">SSH keys</h2>
        <p class="muted">
          Keys you add here are imported as keypairs into the clouds whose policies import keys.
          {directoryKeys > 0 ? ` Your directory also provides ${directoryKeys} key(s), managed there.` : ""}
        </p>
        <KeysTable keys={keys} csrf={user.csrf} />
        <form method="post" action="/keys" class="card">
          <CsrfField token={user.csrf} />
          <label for="publicKey">Add a public key</label>
          <textarea id="publicKey" name="publicKey" required placeholder="ssh-ed25519 AAAA... you@laptop">
            {opts.keyText ?? ""}
          </textarea>
          <p class="muted">ssh-ed25519, ecdsa-sha2-nistp256/384/521, or ssh-rsa of 2048 bits or more.</p>
          <button type="submit">Add key</button>
        </form>
        <h2 id="sessions">Sessions and offline access</h2>
        <p class="muted">
          Your sign-ins, and applications you let act for you while you are away (offline access, which signing out does
          not end). Ending one ends every token made under it.
        </p>
        <SessionsTable sessions={sessions} csrf={user.csrf} action="/sessions/end" />
      </Layout>,
      opts.status ?? 200,
    );
  };

  app.get("/", (c) => {
    const ok = c.req.query("ok");
    return page(c, { ok: ok && ok in OK ? ok : undefined });
  });

  app.post("/keys", async (c) => {
    const form = await readForm(c, deps, AddKeyForm);
    const { identity } = person(c);
    try {
      const key = await deps.keys.add(identity, form.publicKey);
      await deps.audit({ type: "keys.added", actor: identity.username, fingerprint: key.fingerprint });
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      return page(c, { error: err.message, keyText: form.publicKey, status: 400 });
    }
    await resync(c);
    return c.redirect("/?ok=key_added#keys", 303);
  });

  app.post("/keys/remove", async (c) => {
    const form = await readForm(c, deps, RemoveKeyForm);
    const { identity } = person(c);
    if (await deps.keys.remove(identity.id, form.fingerprint)) {
      await deps.audit({ type: "keys.removed", actor: identity.username, fingerprint: form.fingerprint });
      await resync(c);
    }
    return c.redirect("/?ok=key_removed#keys", 303);
  });
  return app;
}
