/**
 * The `--control PATH` option of `status`, `revoke` and `grant` (docs/GRANTS.md), as an optique
 * parser; `_control_client.ts` sends the request. Every command line loads this module.
 *
 * @module
 */
import { message } from "@optique/core/message";
import { withDefault } from "@optique/core/modifiers";
import { option } from "@optique/core/primitives";
import { string } from "@optique/core/valueparser";
import { DEFAULT_CONTROL_PATH } from "../server/control.ts";

/** `--control PATH` (default {@link DEFAULT_CONTROL_PATH}). */
export const controlOption = withDefault(
  option("--control", string({ metavar: "PATH" }), {
    description: message`Control socket of knocktool serve (default ${DEFAULT_CONTROL_PATH}).`,
  }),
  DEFAULT_CONTROL_PATH,
);
