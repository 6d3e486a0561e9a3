/**
 * Structured logging (pino). Two layers keep secrets out: field-name redaction (passwords, tokens, cookies,
 * authorization headers) and a final scrub of every secret value the config loader resolved, wherever it
 * appears in a line.
 */
import { type DestinationStream, type Logger, pino } from "pino";
import type { SecretValues } from "../config/index.js";

export type { Logger } from "pino";

/** Field names whose values are never written, at any depth pino can address. */
const REDACT_PATHS = [
  "password",
  "*.password",
  "*.*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.headers.cookie",
  "*.headers['x-auth-token']",
  "*.headers['x-subject-token']",
  "headers.authorization",
  "headers.cookie",
  "headers['x-auth-token']",
  "headers['x-subject-token']",
  "cookie",
  "clientSecret",
  "*.clientSecret",
  "bindPassword",
  "*.bindPassword",
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level?: string;
  /** Values to scrub from every line (from the config loader). */
  secrets?: SecretValues;
  /** Where lines go (default stdout); tests pass a buffer. */
  destination?: DestinationStream;
}

/** Builds the process logger. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const secrets = opts.secrets;
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: "archway" },
      redact: { paths: REDACT_PATHS, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(secrets && secrets.size > 0 ? { hooks: { streamWrite: (line: string) => secrets.scrub(line) } } : {}),
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
export { currentRequestId, type RequestScope, runInRequest } from "./context.js";
