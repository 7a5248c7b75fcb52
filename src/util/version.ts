/** knocktool's version, shown by `--version` and in `check --json`. */
export const VERSION = "0.1.0";
