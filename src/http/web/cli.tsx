import { Hono } from "hono";
import type { WebDeps } from "./deps.js";
import { Layout, renderPage } from "./layout.js";
import type { WebEnv } from "./security.js";

/** Where the page lives. */
export const CLI_PATH = "/cli";

/**
 * `/cli`: how to use the openstack CLI without a password, through `archway login` (the device flow, then
 * `v3token` entries in clouds.yaml). Public: it only says what to run, with this Archway's address filled in.
 */
export function cliRoutes(deps: Pick<WebDeps, "publicUrl">) {
  const app = new Hono<WebEnv>();
  app.get(CLI_PATH, (c) => {
    const url = deps.publicUrl;
    return renderPage(
      c,
      <Layout title="Command line">
        <section class="card">
          <h1>The openstack CLI without a password</h1>
          <p>
            Sign in once in a browser (with your company sign-in and second factor); the command writes entries to your
            clouds.yaml.
          </p>
          <ol>
            <li>
              Run <code>archway login --url {url}</code> (add <code>--cloud-prefix P</code> to name the entries
              <code>P&lt;project&gt;-&lt;region&gt;</code>; the default prefix is <code>archway-</code>).
            </li>
            <li>
              Open the page it prints (<code>{url}/device</code>), sign in, check that the code matches and approve.
            </li>
            <li>
              It writes one entry per project and region you hold to <code>~/.config/openstack/clouds.yaml</code> (
              <code>--clouds-file FILE</code> for another), each <code>auth_type: v3token</code> against{" "}
              <code>{url}/v3</code>. Then:{" "}
              <code>openstack --os-cloud archway-&lt;project&gt;-&lt;region&gt; server list</code>
            </li>
          </ol>
          <h2>Keeping it signed in</h2>
          <p>
            The token in the entries lasts minutes. <code>archway login --refresh</code> gets a new one with the refresh
            token kept beside clouds.yaml (<code>archway-login.json</code>, readable by you only) and rewrites the
            entries, adding projects granted since. Run it before a session of commands, or every few minutes from cron
            or a systemd timer. The refresh token lasts until you sign out, or for at most 30 days by default.
          </p>
          <h2>Status and signing out</h2>
          <p>
            <code>archway login --status</code> shows who is signed in, until when, and the entries written.{" "}
            <code>archway login --logout</code> revokes the refresh token and removes those entries (never others). Your
            offline sessions are also listed, and can be ended, on your page.
          </p>
        </section>
      </Layout>,
    );
  });
  return app;
}
