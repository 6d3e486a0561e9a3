import { hashPassword, StaticSource } from "../../src/identity/index.js";
import { describeIdentityConformance } from "../conformance/identity.js";

describeIdentityConformance("static", async () => {
  const fast = { N: 1024 }; // cheap hashes for tests; the format and verification are the same
  const source = new StaticSource({
    id: "demo",
    type: "static",
    users: [
      {
        username: "alice",
        passwordHash: await hashPassword("alice-pw", fast),
        groups: ["devs"],
        sshKeys: [],
        attributes: {},
        disabled: false,
      },
      {
        username: "bob",
        passwordHash: await hashPassword("bob-pw", fast),
        groups: [],
        sshKeys: [],
        attributes: {},
        disabled: false,
      },
      {
        username: "mallory",
        passwordHash: await hashPassword("mallory-pw", fast),
        groups: [],
        sshKeys: [],
        attributes: {},
        disabled: true,
      },
    ],
  });
  return {
    source,
    user: { username: "alice", password: "alice-pw", groups: ["devs"] },
    other: { username: "bob", password: "bob-pw" },
    disabled: { username: "mallory", password: "mallory-pw" },
  };
});
