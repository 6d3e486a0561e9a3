import type { Dispatcher } from "undici";

/** One HTTP answer as the test browser saw it. */
export interface Page {
  url: string;
  status: number;
  location?: string;
  html: string;
}

/**
 * A cookie-keeping client for server-rendered flows: requests never follow redirects by themselves, so a test sees
 * each hop; {@link follow} walks redirects until a stop condition.
 */
export class TestBrowser {
  readonly jar = new Map<string, string>();

  constructor(private readonly dispatcher?: Dispatcher) {}

  async request(url: string, form?: Record<string, string>): Promise<Page> {
    const headers = new Headers();
    if (this.jar.size > 0) headers.set("cookie", [...this.jar].map(([k, v]) => `${k}=${v}`).join("; "));
    if (form) headers.set("content-type", "application/x-www-form-urlencoded");
    const res = await fetch(url, {
      method: form ? "POST" : "GET",
      body: form ? new URLSearchParams(form).toString() : undefined,
      headers,
      redirect: "manual",
      dispatcher: this.dispatcher,
    } as RequestInit);
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ""] = cookie.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /max-age=0|expires=Thu, 01 Jan 1970/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const location = res.headers.get("location");
    return {
      url,
      status: res.status,
      location: location ? new URL(location, url).href : undefined,
      html: await res.text(),
    };
  }

  /** Follows redirects from `url` until one points at `stopAt` (returned, not requested) or a page answers. */
  async follow(url: string, stopAt?: string, form?: Record<string, string>): Promise<Page> {
    let page = await this.request(url, form);
    for (let i = 0; i < 20 && page.location; i++) {
      if (stopAt && page.location.startsWith(stopAt)) return page;
      page = await this.request(page.location);
    }
    return page;
  }

  /** Submits the first form of `page` whose action matches, with its hidden fields plus `fields`. */
  async submit(page: Page, action: RegExp, fields: Record<string, string>, stopAt?: string): Promise<Page> {
    for (const m of page.html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
      const target = (m[1] ?? "").replaceAll("&amp;", "&");
      if (!action.test(target)) continue;
      const form: Record<string, string> = {};
      for (const input of (m[2] ?? "").matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
        form[input[1] as string] = (input[2] as string).replaceAll("&amp;", "&");
      return this.follow(new URL(target, page.url).href, stopAt, { ...form, ...fields });
    }
    throw new Error(`no form with action ${action} at ${page.url} (HTTP ${page.status}): ${page.html.slice(0, 300)}`);
  }
}
