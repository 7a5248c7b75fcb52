/**
 * libnftables through FFI: nftables commands run in-process, one netlink transaction per call,
 * with no `nft` process per knock (docs/GRANTS.md). Debian ships the library as `libnftables1`
 * (`libnftables.so.1`); when it is missing, {@link Nftables.open} throws an error that names the
 * package.
 *
 * @module
 */

import { cString } from "./libc.ts";

const SYMBOLS = {
  // struct nft_ctx *nft_ctx_new(uint32_t flags);
  nft_ctx_new: { parameters: ["u32"], result: "pointer" },
  // void nft_ctx_free(struct nft_ctx *ctx);
  nft_ctx_free: { parameters: ["pointer"], result: "void" },
  // int nft_ctx_buffer_output(struct nft_ctx *ctx);
  nft_ctx_buffer_output: { parameters: ["pointer"], result: "i32" },
  // int nft_ctx_buffer_error(struct nft_ctx *ctx);
  nft_ctx_buffer_error: { parameters: ["pointer"], result: "i32" },
  // const char *nft_ctx_get_output_buffer(struct nft_ctx *ctx);  (and rewinds it)
  nft_ctx_get_output_buffer: { parameters: ["pointer"], result: "pointer" },
  // const char *nft_ctx_get_error_buffer(struct nft_ctx *ctx);  (and rewinds it)
  nft_ctx_get_error_buffer: { parameters: ["pointer"], result: "pointer" },
  // void nft_ctx_output_set_flags(struct nft_ctx *ctx, unsigned int flags);
  nft_ctx_output_set_flags: { parameters: ["pointer", "u32"], result: "void" },
  // int nft_run_cmd_from_buffer(struct nft_ctx *nft, const char *buf);
  nft_run_cmd_from_buffer: { parameters: ["pointer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** `NFT_CTX_OUTPUT_JSON` of `<nftables/libnftables.h>`: output as JSON (`nft -j`). */
export const NFT_CTX_OUTPUT_JSON = 1 << 4;

/** The sonames tried, in order. */
export const LIBNFTABLES_NAMES: readonly string[] = ["libnftables.so.1"];

/** The outcome of one command batch. */
export interface NftResult {
  /** The batch was applied (`nft_run_cmd_from_buffer` returned 0). */
  readonly ok: boolean;
  /** What it printed (a listing). */
  readonly output: string;
  /** Its error text (`Error: …` lines), trimmed. */
  readonly error: string;
}

function readBuffer(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

/**
 * One libnftables context. Not thread-safe; every call is synchronous (a netlink round trip,
 * about 0.1 ms for one element).
 *
 * @example
 * ```ts ignore
 * const nft = Nftables.open();
 * try {
 *   const r = nft.run("add element inet kt allow4 { 192.0.2.2 timeout 10s }");
 *   if (!r.ok) console.error(r.error);
 * } finally {
 *   nft.close();
 * }
 * ```
 */
export class Nftables {
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  #ctx: Deno.PointerValue;
  #flags = 0;

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>, ctx: Deno.PointerValue) {
    this.#lib = lib;
    this.#ctx = ctx;
  }

  /**
   * Loads libnftables and makes a context with buffered output and errors.
   *
   * @returns The context.
   * @throws {Error} `Cannot load libnftables: …` naming the Debian package when the library is
   *   missing or lacks a symbol.
   */
  static open(): Nftables {
    const tried: string[] = [];
    for (const name of LIBNFTABLES_NAMES) {
      let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
      try {
        lib = Deno.dlopen(name, SYMBOLS);
      } catch (e) {
        tried.push(`"${name}" (${e instanceof Error ? e.message : String(e)})`);
        continue;
      }
      const ctx = lib.symbols.nft_ctx_new(0);
      if (ctx === null) {
        lib.close();
        throw new Error(`Cannot load libnftables: nft_ctx_new failed`);
      }
      lib.symbols.nft_ctx_buffer_output(ctx);
      lib.symbols.nft_ctx_buffer_error(ctx);
      return new Nftables(lib, ctx);
    }
    throw new Error(
      `Cannot load libnftables: tried ${
        tried.join(", ")
      }: install the package "libnftables1" (Debian, Ubuntu) or your distribution's libnftables`,
    );
  }

  /**
   * Runs a batch of nft commands (separated by newlines or `;`) as one transaction.
   *
   * @param commands The commands, in `nft`'s syntax.
   * @param json Print listings as JSON (`nft -j`).
   * @returns Whether it applied, and what it printed.
   * @throws {Error} When the context is closed.
   */
  run(commands: string, json = false): NftResult {
    if (this.#ctx === null) throw new Error("Cannot run nft commands: the context is closed");
    const s = this.#lib.symbols;
    const flags = json ? NFT_CTX_OUTPUT_JSON : 0;
    if (flags !== this.#flags) {
      s.nft_ctx_output_set_flags(this.#ctx, flags);
      this.#flags = flags;
    }
    const rc = s.nft_run_cmd_from_buffer(this.#ctx, cString(commands));
    const output = readBuffer(s.nft_ctx_get_output_buffer(this.#ctx));
    const error = readBuffer(s.nft_ctx_get_error_buffer(this.#ctx)).trim();
    return { ok: rc === 0, output, error };
  }

  /** Frees the context and unloads the library. Safe to call twice. */
  close(): void {
    if (this.#ctx === null) return;
    this.#lib.symbols.nft_ctx_free(this.#ctx);
    this.#ctx = null;
    this.#lib.close();
  }
}
