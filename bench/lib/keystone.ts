// Plain REST against a test Keystone (no Archway code involved): logins and the few admin calls benchmarks need
// to set up and tear down their own objects.

/** Body of a password login as `user` in the default domain, scoped to `project` (or unscoped). */
export function passwordAuth(user: string, password: string, project?: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ["password"], password: { user: { name: user, domain: { id: "default" }, password } } },
      ...(project ? { scope: { project: { name: project, domain: { id: "default" } } } } : {}),
    },
  });
}

/** Logs in and returns the token; throws with Keystone's status when the login is refused. */
export async function keystoneLogin(authUrl: string, body: string): Promise<string> {
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  await res.arrayBuffer();
  const token = res.headers.get("x-subject-token");
  if (res.status !== 201 || !token) throw new Error(`keystone login at ${authUrl} failed: ${res.status}`);
  return token;
}

/** One admin call; resolves the JSON reply (or null for an empty one) and throws on any status >= 300. */
export async function keystoneAdmin<T = unknown>(
  authUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T | null> {
  const res = await fetch(`${authUrl}${path}`, {
    method,
    headers: { "x-auth-token": token, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text ? (JSON.parse(text) as T) : null;
}

/** Disables and deletes every domain called `name` (and with it the users and projects a benchmark made there). */
export async function deleteDomain(authUrl: string, token: string, name: string): Promise<void> {
  const found = await keystoneAdmin<{ domains: { id: string }[] }>(authUrl, token, "GET", `/domains?name=${name}`);
  for (const d of found?.domains ?? []) {
    await keystoneAdmin(authUrl, token, "PATCH", `/domains/${d.id}`, { domain: { enabled: false } });
    await keystoneAdmin(authUrl, token, "DELETE", `/domains/${d.id}`);
  }
}
