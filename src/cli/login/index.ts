import { tokenCloudEntries } from "../../http/index.js";
import { type CliIO, type Command, parseCommandArgs, UsageError } from "../command.js";
import type { LoginStatusReport } from "../reports.js";
import {
  defaultCloudsFile,
  type LoginState,
  readState,
  removeFromCloudsFile,
  removeState,
  updateCloudsFile,
  writeState,
} from "./clouds-file.js";
import { ArchwayOAuth, type Tokens } from "./oauth.js";

const HELP = `Usage:
  archway login --url URL [--cloud-prefix P] [--client-id ID] [--clouds-file FILE]
      password-free sign-in for the openstack CLI: starts Archway's device flow, prints a page and a code to
      approve in a browser (through your SSO and second factor), then writes one clouds.yaml entry per project and
      region you hold, named <P><project>-<region> (P defaults to "archway-"), each 'auth_type: v3token' against
      Archway's /v3 with the access token. Use them as: openstack --os-cloud archway-ops-cloud-2 server list
      --url defaults to $ARCHWAY_URL, or to the URL of the last login; --client-id to archway-cli.
  archway login --refresh [--clouds-file FILE]
      the access token in the entries lasts minutes (idp access token lifetime): this gets a new one with the
      refresh token and rewrites the entries (also adding projects granted since, removing those taken away).
      Run it before a session of openstack commands, or from cron / a systemd timer every few minutes.
  archway login --status [--json] [--clouds-file FILE]
      who is signed in, until when the token in the entries is good, and which entries archway login wrote.
  archway login --logout [--clouds-file FILE]
      revokes the refresh token (ending its offline session and every token of it) and removes the entries
      archway login wrote; entries it did not write are never touched.
  --clouds-file defaults to ~/.config/openstack/clouds.yaml; the state (refresh token, entries written) is kept
  beside it in archway-login.json, mode 0600, and clouds.yaml is made 0600 too (it holds a bearer token).`;

const OPTIONS = {
  url: { type: "string" },
  "cloud-prefix": { type: "string" },
  "client-id": { type: "string" },
  "clouds-file": { type: "string" },
  refresh: { type: "boolean" },
  status: { type: "boolean" },
  logout: { type: "boolean" },
  json: { type: "boolean" },
} as const;

/** `archway login`: the device flow for the openstack CLI, and the clouds.yaml entries it writes. */
export const loginCommand: Command = {
  name: "login",
  summary: "sign in without a password and write clouds.yaml entries for the openstack CLI",
  help: HELP,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, OPTIONS, false);
    const modes = [values.refresh, values.status, values.logout].filter(Boolean).length;
    if (modes > 1) throw new UsageError("use one of --refresh, --status and --logout");
    const cloudsFile = values["clouds-file"] ?? defaultCloudsFile(io.env);
    const state = readState(cloudsFile);
    if (values.json && !values.status) throw new UsageError("--json goes with --status");
    if (values.status) return values.json ? statusJson(io, cloudsFile, state) : status(io, cloudsFile, state);
    if (values.logout) return logout(io, cloudsFile, state);
    if (values.refresh) return refresh(io, cloudsFile, state);
    const url = values.url ?? io.env.ARCHWAY_URL ?? state?.url;
    if (!url) throw new UsageError("--url is required (Archway's address, e.g. https://archway.example.org)");
    const oauth = new ArchwayOAuth(url.replace(/\/+$/, ""), values["client-id"] ?? state?.clientId ?? "archway-cli");
    const started = await oauth.start();
    io.out(`To sign in, open ${started.verification_uri} and enter the code ${started.user_code}`);
    if (started.verification_uri_complete) io.out(`(or open ${started.verification_uri_complete})`);
    io.out("Waiting for the approval...");
    const tokens = await oauth.poll(started);
    // A new sign-in replaces the last one: its refresh token is revoked, its entries rewritten or removed.
    if (state?.refreshToken && state.url === oauth.url)
      await new ArchwayOAuth(state.url, state.clientId).revoke(state.refreshToken, "refresh_token").catch(() => {});
    const next = await writeEntries(io, oauth, tokens, {
      cloudsFile,
      cloudPrefix: values["cloud-prefix"] ?? state?.cloudPrefix ?? "archway-",
      owned: state?.entries ?? [],
    });
    io.out(`Signed in as ${next.username}; the token is good until ${new Date(next.expiresAt).toISOString()}.`);
    return 0;
  },
};

