import type { Child, FC } from "hono/jsx";
import { CsrfField, Layout, Notice, type PageUser } from "../web/index.js";
import { OIDC_PATHS } from "./deps.js";

/** Where the browser may go after logout: a registered `post_logout_redirect_uri`, with `state` already added. */
export interface LogoutReturn {
  url: string;
  /** The client's display name (or id), for the link text. */
  clientName: string;
}

/** Props of {@link confirmLogoutPage}. */
export interface ConfirmLogoutProps {
  user: PageUser;
  /** The client the request names, when it names one. */
  clientName?: string;
  /** Already validated parameters the confirming POST carries back (no `id_token_hint`: it was not accepted). */
  fields: Record<string, string | undefined>;
  /** Shown when a confirmation came back with a CSRF token of another (or an ended) session. */
  expired?: boolean;
}

/**
 * "Sign out of Archway?": the answer to a logout request Archway cannot attribute to the signed-in person (no or
 * another person's `id_token_hint`). Only its POST, with this session's CSRF token, ends the session.
 */
export const confirmLogoutPage = ({ user, clientName, fields, expired }: ConfirmLogoutProps): Child => (
  <Layout title="Sign out of Archway?" user={user}>
    <Notice
      kind="error"
      text={
        expired ? "That sign-out form had expired or did not come from Archway. Confirm here to sign out." : undefined
      }
    />
    <form method="post" action={OIDC_PATHS.logout} class="card">
      <p>
        {clientName ? <strong>{clientName}</strong> : "A website"} asks to sign you out of Archway, where you are signed
        in as <strong>{user.displayName ?? user.username}</strong>. If you did not expect this, stay signed in.
      </p>
      <CsrfField token={user.csrf} />
      {Object.entries(fields).map(([name, value]) =>
        value === undefined ? null : <input type="hidden" name={name} value={value} />,
      )}
      <button type="submit">Sign out</button> <a href="/">Stay signed in</a>
    </form>
  </Layout>
);

/** The browser had no Archway session: nothing was ended. */
export const notSignedInPage = (back: LogoutReturn | undefined): Child => (
  <Layout title="Sign out">
    <Notice kind="ok" text="You are not signed in to Archway, so there is nothing to sign out of." />
    <BackLink back={back} />
  </Layout>
);

/** The session was ended and there is no registered place to return to. */
export const signedOutPage = (): Child => (
  <Layout title="Sign out">
    <Notice kind="ok" text="You are signed out of Archway." />
    <p>
      <a href="/login">Sign in again</a>
    </p>
  </Layout>
);

const BackLink: FC<{ back?: LogoutReturn }> = ({ back }) =>
  back ? (
    <p>
      <a href={back.url}>{`Return to ${back.clientName}`}</a>
    </p>
  ) : null;
