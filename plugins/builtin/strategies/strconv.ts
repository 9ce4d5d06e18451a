// Go's number and string conversions that the configuration's parsing
// and its messages depend on, ported from Go 1.26's strconv,
// unicode/utf8 and fmt so that a configuration means, and is refused
// with, exactly what the encoding/json-based Go version of this plugin
// said: correctly rounded float parsing (strconv.ParseFloat), the
// shortest float formatting of %v, %q quoting, and UTF-8 decoding with
// Go's replacement of invalid bytes. None of it runs while deciding.

import { IS_NOT_PRINT16, IS_NOT_PRINT32, IS_PRINT16, IS_PRINT32 } from "./isprint";

/** The rune utf8.DecodeRune returns for an invalid byte. */
export const RUNE_ERROR: i32 = 0xfffd;

/**
 * decodeRune is Go's utf8.DecodeRune on the n bytes at p: it returns the
 * rune and its size packed as rune | size << 24; an invalid or short
 * sequence is RUNE_ERROR of size 1.
 */
export function decodeRune(p: usize, n: usize): i32 {
  const b0 = <i32>load<u8>(p);
  if (b0 < 0x80) return b0 | (1 << 24);
  let size = 0, lo = 0x80, hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) size = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    size = 3;
    if (b0 == 0xe0) lo = 0xa0;
    else if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    size = 4;
    if (b0 == 0xf0) lo = 0x90;
    else if (b0 == 0xf4) hi = 0x8f;
  }
  if (size == 0 || n < <usize>size) return RUNE_ERROR | (1 << 24);
  const b1 = <i32>load<u8>(p + 1);
  if (b1 < lo || b1 > hi) return RUNE_ERROR | (1 << 24);
  if (size == 2) return ((b0 & 0x1f) << 6 | (b1 & 0x3f)) | (2 << 24);
  const b2 = <i32>load<u8>(p + 2);
  if (b2 < 0x80 || b2 > 0xbf) return RUNE_ERROR | (1 << 24);
  if (size == 3) return ((b0 & 0x0f) << 12 | (b1 & 0x3f) << 6 | (b2 & 0x3f)) | (3 << 24);
  const b3 = <i32>load<u8>(p + 3);
  if (b3 < 0x80 || b3 > 0xbf) return RUNE_ERROR | (1 << 24);
  return ((b0 & 0x07) << 18 | (b1 & 0x3f) << 12 | (b2 & 0x3f) << 6 | (b3 & 0x3f)) | (4 << 24);
}

/** isSpace is Go's unicode.IsSpace. */
export function isSpace(r: i32): bool {
  if (r <= 0xff) return r == 0x20 || (r >= 0x09 && r <= 0x0d) || r == 0x85 || r == 0xa0;
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200a) || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000;
}

/** allSpace reports whether bytes.TrimSpace leaves nothing of the n bytes at p. */
export function allSpace(p: usize, n: usize): bool {
  let i: usize = 0;
  while (i < n) {
    const rs = decodeRune(p + i, n - i);
    if (!isSpace(rs & 0xffffff)) return false;
    i += <usize>(rs >>> 24);
  }
  return true;
}

/** appendRune appends r to s as UTF-16. */
export function appendRune(s: string, r: i32): string {
  return s + String.fromCodePoint(r);
}

// bsearch16 and bsearch32 return the first index i with a[i] >= x.
function bsearch16(a: StaticArray<u16>, x: u32): i32 {
  let i = 0, j = a.length;
  while (i < j) {
    const h = i + ((j - i) >> 1);
    if (<u32>unchecked(a[h]) < x) i = h + 1;
    else j = h;
  }
  return i;
}

function bsearch32(a: StaticArray<u32>, x: u32): i32 {
  let i = 0, j = a.length;
  while (i < j) {
    const h = i + ((j - i) >> 1);
    if (unchecked(a[h]) < x) i = h + 1;
    else j = h;
  }
  return i;
}

/** isPrint is Go's strconv.IsPrint. */
export function isPrint(r: i32): bool {
  if (r <= 0xff) {
    if (r >= 0x20 && r <= 0x7e) return true;
    if (r >= 0xa1 && r <= 0xff) return r != 0xad;
    return false;
  }
  if (r < 0x10000) {
    const x = <u32>r;
    const i = bsearch16(IS_PRINT16, x);
    if (i >= IS_PRINT16.length || x < <u32>IS_PRINT16[i & ~1] || <u32>IS_PRINT16[i | 1] < x) return false;
    const j = bsearch16(IS_NOT_PRINT16, x);
    return !(j < IS_NOT_PRINT16.length && <u32>IS_NOT_PRINT16[j] == x);
  }
  const x = <u32>r;
  const i = bsearch32(IS_PRINT32, x);
  if (i >= IS_PRINT32.length || x < IS_PRINT32[i & ~1] || IS_PRINT32[i | 1] < x) return false;
  if (r >= 0x20000) return true;
  const y = <u32>(r - 0x10000);
  const j = bsearch16(IS_NOT_PRINT32, y);
  return !(j < IS_NOT_PRINT32.length && <u32>IS_NOT_PRINT32[j] == y);
}

