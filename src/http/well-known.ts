import { Hono } from "hono";
import type { KeyRing } from "../tokens/index.js";
import type { AppEnv } from "./env.js";

/** `/.well-known/jwks.json`: the public keys that verify Archway's tokens (current and still-overlapping). */
export function wellKnownRoutes(deps: { keys: KeyRing }) {
  const app = new Hono<AppEnv>();
  app.get("/.well-known/jwks.json", async (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(await deps.keys.jwks());
  });
  return app;
}
