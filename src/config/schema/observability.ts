import { z } from "zod";
import { SecretSchema } from "./common.js";

/** `host:port` (IPv6 in brackets: `[::1]:9464`). */
const ListenAddressSchema = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "expected host:port, e.g. 127.0.0.1:9464 or [::1]:9464");

/**
 * Where `/metrics` and the detailed `/readyz` are served (docs/operations.md). `listen`: a listener of their own
 * (with `/healthz`), kept off the public port; `bearerToken`: on the main listener too, for a scraper that sends
 * `Authorization: Bearer <token>`. Without either, `/metrics` stays open on the main listener (the embedded
 * default); with either, the main listener's `/metrics` answers only the token, and its `/readyz` says ready or
 * not ready without detail.
 */
export const MetricsConfigSchema = z
  .object({
    listen: ListenAddressSchema.optional(),
    bearerToken: SecretSchema.optional(),
  })
  .strict();
export type MetricsConfig = z.infer<typeof MetricsConfigSchema>;

/** OpenTelemetry traces, off unless `otlpEndpoint` is set (docs/operations.md). */
export const TelemetryConfigSchema = z
  .object({
    /** OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
    otlpEndpoint: z.url({ protocol: /^https?$/ }).optional(),
    /** `service.name` of the spans. */
    serviceName: z.string().min(1).default("archway"),
    /** Share of traces kept (1: all), decided at the root span. */
    sampleRatio: z.number().min(0).max(1).default(1),
  })
  .strict();
export type TelemetryConfig = z.infer<typeof TelemetryConfigSchema>;

/** `host` and `port` of a `host:port` listen address (brackets removed from IPv6). */
export function parseListenAddress(address: string): { host: string; port: number } {
  const cut = address.lastIndexOf(":");
  const host = address.slice(0, cut).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(cut + 1)) };
}
