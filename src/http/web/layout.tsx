import type { Context } from "hono";
import type { Child, FC, PropsWithChildren } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { STYLESHEET_PATH } from "./style.js";

/** Who the header shows as signed in; absent on the login page. */
export interface PageUser {
  username: string;
  displayName?: string;
  /** May see `/admin` (an administrator or an auditor). */
  isAdmin: boolean;
  /** An auditor (`web.auditors`): the admin pages hide their forms, and the server refuses their posts. */
  readOnly?: boolean;
  /** CSRF token for the sign-out form. */
  csrf: string;
}

/** Props of {@link Layout}. */
export interface LayoutProps {
  title: string;
  user?: PageUser;
  /** Which nav entry is current (`aria-current`). */
  current?: "home" | "admin";
  /** Reload the page this often (a meta refresh: the CSP allows no script); absent: never. */
  refreshSeconds?: number;
}

/** The hidden CSRF field every form carries. */
export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name="csrf" value={token} />;

/**
 * A form of one button that posts hidden fields with the CSRF token: the row actions of the pages' tables (end a
 * session, revoke a credential, remove a key, unlock). `children` stand before the button.
 */
export const PostButton: FC<
  PropsWithChildren<{
    action: string;
    csrf: string;
    fields: Record<string, string>;
    label: string;
    kind?: "danger" | "secondary";
    ariaLabel?: string;
    /** The form's own class (`inline` in a list). */
    formClass?: string;
  }>
> = ({ action, csrf, fields, label, kind, ariaLabel, formClass, children }) => (
  <form method="post" action={action} class={formClass}>
    <CsrfField token={csrf} />
    {Object.entries(fields).map(([name, value]) => (
      <input type="hidden" name={name} value={value} />
    ))}
    {children}
    <button type="submit" class={kind} aria-label={ariaLabel}>
      {label}
    </button>
  </form>
);

/** What only an administrator sees: the forms that act (an auditor sees the page without them). */
export const AdminOnly: FC<PropsWithChildren<{ user: PageUser }>> = ({ user, children }) =>
  user.readOnly ? null : <div class="admin-only">{children}</div>;

/** A status message above the page content (role=status for success, role=alert for errors). */
export const Notice: FC<{ kind: "ok" | "error"; text?: string }> = ({ kind, text }) =>
  text ? (
    <p class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {text}
    </p>
  ) : null;

/**
 * The page shell: skip link, header with navigation and sign-out, main landmark. No inline script or style, so
 * the strict Content-Security-Policy holds; every form posts to Archway itself.
 */
export const Layout: FC<PropsWithChildren<LayoutProps>> = ({ title, user, current, refreshSeconds, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      {refreshSeconds ? <meta http-equiv="refresh" content={String(refreshSeconds)} /> : null}
      <title>{`${title} · Archway`}</title>
      <link rel="stylesheet" href={STYLESHEET_PATH} />
    </head>
    <body>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Archway</span>
        {user ? (
          <nav aria-label="Main">
            <a href="/" aria-current={current === "home" ? "page" : undefined}>
              My clouds
            </a>
            {user.isAdmin ? (
              <a href="/admin" aria-current={current === "admin" ? "page" : undefined}>
                Admin
              </a>
            ) : null}
            <form method="post" action="/logout" class="inline">
              <CsrfField token={user.csrf} />
              <span class="who">{user.displayName ?? user.username}</span>{" "}
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          </nav>
        ) : null}
      </header>
      <main id="main" tabindex={-1}>
        <h1>{title}</h1>
        {user?.readOnly && current === "admin" ? (
          <p class="notice notice-ok" role="status">
            Read-only: you are an auditor (web.auditors); actions are hidden and refused.
          </p>
        ) : null}
        {children}
      </main>
    </body>
  </html>
);

/** Renders a page as a full HTML document. */
export async function renderPage(c: Context, page: Child, status: ContentfulStatusCode = 200): Promise<Response> {
  const body = await Promise.resolve(String(await (page as { toString(): string | Promise<string> }).toString()));
  return c.html(`<!DOCTYPE html>${body}`, status);
}

/** Formats an ISO time for people (UTC, minutes). */
export function when(iso: string | undefined): string {
  if (!iso) return "never";
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