const HEX = "0123456789abcdef";

/** escapeRune appends r to s as strconv.Quote writes it inside its quotes. */
function escapeRune(s: string, r: i32): string {
  if (r == 0x22 || r == 0x5c) return s + "\\" + String.fromCharCode(r);
  if (isPrint(r)) return appendRune(s, r);
  switch (r) {
    case 0x07: return s + "\\a";
    case 0x08: return s + "\\b";
    case 0x0c: return s + "\\f";
    case 0x0a: return s + "\\n";
    case 0x0d: return s + "\\r";
    case 0x09: return s + "\\t";
    case 0x0b: return s + "\\v";
  }
  if (r < 0x20 || r == 0x7f) return s + "\\x" + HEX.charAt(r >> 4) + HEX.charAt(r & 15);
  if (r < 0x10000) {
    s += "\\u";
    for (let sh = 12; sh >= 0; sh -= 4) s += HEX.charAt((r >> sh) & 15);
    return s;
  }
  s += "\\U";
  for (let sh = 28; sh >= 0; sh -= 4) s += HEX.charAt((r >> sh) & 15);
  return s;
}

/**
 * quote is Go's strconv.Quote (fmt's %q) of s, which holds valid
 * Unicode: every string the configuration's parser makes does.
 */
export function quote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; ) {
    const r = <i32>s.codePointAt(i);
    i += r >= 0x10000 ? 2 : 1;
    out = escapeRune(out, r);
  }
  return out + "\"";
}

/** quoteByte is encoding/json's quoteChar: the byte c quoted for a syntax error. */
export function quoteByte(c: i32): string {
  if (c == 0x27) return "'\\''";
  if (c == 0x22) return "'\"'";
  return "'" + escapeRune("", c) + "'";
}

/** itoa formats v in decimal. */
export function itoa(v: i64): string {
  return v.toString();
}

/**
 * parseInt is strconv.ParseInt(s, 10, 64) on a JSON number literal: it
 * returns false in ok when s is not an integer or is out of range.
 */
export let parsedInt: i64 = 0;
export function parseInt(s: string): bool {
  let i = 0;
  const neg = s.charCodeAt(0) == 0x2d;
  if (neg) i = 1;
  let v: u64 = 0;
  const limit: u64 = neg ? <u64>1 << 63 : (<u64>1 << 63) - 1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
    const d = <u64>(c - 0x30);
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  parsedInt = neg ? -<i64>v : <i64>v;
  return true;
}

// The rest is strconv's exact decimal arithmetic (decimal.go), what
// ParseFloat falls back on and what FormatFloat's shortest form started
// as; both are exact, so the results equal Go's faster paths'.

const MAX_DIGITS = 800;
const MAX_SHIFT: u32 = 60;
const MANT_BITS: i32 = 52;
const EXP_BITS: i32 = 11;
const BIAS: i32 = -1023;

class Decimal {
  d: Uint8Array = new Uint8Array(MAX_DIGITS);
  nd: i32 = 0;
  dp: i32 = 0;
  neg: bool = false;
  trunc: bool = false;
}

function trim(a: Decimal): void {
  while (a.nd > 0 && a.d[a.nd - 1] == 0x30) a.nd--;
  if (a.nd == 0) a.dp = 0;
}

function assign(a: Decimal, v: u64): void {
  const buf = new Uint8Array(24);
  let n = 0;
  while (v > 0) {
    const v1 = v / 10;
    buf[n++] = <u8>(v - 10 * v1 + 0x30);
    v = v1;
  }
  a.nd = 0;
  for (n--; n >= 0; n--) a.d[a.nd++] = buf[n];
  a.dp = a.nd;
  trim(a);
}

