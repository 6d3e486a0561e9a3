import { isArchwayError } from "../../../../src/errors.js";
import type { Identity, PasskeyRecord } from "../../../../src/identity/index.js";

/** The person the MFA unit tests sign in. */
export const alice: Identity = {
  id: "corp:uuid-alice",
  source: "corp",
  username: "alice",
  groups: [],
  groupDns: [],
  sshKeys: [],
  attributes: {},
};

/** A stored passkey record named after its id (`over` changes fields). */
export const passkeyRecord = (id: string, over: Partial<PasskeyRecord> = {}): PasskeyRecord => ({
  id,
  publicKey: "pQECAyYgASFYIA",
  counter: 5,
  transports: ["internal"],
  name: `key ${id}`,
  aaguid: "",
  deviceType: "singleDevice",
  backedUp: false,
  createdAt: "2026-12-06T03:00:00.000Z",
  ...over,
});

/** The ArchwayError code `p` rejects with, or `resolved`. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isArchwayError(err)) return err.code;
    throw err;
  }
  return "resolved";
}
