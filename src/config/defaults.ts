/**
 * knockd 0.8's built-in defaults, used where neither the command line nor knockd.conf says
 * otherwise (docs/COMPATIBILITY.md §1).
 *
 * @module
 */

/**
 * The config file read without `-c`.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONFIG_PATH } from "./defaults.ts";
 * if (DEFAULT_CONFIG_PATH !== "/etc/knockd.conf") throw new Error("knockd's path");
 * ```
 */
export const DEFAULT_CONFIG_PATH = "/etc/knockd.conf";

/**
 * The interface captured without `-i` or `Interface`.
 *
 * @example
 * ```ts
 * import { DEFAULT_INTERFACE } from "./defaults.ts";
 * if (DEFAULT_INTERFACE !== "eth0") throw new Error("knockd's interface");
 * ```
 */
export const DEFAULT_INTERFACE = "eth0";

/**
 * The pidfile written under `-d` without `-p` or `PidFile`.
 *
 * @example
 * ```ts
 * import { DEFAULT_PIDFILE } from "./defaults.ts";
 * if (DEFAULT_PIDFILE !== "/var/run/knockd.pid") throw new Error("knockd's pidfile");
 * ```
 */
export const DEFAULT_PIDFILE = "/var/run/knockd.pid";

/**
 * `Secret_Length`'s default: knocks per secret-derived sequence (docs/SECRET-SEQUENCES.md §3).
 *
 * @example
 * ```ts
 * import { DEFAULT_SECRET_LENGTH } from "./defaults.ts";
 * if (DEFAULT_SECRET_LENGTH !== 4) throw new Error("four knocks");
 * ```
 */
export const DEFAULT_SECRET_LENGTH = 4;

/** `Secret_Ports`'s default lower end (docs/SECRET-SEQUENCES.md §3). */
export const DEFAULT_SECRET_LOW = 1024;

/** `Secret_Ports`'s default upper end (docs/SECRET-SEQUENCES.md §3). */
export const DEFAULT_SECRET_HIGH = 65535;

/** `Secret_Step`'s default: seconds per time step (docs/SECRET-SEQUENCES.md §4). */
export const DEFAULT_SECRET_STEP = 30;

/**
 * Where knocktool keeps its state (live grants, used secret sequences) without `State_Dir`.
 *
 * @example
 * ```ts
 * import { DEFAULT_STATE_DIR } from "./defaults.ts";
 * if (DEFAULT_STATE_DIR !== "/var/lib/knocktool") throw new Error("the state directory");
 * ```
 */
export const DEFAULT_STATE_DIR = "/var/lib/knocktool";
