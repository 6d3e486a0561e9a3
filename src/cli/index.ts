/**
 * The `archway` command line: one file per command group, each a {@link Command}. `main.ts` dispatches.
 */
import type { Command } from "./command.js";
import { configCommand } from "./config.js";
import { federationCommand } from "./federation.js";
import { identityCommand } from "./identity.js";
import { imagesCommand } from "./images.js";
import { loginCommand } from "./login/index.js";
import { offboardCommand } from "./offboard.js";
import { policyCommand } from "./policy.js";
import { quotaCommand } from "./quota.js";
import { serveCommand } from "./serve.js";
import { syncCommand } from "./sync.js";
import { workerCommand } from "./worker.js";

export { type CliIO, type Command, UsageError } from "./command.js";

/** Every command, in the order `archway --help` lists them. */
export const commands: readonly Command[] = [
  serveCommand,
  configCommand,
  policyCommand,
  identityCommand,
  syncCommand,
  quotaCommand,
  imagesCommand,
  workerCommand,
  federationCommand,
  offboardCommand,
  loginCommand,
];
