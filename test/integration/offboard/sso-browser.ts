import type { Dispatcher } from "undici";

/** A page the browser stopped at: its address, status and body. */
export interface Page {
  url: string;
  status: number;
  html: string;
}

/**
 * A headless "browser" over fetch for SSO round trips across two origins (Archway and the upstream): a cookie jar
 * per origin, redirects followed by hand, forms read from the HTML. Enough for the test upstream's login and
 * logout pages and Archway's sign-in.
 */
export class SsoBrowser {
  readonly #jars = new Map<string, Map<string, string>>();

  constructor(private readonly dispatcher?: Dispatcher) {}

  /** The `name=value; ...` cookies this browser holds for `origin`. */
  cookies(origin: string): string {
    return [...(this.#jars.get(origin) ?? [])].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Opens `url` (a form post with `form`) and follows redirects until a page that is not one. */
  async go(url: string, form?: Record<string, string>): Promise<Page> {
    let method = form ? "POST" : "GET";
    let body = form ? new URLSearchParams(form).toString() : undefined;
    for (let step = 0; step < 20; step++) {
      const origin = new URL(url).origin;
      const headers = new Headers();
      const cookie = this.cookies(origin);
      if (cookie) headers.set("cookie", cookie);
      if (body) headers.set("content-type", "application/x-www-form-urlencoded");
      const res = await fetch(url, {
        method,
        body,
        headers,
        redirect: "manual",
        dispatcher: this.dispatcher,
      } as RequestInit);
      const jar = this.#jars.get(origin) ?? new Map<string, string>();
      this.#jars.set(origin, jar);
      for (const c of res.headers.getSetCookie()) {
        const [pair = ""] = c.split(";");
        const eq = pair.indexOf("=");
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === "" || /max-age=0|expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
        else jar.set(name, value);
      }
      if (res.status >= 300 && res.status < 400) {
        await res.arrayBuffer();
        url = new URL(res.headers.get("location") ?? "", url).href;
        method = "GET";
        body = undefined;
        continue;
      }
      return { url, status: res.status, html: await res.text() };
    }
    throw new Error(`more than 20 redirects from ${url}`);
  }

  /** Submits the first form of `page` (or the one whose action matches), hidden fields kept, `fields` added. */
  async submit(page: Page, fields: Record<string, string>, action?: RegExp): Promise<Page> {
    const forms = [...page.html.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => !action || action.test(/action="([^"]*)"/.exec(f[1] ?? "")?.[1] ?? ""));
    if (!form) throw new Error(`no form at ${page.url}: ${page.html.slice(0, 300)}`);
    const target = /action="([^"]*)"/.exec(form[1] ?? "")?.[1] ?? page.url;
    const values: Record<string, string> = {};
    for (const m of (form[2] ?? "").matchAll(/<input[^>]*>/g)) {
      const tag = m[0];
      const name = /name="([^"]+)"/.exec(tag)?.[1];
      const value = /value="([^"]*)"/.exec(tag)?.[1];
      if (name && /type="hidden"/.test(tag)) values[name] = (value ?? "").replaceAll("&amp;", "&");
    }
    return this.go(new URL(target.replaceAll("&amp;", "&"), page.url).href, { ...values, ...fields });
  }
}