/** Fetches the person's projects with the new token and writes the entries and the state. */
async function writeEntries(
  io: CliIO,
  oauth: ArchwayOAuth,
  tokens: Tokens,
  opts: { cloudsFile: string; cloudPrefix: string; owned: readonly string[]; refreshToken?: string },
): Promise<LoginState> {
  const me = (await (await oauth.api("/api/v1/me", tokens.access_token)).json()) as { username?: string };
  const rendered = await (await oauth.api("/api/v1/me/clouds.yaml", tokens.access_token)).text();
  const entries = tokenCloudEntries(rendered, { token: tokens.access_token, prefix: opts.cloudPrefix });
  const { written, skipped, removed } = updateCloudsFile(opts.cloudsFile, entries, opts.owned);
  const state: LoginState = {
    url: oauth.url,
    clientId: oauth.clientId,
    cloudPrefix: opts.cloudPrefix,
    cloudsFile: opts.cloudsFile,
    username: me.username ?? "?",
    refreshToken: tokens.refresh_token ?? opts.refreshToken,
    accessToken: tokens.access_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    entries: written,
  };
  writeState(state);
  io.out(`${opts.cloudsFile}: ${written.length} entries written${written.length ? `: ${written.join(", ")}` : ""}`);
  if (removed.length) io.out(`removed (no longer granted): ${removed.join(", ")}`);
  for (const name of skipped)
    io.err(`skipped ${name}: an entry of that name exists and archway login did not write it`);
  return state;
}

async function refresh(io: CliIO, cloudsFile: string, state: LoginState | undefined): Promise<number> {
  if (!state?.refreshToken) {
    io.err(`no archway login for ${cloudsFile}: run archway login --url URL`);
    return 1;
  }
  const oauth = new ArchwayOAuth(state.url, state.clientId);
  let tokens: Tokens;
  try {
    tokens = await oauth.refresh(state.refreshToken);
  } catch (err) {
    io.err(`refresh refused (${(err as Error).message}): run archway login again`);
    return 1;
  }
  const next = await writeEntries(io, oauth, tokens, {
    cloudsFile,
    cloudPrefix: state.cloudPrefix,
    owned: state.entries,
    refreshToken: state.refreshToken,
  });
  io.out(`Refreshed for ${next.username}; the token is good until ${new Date(next.expiresAt).toISOString()}.`);
  return 0;
}

/** `--status --json`: the same answer and exit code as the text, as one document. */
function statusJson(io: CliIO, cloudsFile: string, state: LoginState | undefined): number {
  if (!state) {
    io.out(JSON.stringify({ signedIn: false, cloudsFile, entries: [] } satisfies LoginStatusReport, null, 2));
    return 1;
  }
  const left = Math.round((state.expiresAt - Date.now()) / 1000);
  const report: LoginStatusReport = {
    signedIn: true,
    cloudsFile,
    url: state.url,
    clientId: state.clientId,
    username: state.username,
    expiresAt: new Date(state.expiresAt).toISOString(),
    secondsLeft: Math.max(0, left),
    refreshToken: Boolean(state.refreshToken),
    entries: state.entries,
  };
  io.out(JSON.stringify(report, null, 2));
  return left > 0 ? 0 : 3;
}

function status(io: CliIO, cloudsFile: string, state: LoginState | undefined): number {
  if (!state) {
    io.out(`not signed in (no archway login for ${cloudsFile})`);
    return 1;
  }
  const left = Math.round((state.expiresAt - Date.now()) / 1000);
  io.out(`signed in as ${state.username} at ${state.url} (client ${state.clientId})`);
  io.out(
    left > 0
      ? `token good until ${new Date(state.expiresAt).toISOString()} (${left} s left)`
      : `token expired at ${new Date(state.expiresAt).toISOString()}: run archway login --refresh`,
  );
  io.out(`refresh token: ${state.refreshToken ? "kept" : "none (sign in again when the token expires)"}`);
  io.out(`entries in ${cloudsFile}: ${state.entries.join(", ") || "none"}`);
  return left > 0 ? 0 : 3;
}

async function logout(io: CliIO, cloudsFile: string, state: LoginState | undefined): Promise<number> {
  if (!state) {
    io.out(`not signed in (no archway login for ${cloudsFile})`);
    return 0;
  }
  const oauth = new ArchwayOAuth(state.url, state.clientId);
  let code = 0;
  try {
    if (state.refreshToken) await oauth.revoke(state.refreshToken, "refresh_token");
    await oauth.revoke(state.accessToken, "access_token");
  } catch (err) {
    // The entries go anyway: the person asked to be signed out here.
    io.err(`could not revoke at ${state.url} (${(err as Error).message}); the entries are removed anyway`);
    code = 1;
  }
  const removed = removeFromCloudsFile(cloudsFile, state.entries);
  removeState(cloudsFile);
  io.out(`signed out ${state.username}; removed ${removed.length} entries from ${cloudsFile}`);
  return code;
}
