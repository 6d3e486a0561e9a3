import type { Command } from "./command.js";

/** `archway serve`: placeholder until the HTTP server lands (replaced in the same change set). */
export const serveCommand: Command = {
  name: "serve",
  summary: "run the gateway's HTTP server",
  help: "Usage: archway serve [--config FILE]",
  async run(_argv, io) {
    io.err("not built yet");
    return 1;
  },
};
