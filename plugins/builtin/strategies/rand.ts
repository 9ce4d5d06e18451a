// The weighted pick's randomness, bit for bit what the Go version of the
// strategies drew: math/rand/v2's PCG-DXSM seeded as sdk/routing's Rand
// seeds it, its Float64, and math.Pow as Go computes it on wasm (in Go,
// with its own Exp and Log, not the libm algorithms AssemblyScript's
// Math.pow follows), so that a call's weighted draw is the same whichever
// module made it.

let hi: u64 = 0;
let lo: u64 = 0;

/** seed seeds the generator for a call, as routing.Rand(f) does. */
export function seed(s: u64): void {
  hi = s;
  lo = s ^ 0x9e3779b97f4a7c15;
}

/** mulHi is the high half of the 128-bit product a*b (bits.Mul64). */
@inline function mulHi(a: u64, b: u64): u64 {
  const a0 = a & 0xffffffff, a1 = a >> 32, b0 = b & 0xffffffff, b1 = b >> 32;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >> 32) + (p01 & 0xffffffff) + (p10 & 0xffffffff);
  return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/** float64 is rand.Rand.Float64 on the PCG: a number in [0, 1). */
export function float64(): f64 {
  const mulHiC: u64 = 2549297995355413924, mulLoC: u64 = 4865540595714422341;
  const incHi: u64 = 6364136223846793005, incLo: u64 = 1442695040888963407;
  // state = state * mul + inc, in 128 bits
  let h = mulHi(lo, mulLoC) + hi * mulLoC + lo * mulHiC;
  let l = lo * mulLoC;
  const l2 = l + incLo;
  h += incHi + (l2 < l ? 1 : 0);
  lo = l2;
  hi = h;
  // DXSM
  h ^= h >> 32;
  h *= 0xda942042e4dd58b5;
  h ^= h >> 48;
  h *= lo | 1;
  return <f64>((h << 11) >> 11) / 9007199254740992.0;
}

// math's pure-Go functions, as Go's wasm port runs them.

const MASK: u64 = 0x7ff, SHIFT: u64 = 52, BIAS: i32 = 1023;
const SMALLEST_NORMAL: f64 = 2.2250738585072014e-308;

function isInf(x: f64): bool {
  return x == Infinity || x == -Infinity;
}

/** frexp returns frac in [½, 1) and fExp with x = frac × 2^fExp. */
let fExp: i32 = 0;
function frexp(f: f64): f64 {
  fExp = 0;
  if (f == 0 || isInf(f) || isNaN(f)) return f;
  if (abs(f) < SMALLEST_NORMAL) {
    f *= <f64>(<u64>1 << 52);
    fExp = -52;
  }
  let x = reinterpret<u64>(f);
  fExp += <i32>((x >> SHIFT) & MASK) - BIAS + 1;
  x &= ~(MASK << SHIFT);
  x |= <u64>(-1 + BIAS) << SHIFT;
  return reinterpret<f64>(x);
}

function ldexp(frac: f64, exp: i32): f64 {
  if (frac == 0 || isInf(frac) || isNaN(frac)) return frac;
  if (abs(frac) < SMALLEST_NORMAL) {
    frac *= <f64>(<u64>1 << 52);
    exp -= 52;
  }
  let x = reinterpret<u64>(frac);
  exp += <i32>((x >> SHIFT) & MASK) - BIAS;
  if (exp < -1075) return copysign<f64>(0, frac);
  if (exp > 1023) return frac < 0 ? -Infinity : Infinity;
  let m: f64 = 1;
  if (exp < -1022) {
    exp += 53;
    m = 1.0 / <f64>(<u64>1 << 53);
  }
  x &= ~(MASK << SHIFT);
  x |= <u64>(exp + BIAS) << SHIFT;
  return m * reinterpret<f64>(x);
}