function rightShift(a: Decimal, k: u32): void {
  let r = 0, w = 0;
  let n: u64 = 0;
  for (; (n >> k) == 0; r++) {
    if (r >= a.nd) {
      if (n == 0) {
        a.nd = 0;
        return;
      }
      while ((n >> k) == 0) {
        n = n * 10;
        r++;
      }
      break;
    }
    n = n * 10 + <u64>a.d[r] - 0x30;
  }
  a.dp -= r - 1;
  const mask: u64 = (<u64>1 << k) - 1;
  for (; r < a.nd; r++) {
    const c = <u64>a.d[r];
    const dig = n >> k;
    n &= mask;
    a.d[w++] = <u8>(dig + 0x30);
    n = n * 10 + c - 0x30;
  }
  while (n > 0) {
    const dig = n >> k;
    n &= mask;
    if (w < MAX_DIGITS) a.d[w++] = <u8>(dig + 0x30);
    else if (dig > 0) a.trunc = true;
    n = n * 10;
  }
  a.nd = w;
  trim(a);
}

// LEFT_CHEATS[k] is 5^k: a left shift by k adds len(5^k) - 1 digits, or
// one more when the number's digits are not below 5^k's.
const LEFT_CHEATS: string[] = [
  "", "5", "25", "125", "625", "3125", "15625", "78125", "390625", "1953125",
  "9765625", "48828125", "244140625", "1220703125", "6103515625", "30517578125",
  "152587890625", "762939453125", "3814697265625", "19073486328125", "95367431640625",
  "476837158203125", "2384185791015625", "11920928955078125", "59604644775390625",
  "298023223876953125", "1490116119384765625", "7450580596923828125",
  "37252902984619140625", "186264514923095703125", "931322574615478515625",
  "4656612873077392578125", "23283064365386962890625", "116415321826934814453125",
  "582076609134674072265625", "2910383045673370361328125", "14551915228366851806640625",
  "72759576141834259033203125", "363797880709171295166015625",
  "1818989403545856475830078125", "9094947017729282379150390625",
  "45474735088646411895751953125", "227373675443232059478759765625",
  "1136868377216160297393798828125", "5684341886080801486968994140625",
  "28421709430404007434844970703125", "142108547152020037174224853515625",
  "710542735760100185871124267578125", "3552713678800500929355621337890625",
  "17763568394002504646778106689453125", "88817841970012523233890533447265625",
  "444089209850062616169452667236328125", "2220446049250313080847263336181640625",
  "11102230246251565404236316680908203125", "55511151231257827021181583404541015625",
  "277555756156289135105907917022705078125", "1387778780781445675529539585113525390625",
  "6938893903907228377647697925567626953125", "34694469519536141888238489627838134765625",
  "173472347597680709441192448139190673828125", "867361737988403547205962240695953369140625",
];

// LEFT_DELTAS[k] is int(log10(2) * k + 1), decimal.go's leftcheats' delta.
const LEFT_DELTAS: StaticArray<u8> = [
  0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 9, 9, 9,
  10, 10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 15, 15, 15, 16, 16, 16, 16,
  17, 17, 17, 18, 18, 18, 19,
];

function prefixIsLessThan(a: Decimal, s: string): bool {
  for (let i = 0; i < s.length; i++) {
    if (i >= a.nd) return true;
    const b = <i32>a.d[i], c = s.charCodeAt(i);
    if (b != c) return b < c;
  }
  return false;
}

function leftShift(a: Decimal, k: u32): void {
  let delta = <i32>LEFT_DELTAS[k];
  if (prefixIsLessThan(a, LEFT_CHEATS[k])) delta--;
  let r = a.nd, w = a.nd + delta;
  let n: u64 = 0;
  for (r--; r >= 0; r--) {
    n += (<u64>a.d[r] - 0x30) << k;
    const quo = n / 10, rem = n - 10 * quo;
    w--;
    if (w < MAX_DIGITS) a.d[w] = <u8>(rem + 0x30);
    else if (rem != 0) a.trunc = true;
    n = quo;
  }
  while (n > 0) {
    const quo = n / 10, rem = n - 10 * quo;
    w--;
    if (w < MAX_DIGITS) a.d[w] = <u8>(rem + 0x30);
    else if (rem != 0) a.trunc = true;
    n = quo;
  }
  a.nd += delta;
  if (a.nd >= MAX_DIGITS) a.nd = MAX_DIGITS;
  a.dp += delta;
  trim(a);
}

function shift(a: Decimal, k: i32): void {
  if (a.nd == 0) return;
  if (k > 0) {
    while (k > <i32>MAX_SHIFT) {
      leftShift(a, MAX_SHIFT);
      k -= MAX_SHIFT;
    }
    leftShift(a, <u32>k);
  } else if (k < 0) {
    while (k < -<i32>MAX_SHIFT) {
      rightShift(a, MAX_SHIFT);
      k += MAX_SHIFT;
    }
    rightShift(a, <u32>-k);
  }
}

