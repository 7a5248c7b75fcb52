/**
 * Which commands a door runs for a knocker (docs/COMPATIBILITY.md §2.3, §6), `%IP%` expanded, and
 * knockd's limit on their length.
 *
 * @module
 */
import type { Door } from "../config/model.ts";
import type { Family } from "../wire/packet.ts";

/**
 * knockd's command buffers are PATH_MAX (4096) bytes: an expansion of 4096 bytes or more (its
 * UTF-8 / raw config bytes, not UTF-16 units) is refused.
 */
export const COMMAND_MAX = 4096;

/**
 * Replaces every `%IP%` (case-sensitive, knockd's only token) with the source address.
 *
 * @param command The configured command.
 * @param ip The knocker's address.
 * @returns The expanded command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandCommand } from "./door_commands.ts";
 * assert.equal(expandCommand("a %IP% b %IP% %ip%", "1.2.3.4"), "a 1.2.3.4 b 1.2.3.4 %ip%");
 * ```
 */
export function expandCommand(command: string, ip: string): string {
  return command.split("%IP%").join(ip);
}

/**
 * Picks the commands for a knocker (docs/COMPATIBILITY.md §2.3, §6): for IPv6 the `*_6` command,
 * falling back to the IPv4 one only when the `*_6` key is absent. `start` is undefined when nothing
 * must run (absent or empty); `stop` is undefined only when absent (an empty stop command "runs").
 *
 * @param door The door.
 * @param family The attempt's IP version.
 * @returns The chosen start and stop commands, unexpanded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseCommands } from "./door_commands.ts";
 * const door = { startCommand: "open", startCommand6: "", stopCommand: "close" };
 * assert.equal(chooseCommands(door, 6).start, undefined, "v6 must run nothing");
 * assert.equal(chooseCommands(door, 4).stop, "close", "v4 stop");
 * ```
 */
export function chooseCommands(
  door: Pick<Door, "startCommand" | "startCommand6" | "stopCommand" | "stopCommand6">,
  family: Family,
): { start?: string; stop?: string } {
  const start = family === 6 ? door.startCommand6 ?? door.startCommand : door.startCommand;
  const stop = family === 6 ? door.stopCommand6 ?? door.stopCommand : door.stopCommand;
  if (start === undefined || start === "") return {};
  return stop === undefined ? { start } : { start, stop };
}
