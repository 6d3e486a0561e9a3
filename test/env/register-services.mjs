// Registers services in one Keystone's catalog: each argument `type=name=url` becomes a service of that type (made
// when missing) with public, internal and admin endpoints at `url` in the cloud's region. Idempotent: an endpoint
// already pointing at the URL is left alone, a stale one is replaced.
const [authUrl, password, region, ...specs] = process.argv.slice(2);

const auth = await fetch(`${authUrl}/auth/tokens`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    auth: {
      identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password } } },
      scope: { project: { name: "admin", domain: { id: "default" } } },
    },
  }),
});
if (auth.status !== 201) throw new Error(`admin login to ${authUrl} failed: ${auth.status}`);
const token = auth.headers.get("x-subject-token");
const api = async (method, path, body) => {
  const res = await fetch(`${authUrl}${path}`, {
    method,
    headers: { "x-auth-token": token, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : res.json();
};

for (const spec of specs) {
  const [type, name, ...rest] = spec.split("=");
  const url = rest.join("=");
  let service = (await api("GET", `/services?type=${encodeURIComponent(type)}`)).services[0];
  service ??= (await api("POST", "/services", { service: { name, type, enabled: true } })).service;
  const endpoints = (await api("GET", `/endpoints?service_id=${service.id}`)).endpoints;
  for (const iface of ["public", "internal", "admin"]) {
    const existing = endpoints.filter((e) => e.interface === iface);
    if (existing.some((e) => e.url === url && e.region_id === region)) continue;
    for (const e of existing) await api("DELETE", `/endpoints/${e.id}`);
    await api("POST", "/endpoints", { endpoint: { service_id: service.id, interface: iface, url, region_id: region } });
  }
}