function shouldRoundUp(a: Decimal, nd: i32): bool {
  if (nd < 0 || nd >= a.nd) return false;
  if (a.d[nd] == 0x35 && nd + 1 == a.nd) {
    if (a.trunc) return true;
    return nd > 0 && (a.d[nd - 1] - 0x30) % 2 != 0;
  }
  return a.d[nd] >= 0x35;
}

function roundDown(a: Decimal, nd: i32): void {
  if (nd < 0 || nd >= a.nd) return;
  a.nd = nd;
  trim(a);
}

function roundUp(a: Decimal, nd: i32): void {
  if (nd < 0 || nd >= a.nd) return;
  for (let i = nd - 1; i >= 0; i--) {
    if (a.d[i] < 0x39) {
      a.d[i]++;
      a.nd = i + 1;
      return;
    }
  }
  a.d[0] = 0x31;
  a.nd = 1;
  a.dp++;
}

function round(a: Decimal, nd: i32): void {
  if (nd < 0 || nd >= a.nd) return;
  if (shouldRoundUp(a, nd)) roundUp(a, nd);
  else roundDown(a, nd);
}

function roundedInteger(a: Decimal): u64 {
  if (a.dp > 20) return 0xffffffffffffffff;
  let i = 0;
  let n: u64 = 0;
  for (; i < a.dp && i < a.nd; i++) n = n * 10 + <u64>(a.d[i] - 0x30);
  for (; i < a.dp; i++) n *= 10;
  if (shouldRoundUp(a, a.dp)) n++;
  return n;
}

/** set is decimal.set on a JSON number literal, which is always well formed. */
function set(b: Decimal, s: string): void {
  let i = 0;
  b.neg = false;
  b.trunc = false;
  if (s.charCodeAt(0) == 0x2d) {
    i++;
    b.neg = true;
  }
  let sawdot = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x2e) {
      sawdot = true;
      b.dp = b.nd;
      continue;
    }
    if (c < 0x30 || c > 0x39) break;
    if (c == 0x30 && b.nd == 0) {
      b.dp--;
      continue;
    }
    if (b.nd < MAX_DIGITS) b.d[b.nd++] = <u8>c;
    else if (c != 0x30) b.trunc = true;
  }
  if (!sawdot) b.dp = b.nd;
  if (i < s.length) { // e or E
    i++;
    let esign = 1;
    const c = s.charCodeAt(i);
    if (c == 0x2b) i++;
    else if (c == 0x2d) {
      i++;
      esign = -1;
    }
    let e = 0;
    for (; i < s.length; i++) {
      if (e < 10000) e = e * 10 + s.charCodeAt(i) - 0x30;
    }
    b.dp += e * esign;
  }
}

const POWTAB: StaticArray<i32> = [1, 3, 6, 9, 13, 16, 19, 23, 26];

/** floatBits is decimal.floatBits for float64; floatOverflow says it overflowed. */
let floatOverflow = false;
function floatBits(d: Decimal): u64 {
  let exp: i32 = 0;
  let mant: u64 = 0;
  floatOverflow = false;
  if (d.nd == 0 || d.dp < -330) {
    exp = BIAS;
  } else if (d.dp > 310) {
    floatOverflow = true;
  } else {
    while (d.dp > 0) {
      const n = d.dp >= POWTAB.length ? 27 : POWTAB[d.dp];
      shift(d, -n);
      exp += n;
    }
    while (d.dp < 0 || (d.dp == 0 && d.d[0] < 0x35)) {
      const n = -d.dp >= POWTAB.length ? 27 : POWTAB[-d.dp];
      shift(d, n);
      exp -= n;
    }
    exp--;
    if (exp < BIAS + 1) {
      const n = BIAS + 1 - exp;
      shift(d, -n);
      exp += n;
    }
    if (exp - BIAS >= (1 << EXP_BITS) - 1) {
      floatOverflow = true;
    } else {
      shift(d, 1 + MANT_BITS);
      mant = roundedInteger(d);
      if (mant == (<u64>2 << MANT_BITS)) {
        mant >>= 1;
        exp++;
        if (exp - BIAS >= (1 << EXP_BITS) - 1) floatOverflow = true;
      }
      if ((mant & (<u64>1 << MANT_BITS)) == 0) exp = BIAS;
    }
  }
  if (floatOverflow) {
    mant = 0;
    exp = (1 << EXP_BITS) - 1 + BIAS;
  }
  let bits = mant & ((<u64>1 << MANT_BITS) - 1);
  bits |= <u64>((exp - BIAS) & ((1 << EXP_BITS) - 1)) << MANT_BITS;
  if (d.neg) bits |= <u64>1 << 63;
  return bits;
}

