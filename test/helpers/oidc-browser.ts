import type { Dispatcher } from "undici";

/**
 * A headless "browser" for OIDC login pages: follows redirects with a cookie jar, fills the login form and stops
 * at the redirect to `redirectUri` (which is never served), returning that URL.
 */
export async function browserLogin(
  start: URL,
  redirectUri: string,
  form: Record<string, string>,
  dispatcher?: Dispatcher,
): Promise<URL> {
  const jar = new Map<string, string>();
  let url = start.href;
  let method = "GET";
  let body: string | undefined;
  for (let step = 0; step < 20; step++) {
    const headers = new Headers();
    if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    if (body) headers.set("content-type", "application/x-www-form-urlencoded");
    const res = await fetch(url, { method, body, headers, redirect: "manual", dispatcher } as RequestInit);
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /max-age=0|expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    method = "GET";
    body = undefined;
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get("location") ?? "", url);
      await res.arrayBuffer();
      if (next.href.startsWith(redirectUri)) return next;
      url = next.href;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`HTTP ${res.status} at ${url}: ${html.slice(0, 200)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form at ${url}`);
    const fields = new URLSearchParams();
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
      fields.set(m[1]!, m[2]!);
    }
    for (const [k, v] of Object.entries(form)) fields.set(k, v);
    url = new URL(action.replaceAll("&amp;", "&"), url).href;
    method = "POST";
    body = fields.toString();
  }
  throw new Error("login did not reach the redirect URI in 20 steps");
}
