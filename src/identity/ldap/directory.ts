import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Client, type Entry, InvalidCredentialsError, type SearchOptions } from "ldapts";
import { ArchwayError } from "../../errors.js";
import { AD_BINARY_ATTRIBUTES, type BindRefusal, bindRefusal } from "./ad.js";

/** A password check's answer: accepted, or refused with the directory's reason (for logs, never for the person). */
export type BindOutcome = { ok: true } | { ok: false; code?: string; reason: BindRefusal };

// ldapts returns a value as a string whenever its bytes are valid UTF-8: binary attributes must be asked for as such.
const BINARY = { explicitBufferAttributes: [...AD_BINARY_ATTRIBUTES] };

/** How to reach a directory: several URLs tried in order, TLS settings, the service account. */
export interface DirectoryOptions {
  sourceId: string;
  urls: readonly string[];
  startTls: boolean;
  caFile?: string;
  insecureSkipVerify: boolean;
  bindDn?: string;
  bindPassword?: string;
  timeoutMs: number;
  /** Connections kept for password checks. */
  poolSize: number;
}

/**
 * Connections to one directory. The service connection is reused (and replaced when it breaks, trying each URL
 * in turn); password checks bind on a short-lived connection of their own so the service binding is never lost.
 * Every failure to reach the directory becomes `directory_unavailable` (503) naming the source, never a crash.
 */
export class Directory {
  readonly #o: DirectoryOptions;
  readonly #tls: ConnectionOptions;
  #service: Promise<Client> | undefined;
  readonly #bindPool: Client[] = [];
  #closed = false;
  #preferred = 0;

  constructor(opts: DirectoryOptions) {
    this.#o = opts;
    this.#tls = {
      ...(opts.caFile ? { ca: [readFileSync(opts.caFile)] } : {}),
      rejectUnauthorized: !opts.insecureSkipVerify,
    };
  }

  /** The TLS settings of this directory (CA, verification), for other connections to it. */
  get tls(): ConnectionOptions {
    return this.#tls;
  }

  /** Runs a search on the service connection (paged when `paged` is set), retrying once on a fresh connection. */
  async search(base: string, options: SearchOptions): Promise<Entry[]> {
    return this.#withService(async (client) => (await client.search(base, { ...BINARY, ...options })).searchEntries);
  }

  /** Pages through a large result on the service connection. */
  async *searchPaged(base: string, options: SearchOptions, pageSize: number): AsyncGenerator<Entry[]> {
    const client = await this.#serviceClient();
    try {
      for await (const page of client.searchPaginated(base, { ...BINARY, ...options, paged: { pageSize } }))
        yield page.searchEntries;
    } catch (err) {
      this.#dropService();
      throw this.#unavailable(err);
    }
  }

  /**
   * Checks a password by binding as `dn`; a refusal (LDAP error 49) resolves with AD's reason code when the server
   * gave one (`data 52e`, `533`, `701`, `773`, `775`, ...). Never called with "".
   */
  async checkPassword(dn: string, password: string): Promise<BindOutcome> {
    // Bind connections are reused: each check rebinds, so the previous person's binding never carries over.
    for (;;) {
      const pooled = this.#bindPool.pop();
      const client = pooled ?? (await this.#connect());
      try {
        await client.bind(dn, password);
        this.#release(client);
        return { ok: true };
      } catch (err) {
        if (err instanceof InvalidCredentialsError) {
          this.#release(client);
          return { ok: false, ...bindRefusal(err.message) };
        }
        await client.unbind().catch(() => undefined);
        // A pooled connection the server dropped meanwhile: try again on a fresh one.
        if (pooled && isConnectionError(err)) continue;
        throw this.#unavailable(err);
      }
    }
  }

  #release(client: Client): void {
    if (this.#bindPool.length < this.#o.poolSize && !this.#closed) this.#bindPool.push(client);
    else client.unbind().catch(() => undefined);
  }

  /** Resolves when the directory answers a service bind and a root DSE read. */
  async ping(): Promise<void> {
    await this.search("", { scope: "base", filter: "(objectClass=*)", attributes: ["namingContexts"] });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#bindPool.splice(0).map((c) => c.unbind().catch(() => undefined)));
    const service = this.#service;
    this.#service = undefined;
    if (service) await (await service.catch(() => undefined))?.unbind().catch(() => undefined);
  }

  async #withService<T>(op: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const client = await this.#serviceClient();
      try {
        return await op(client);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.#dropService();
        if (attempt >= 1) throw this.#unavailable(err);
      }
    }
  }

  #serviceClient(): Promise<Client> {
    this.#service ??= (async () => {
      const client = await this.#connect();
      if (this.#o.bindDn) {
        try {
          await client.bind(this.#o.bindDn, this.#o.bindPassword ?? "");
        } catch (err) {
          await client.unbind().catch(() => undefined);
          if (err instanceof InvalidCredentialsError) {
            throw new ArchwayError(
              "directory_unavailable",
              `identity source ${this.#o.sourceId}: the service account's bind was refused (check bindDn and bindPassword)`,
              503,
            );
          }
          throw this.#unavailable(err);
        }
      }
      return client;
    })();
    const pending = this.#service;
    pending.catch(() => {
      if (this.#service === pending) this.#service = undefined;
    });
    return pending;
  }

  #dropService(): void {
    for (const c of this.#bindPool.splice(0)) c.unbind().catch(() => undefined);
    const old = this.#service;
    this.#service = undefined;
    old?.then((c) => c.unbind()).catch(() => undefined);
  }

  /** Connects to the first URL that answers, starting with the last one that worked (failover). */
  async #connect(): Promise<Client> {
    const urls = this.#o.urls;
    let lastError: unknown;
    for (let i = 0; i < urls.length; i++) {
      const index = (this.#preferred + i) % urls.length;
      const url = urls[index]!;
      // ldapts speaks TLS from the first byte whenever tlsOptions are given: only pass them for ldaps://.
      const client = new Client({
        url,
        timeout: this.#o.timeoutMs,
        connectTimeout: this.#o.timeoutMs,
        ...(url.startsWith("ldaps://") ? { tlsOptions: this.#tls } : {}),
      });
      try {
        if (this.#o.startTls && url.startsWith("ldap://")) await client.startTLS(this.#tls);
        else await client.search("", { scope: "base", filter: "(objectClass=*)", attributes: ["1.1"] }); // forces the connection
        this.#preferred = index;
        return client;
      } catch (err) {
        lastError = err;
        await client.unbind().catch(() => undefined);
      }
    }
    throw this.#unavailable(lastError);
  }

  #unavailable(err: unknown): ArchwayError {
    if (err instanceof ArchwayError) return err;
    const reason = describe(err);
    return new ArchwayError(
      "directory_unavailable",
      `identity source ${this.#o.sourceId}: directory unavailable (${reason})`,
      503,
      { cause: err },
    );
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (
    e?.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
    e?.code === "SELF_SIGNED_CERT_IN_CHAIN" ||
    /certificate/i.test(e?.message ?? "")
  ) {
    return `TLS certificate not trusted: ${e.message ?? e.code}; set caFile to the directory's CA`;
  }
  return e?.code ?? e?.message ?? String(err);
}

function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string; name?: string };
  return (
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"].includes(e?.code ?? "") ||
    /connection|socket|closed|timeout/i.test(e?.message ?? "") ||
    e?.name === "TimeoutError"
  );
}
