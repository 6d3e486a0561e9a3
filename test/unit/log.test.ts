import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { SecretValues } from "../../src/config/index.js";
import { createLogger } from "../../src/log/index.js";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, destination };
}

describe("logger", () => {
  it("redacts secret-bearing fields by name", async () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    log.info(
      { password: "p1", user: { password: "p2" }, headers: { authorization: "Bearer t", cookie: "s=1" }, token: "tok" },
      "x",
    );
    await new Promise((r) => setTimeout(r, 20));
    const out = lines.join("");
    for (const leaked of ["p1", "p2", "Bearer t", "s=1", 'tok"']) expect(out).not.toContain(leaked);
    expect(out).toContain("[REDACTED]");
  });

  it("scrubs every resolved config secret wherever it appears, even inside free text", async () => {
    const { lines, destination } = capture();
    const secrets = new SecretValues();
    secrets.add("super-secret-admin-pw");
    const log = createLogger({ destination, secrets });
    log.error(
      { detail: "login failed for admin with super-secret-admin-pw" },
      "keystone said: super-secret-admin-pw is wrong",
    );
    await new Promise((r) => setTimeout(r, 20));
    const out = lines.join("");
    expect(out).not.toContain("super-secret-admin-pw");
    expect(out.match(/\[REDACTED\]/g)).toHaveLength(2);
  });
});
