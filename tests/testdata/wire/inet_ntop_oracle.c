/* Oracle for src/wire/address.ts: prints "<32 hex digits> <glibc inet_ntop text>" per line.
 * Build and run: gcc -O2 -o /tmp/ntop inet_ntop_oracle.c && /tmp/ntop > inet_ntop_glibc.txt
 * Addresses: every 8-bit pattern of zero/non-zero groups with a few group values (incl. ffff, 1,
 * and 4-digit ones), plus the IPv4-mapped/compatible edge cases, from a fixed LCG seed. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
static unsigned lcg = 12345;
static unsigned next(void) { lcg = lcg * 1103515245u + 12345u; return lcg >> 8; }
static void emit(const unsigned char *b) {
  char s[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, b, s, sizeof s);
  for (int i = 0; i < 16; i++) printf("%02x", b[i]);
  printf(" %s\n", s);
}
int main(void) {
  static const unsigned vals[] = {1, 0xffff, 0x2001, 0xdb8, 0x10, 0xabcd, 0x100, 0xfe80};
  unsigned char b[16];
  for (int mask = 0; mask < 256; mask++)
    for (int rep = 0; rep < 6; rep++) {
      for (int g = 0; g < 8; g++) {
        unsigned w = (mask >> g) & 1 ? vals[next() % 8] : 0;
        if (rep > 2 && (mask >> g) & 1) w = next() & 0xffff;
        if (w == 0 && (mask >> g) & 1) w = 7;
        b[2 * g] = w >> 8; b[2 * g + 1] = w & 0xff;
      }
      emit(b);
    }
  /* IPv4-mapped / compatible edges: word 5 = ffff with various tails, and word 5 = 0. */
  static const unsigned tails[][2] = {{0,0},{0,1},{1,0},{0xc000,0x201},{0xffff,0xffff},{0x7f00,1},{0,0xffff}};
  for (int w5 = 0; w5 < 3; w5++)
    for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
      memset(b, 0, 16);
      unsigned v5 = w5 == 0 ? 0 : w5 == 1 ? 0xffff : 0xfffe;
      b[10] = v5 >> 8; b[11] = v5 & 0xff;
      b[12] = tails[t][0] >> 8; b[13] = tails[t][0] & 0xff;
      b[14] = tails[t][1] >> 8; b[15] = tails[t][1] & 0xff;
      emit(b);
      b[0] = 0; b[1] = 1; emit(b); /* a non-zero first group disables the special forms */
    }
  return 0;
}
