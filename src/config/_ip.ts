/**
 * IP literal parsing and the canonical text forms knockd compares against: `inet_ntoa` for IPv4
 * and glibc `inet_ntop` for IPv6 (reference §3.3, B24).
 *
 * @module
 */

/** A parsed IP literal and its canonical text. */
export interface CanonicalIp {
  /** Address family. */
  readonly family: 4 | 6;
  /** The text knockd would produce for a packet to this address. */
  readonly text: string;
}

function parseV4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseV6(s: string): number[] | null {
  let head = s;
  let v4tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (lastColon >= 0 && s.slice(lastColon + 1).includes(".")) {
    const v4 = parseV4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    v4tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = s.slice(0, lastColon + 1);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === "") return [];
    const out: number[] = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const a = groups(halves[0] ?? "");
  if (a === null) return null;
  const need = 8 - v4tail.length;
  if (halves.length === 1) {
    if (a.length !== need) return null;
    return [...a, ...v4tail];
  }
  const b = groups(halves[1] ?? "");
  if (b === null || a.length + b.length >= need) return null;
  return [...a, ...new Array<number>(need - a.length - b.length).fill(0), ...b, ...v4tail];
}

/** glibc `inet_ntop(AF_INET6)`: longest run (≥ 2) of zero groups becomes `::`, first on a tie. */
function formatV6(w: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) best = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (best >= 0 && i >= best && i < best + bestLen) {
      if (i === best) out += ":";
      continue;
    }
    if (i > 0) out += ":";
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) tails print dotted.
    if (i === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += `${w[6]! >> 8}.${w[6]! & 0xff}.${w[7]! >> 8}.${w[7]! & 0xff}`;
      break;
    }
    out += w[i]!.toString(16);
  }
  if (best >= 0 && best + bestLen === 8) out += ":";
  return out;
}

/**
 * Parses an IPv4 or IPv6 literal (IPv4 parts may have leading zeros, read as decimal) and returns
 * its canonical text, or null when the text is not an IP literal.
 */
export function canonicalIp(text: string): CanonicalIp | null {
  const v4 = parseV4(text);
  if (v4 !== null) return { family: 4, text: v4.join(".") };
  if (!text.includes(":")) return null;
  const v6 = parseV6(text);
  return v6 === null ? null : { family: 6, text: formatV6(v6) };
}