/**
 * parseFloat is strconv.ParseFloat(s, 64) on a JSON number literal: the
 * nearest float64. It returns false when the number overflows, which Go
 * reports as ErrRange (and encoding/json as a type error).
 */
export let parsedFloat: f64 = 0;
export function parseFloat(s: string): bool {
  const d = new Decimal();
  set(d, s);
  parsedFloat = reinterpret<f64>(floatBits(d));
  return !floatOverflow;
}

/** roundShortest is ftoa.go's: the shortest digits that parse back to the float. */
function roundShortest(d: Decimal, mant: u64, exp: i32): void {
  if (mant == 0) {
    d.nd = 0;
    return;
  }
  const minexp = BIAS + 1;
  if (exp > minexp && 332 * (d.dp - d.nd) >= 100 * (exp - MANT_BITS)) return;
  const upper = new Decimal();
  assign(upper, mant * 2 + 1);
  shift(upper, exp - MANT_BITS - 1);
  let mantlo: u64, explo: i32;
  if (mant > (<u64>1 << MANT_BITS) || exp == minexp) {
    mantlo = mant - 1;
    explo = exp;
  } else {
    mantlo = mant * 2 - 1;
    explo = exp - 1;
  }
  const lower = new Decimal();
  assign(lower, mantlo * 2 + 1);
  shift(lower, explo - MANT_BITS - 1);
  const inclusive = mant % 2 == 0;
  let upperdelta = 0;
  for (let ui = 0; ; ui++) {
    const mi = ui - upper.dp + d.dp;
    if (mi >= d.nd) break;
    const li = ui - upper.dp + lower.dp;
    let l = 0x30;
    if (li >= 0 && li < lower.nd) l = lower.d[li];
    let m = 0x30;
    if (mi >= 0) m = d.d[mi];
    let u = 0x30;
    if (ui < upper.nd) u = upper.d[ui];
    const okdown = l != m || (inclusive && li + 1 == lower.nd);
    if (upperdelta == 0 && m + 1 < u) upperdelta = 2;
    else if (upperdelta == 0 && m != u) upperdelta = 1;
    else if (upperdelta == 1 && (m != 0x39 || u != 0x30)) upperdelta = 2;
    const okup = upperdelta > 0 && (inclusive || upperdelta > 1 || ui + 1 < upper.nd);
    if (okdown && okup) {
      round(d, mi + 1);
      return;
    }
    if (okdown) {
      roundDown(d, mi + 1);
      return;
    }
    if (okup) {
      roundUp(d, mi + 1);
      return;
    }
  }
}

/** formatFloat is Go's fmt %v of a finite float64: strconv.FormatFloat(v, 'g', -1, 64). */
export function formatFloat(v: f64): string {
  const bits = reinterpret<u64>(v);
  const neg = (bits >> 63) != 0;
  let exp = <i32>((bits >> MANT_BITS) & ((1 << EXP_BITS) - 1));
  let mant = bits & ((<u64>1 << MANT_BITS) - 1);
  if (exp == 0) exp++;
  else mant |= <u64>1 << MANT_BITS;
  exp += BIAS;
  const d = new Decimal();
  assign(d, mant);
  shift(d, exp - MANT_BITS);
  roundShortest(d, mant, exp);
  let out = neg ? "-" : "";
  const e = d.dp - 1;
  if (e < -4 || e >= 6) { // %e with nd-1 digits after the point
    out += d.nd != 0 ? String.fromCharCode(d.d[0]) : "0";
    if (d.nd > 1) {
      out += ".";
      for (let i = 1; i < d.nd; i++) out += String.fromCharCode(d.d[i]);
    }
    let x = d.nd == 0 ? 0 : e;
    out += x < 0 ? "e-" : "e+";
    if (x < 0) x = -x;
    if (x < 10) out += "0";
    return out + x.toString();
  }
  // %f with max(nd-dp, 0) digits after the point
  if (d.dp > 0) {
    let m = 0;
    for (; m < d.nd && m < d.dp; m++) out += String.fromCharCode(d.d[m]);
    for (; m < d.dp; m++) out += "0";
  } else {
    out += "0";
  }
  const prec = d.nd - d.dp;
  if (prec > 0) {
    out += ".";
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      out += j >= 0 && j < d.nd ? String.fromCharCode(d.d[j]) : "0";
    }
  }
  return out;
}
