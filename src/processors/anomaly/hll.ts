// A HyperLogLog distinct-count sketch of 64 six-bit registers, stored as 64
// bytes (16 uint32 words) inside a KeyTable slab. Standard error ≈ 1.04/√64 ≈
// 13% for large counts; small counts (the ones that matter for "how many
// accounts failed from this address") use linear counting and are close to exact.

export const HLL_REGISTERS = 64;
export const HLL_WORDS = HLL_REGISTERS / 4;
const INDEX_BITS = 6;
const ALPHA = 0.709; // α for m = 64
const INV_POW2 = Float64Array.from({ length: 34 }, (_, r) => 2 ** -r);

function register(words: Uint32Array, at: number, i: number): number {
  return (words[at + (i >>> 2)] >>> ((i & 3) << 3)) & 0xff;
}

/** Adds a 32-bit hash to the sketch at word offset `at`. */
export function hllAdd(words: Uint32Array, at: number, hash: number): void {
  const i = hash >>> (32 - INDEX_BITS);
  const rest = (hash << INDEX_BITS) >>> 0;
  const rank = rest === 0 ? 32 - INDEX_BITS + 1 : Math.clz32(rest) + 1;
  if (rank > register(words, at, i)) {
    const w = at + (i >>> 2);
    const shift = (i & 3) << 3;
    words[w] = ((words[w] & ~(0xff << shift)) | (rank << shift)) >>> 0;
  }
}

/** Estimated distinct count of the union of the sketches at offsets a and b (b < 0: just a). */
export function hllEstimate(words: Uint32Array, a: number, b = -1): number {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const r = b < 0 ? register(words, a, i) : Math.max(register(words, a, i), register(words, b, i));
    sum += INV_POW2[r];
    if (r === 0) zeros++;
  }
  const raw = (ALPHA * HLL_REGISTERS * HLL_REGISTERS) / sum;
  if (raw <= 2.5 * HLL_REGISTERS && zeros > 0) return HLL_REGISTERS * Math.log(HLL_REGISTERS / zeros);
  return raw;
}

export function hllClear(words: Uint32Array, at: number): void {
  words.fill(0, at, at + HLL_WORDS);
}