function exp(x: f64): f64 {
  const Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10,
    Log2e = 1.44269504088896338700e+00, Overflow = 7.09782712893383973096e+02,
    Underflow = -7.45133219101941108420e+02, NearZero = 1.0 / <f64>(1 << 28);
  if (isNaN(x)) return x;
  if (x > Overflow) return Infinity;
  if (x < Underflow) return 0;
  if (-NearZero < x && x < NearZero) return 1 + x;
  let k: i64 = 0;
  if (x < 0) k = <i64>(Log2e * x - 0.5);
  else if (x > 0) k = <i64>(Log2e * x + 0.5);
  const hi = x - <f64>k * Ln2Hi;
  const lo = <f64>k * Ln2Lo;
  const P1 = 1.66666666666666657415e-01, P2 = -2.77777777770155933842e-03,
    P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06,
    P5 = 4.13813679705723846039e-08;
  const r = hi - lo;
  const t = r * r;
  const c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  const y = 1 - ((lo - (r * c) / (2 - c)) - hi);
  return ldexp(y, <i32>k);
}

function log(x: f64): f64 {
  const Ln2Hi = 6.93147180369123816490e-01, Ln2Lo = 1.90821492927058770002e-10,
    L1 = 6.666666666666735130e-01, L2 = 3.999999999940941908e-01, L3 = 2.857142874366239149e-01,
    L4 = 2.222219843214978396e-01, L5 = 1.818357216161805012e-01, L6 = 1.531383769920937332e-01,
    L7 = 1.479819860511658591e-01;
  if (isNaN(x) || x == Infinity) return x;
  if (x < 0) return NaN;
  if (x == 0) return -Infinity;
  let f1 = frexp(x);
  let ki = fExp;
  if (f1 < Math.SQRT2 / 2) {
    f1 *= 2;
    ki--;
  }
  const f = f1 - 1;
  const k = <f64>ki;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * Ln2Hi - ((hfsq - (s * (hfsq + R) + k * Ln2Lo)) - f);
}

function isOddInt(x: f64): bool {
  if (abs(x) >= <f64>(<u64>1 << 53)) return false;
  const xi = trunc(x);
  return x - xi == 0 && (<i64>xi & 1) == 1;
}

/** pow is Go's math.Pow. */
export function pow(x: f64, y: f64): f64 {
  if (y == 0 || x == 1) return 1;
  if (y == 1) return x;
  if (isNaN(x) || isNaN(y)) return NaN;
  if (x == 0) {
    const neg = (reinterpret<u64>(x) >> 63) != 0;
    if (y < 0) return neg && isOddInt(y) ? -Infinity : Infinity;
    return neg && isOddInt(y) ? x : 0;
  }
  if (isInf(y)) {
    if (x == -1) return 1;
    return (abs(x) < 1) == (y == Infinity) ? 0 : Infinity;
  }
  if (isInf(x)) {
    if (x == -Infinity) return pow(1 / x, -y);
    return y < 0 ? 0 : Infinity;
  }
  if (y == 0.5) return sqrt(x);
  if (y == -0.5) return 1 / sqrt(x);

  const ay = abs(y);
  let yi = trunc(ay);
  let yf = copysign<f64>(ay - yi, ay);
  if (yf != 0 && x < 0) return NaN;
  if (yi >= 9223372036854775808.0) {
    if (x == -1) return 1;
    return (abs(x) < 1) == (y > 0) ? 0 : Infinity;
  }
  let a1: f64 = 1;
  let ae: i32 = 0;
  if (yf != 0) {
    if (yf > 0.5) {
      yf--;
      yi++;
    }
    a1 = exp(yf * log(x));
  }
  let x1 = frexp(x);
  let xe = fExp;
  for (let i = <i64>yi; i != 0; i >>= 1) {
    if (xe < -(1 << 12) || (1 << 12) < xe) {
      ae += xe;
      break;
    }
    if ((i & 1) == 1) {
      a1 *= x1;
      ae += xe;
    }
    x1 *= x1;
    xe <<= 1;
    if (x1 < 0.5) {
      x1 += x1;
      xe--;
    }
  }
  if (y < 0) {
    a1 = 1 / a1;
    ae = -ae;
  }
  return ldexp(a1, ae);
}
