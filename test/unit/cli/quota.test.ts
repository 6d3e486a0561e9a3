import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const CONFIG = "config/archway.example.yaml";

describe("archway quota", () => {
  it.each([
    [["quota", "report", "--jsn"], /Unknown option/],
    [["quota", "report", "extra"], /unexpected argument 'extra'/],
    [["quota", "show"], /unknown subcommand 'show'/],
    [["quota"], /expected a subcommand: report/],
    [["quota", "report", "--cloud", "nowhere"], /no cloud 'nowhere'/],
  ])("refuses bad input with exit 2 before reading any cloud: %s", async (argv, message) => {
    const io = captureIO();
    expect(await runCli([...argv, "--config", CONFIG], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stdout()).toBe("");
  });
});
