/**
 * Grants in nftables sets (docs/GRANTS.md): a knocker's address becomes an element with a
 * kernel-side timeout, through libnftables (`ffi/libnftables.ts`), no `nft` process per knock.
 *
 * A plain `add element` leaves the timeout of an element that is already there unchanged, so a
 * refresh sends one transaction "add; delete; add": the first add makes sure the delete finds the
 * element, the second add sets the new timeout. The kernel never sees two elements.
 *
 * @module
 */
import type { NftSetRef } from "../config/model.ts";
import { Nftables } from "../../ffi/libnftables.ts";

/** What the grant keeper needs of the kernel's sets. */
export interface SetWriter {
  /**
   * Adds (or refreshes) `address` in `ref` with a timeout.
   *
   * @returns undefined on success, else the error text.
   */
  add(ref: NftSetRef, address: string, timeoutSec: number): string | undefined;
  /**
   * Removes `address` from `ref` (absent is fine).
   *
   * @returns undefined on success, else the error text.
   */
  remove(ref: NftSetRef, address: string): string | undefined;
}

/**
 * The set as nft spells it: `inet kt allow4`.
 *
 * @param ref The set.
 * @returns `FAMILY TABLE SET`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setText } from "./nft_sets.ts";
 * assert.equal(setText({ family: "inet", table: "kt", set: "allow4", line: 3 }), "inet kt allow4");
 * ```
 */
export function setText(ref: NftSetRef): string {
  return `${ref.family} ${ref.table} ${ref.set}`;
}

/**
 * The nft commands that make `ref` usable for `family`'s knockers.
 *
 * @param ref The set.
 * @param family 4 or 6.
 * @returns `nft add table …` and `nft add set …` lines.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setRecipe } from "./nft_sets.ts";
 * assert.equal(
 *   setRecipe({ family: "inet", table: "kt", set: "a", line: 1 }, 4),
 *   "nft add table inet kt; nft add set inet kt a '{ type ipv4_addr; flags timeout; }'",
 * );
 * ```
 */
export function setRecipe(ref: NftSetRef, family: 4 | 6): string {
  return `nft add table ${ref.family} ${ref.table}; nft add set ${setText(ref)} '{ type ${
    family === 4 ? "ipv4_addr" : "ipv6_addr"
  }; flags timeout; }'`;
}

/** Sets through libnftables. */
export class NftSets implements SetWriter {
  readonly #nft: Nftables;

  private constructor(nft: Nftables) {
    this.#nft = nft;
  }

  /**
   * Loads libnftables.
   *
   * @returns The writer.
   * @throws {Error} When libnftables cannot be loaded (the message names the package).
   */
  static open(): NftSets {
    return new NftSets(Nftables.open());
  }

  /** {@inheritDoc SetWriter.add} */
  add(ref: NftSetRef, address: string, timeoutSec: number): string | undefined {
    const s = setText(ref);
    const el = `{ ${address} timeout ${timeoutSec}s }`;
    const r = this.#nft.run(
      `add element ${s} ${el}\ndelete element ${s} { ${address} }\nadd element ${s} ${el}`,
    );
    return r.ok ? undefined : firstLine(r.error);
  }

  /** {@inheritDoc SetWriter.remove} */
  remove(ref: NftSetRef, address: string): string | undefined {
    const s = setText(ref);
    // Add first (timeout 1 s) so that the delete cannot fail on an element already expired.
    const r = this.#nft.run(
      `add element ${s} { ${address} timeout 1s }\ndelete element ${s} { ${address} }`,
    );
    return r.ok ? undefined : firstLine(r.error);
  }

  /**
   * The elements of a set with their timeouts (for status and tests).
   *
   * @param ref The set.
   * @returns Address → seconds left, or the error text.
   */
  elements(ref: NftSetRef): Map<string, number> | string {
    const r = this.#nft.run(`list set ${setText(ref)}`, true);
    if (!r.ok) return firstLine(r.error);
    const out = new Map<string, number>();
    for (const el of setOf(r.output)?.elem ?? []) {
      if (typeof el === "string") out.set(el, 0);
      else if (typeof el === "object" && el !== null && "elem" in el) {
        const e = el.elem as { val?: unknown; expires?: unknown };
        if (typeof e.val === "string") {
          out.set(e.val, typeof e.expires === "number" ? e.expires : 0);
        }
      }
    }
    return out;
  }

  /**
   * Checks that a set exists, has `flags timeout` and holds `family`'s addresses.
   *
   * @param ref The set.
   * @param directive `Nft_Set` or `Nft_Set_6`, for the message.
   * @param family 4 or 6.
   * @returns undefined when it is usable, else what is wrong and what to do.
   */
  verify(ref: NftSetRef, directive: string, family: 4 | 6): string | undefined {
    const where = `set "${setText(ref)}" of "${directive}" (line ${ref.line})`;
    const r = this.#nft.run(`list set ${setText(ref)}`, true);
    if (!r.ok) {
      const raw = firstLine(r.error).replace(/^Error: /, "").toLowerCase();
      const why = raw === "no such file or directory" ? "it does not exist" : raw;
      return `Cannot use ${where}: ${why}: create it with: ${setRecipe(ref, family)}`;
    }
    const set = setOf(r.output);
    const want = family === 4 ? "ipv4_addr" : "ipv6_addr";
    if (set?.type !== want) {
      return `Cannot use ${where}: its type is ${
        JSON.stringify(set?.type ?? "unknown")
      }, not "${want}": recreate it with: nft delete set ${setText(ref)}; ${
        setRecipe(ref, family)
      }`;
    }
    if (!(set.flags ?? []).includes("timeout")) {
      return `Cannot use ${where}: it has no "flags timeout": recreate it with: nft delete set ${
        setText(ref)
      }; ${setRecipe(ref, family)}`;
    }
    return undefined;
  }

  /** Frees the libnftables context. */
  close(): void {
    this.#nft.close();
  }
}

interface SetJson {
  type?: unknown;
  flags?: unknown[];
  elem?: unknown[];
}

function setOf(json: string): SetJson | undefined {
  try {
    const doc = JSON.parse(json) as { nftables?: unknown[] };
    for (const item of doc.nftables ?? []) {
      if (typeof item === "object" && item !== null && "set" in item) return item.set as SetJson;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}
