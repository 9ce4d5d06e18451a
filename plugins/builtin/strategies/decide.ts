// Deciding: the code the gateway runs on every call. It reads the facts
// where the host laid them out (docs/routing-plugins.md, "The ABI") and
// the configuration in the compact form install lays out below, writes the
// decision into memory it reuses, and allocates nothing: the scratch it
// needs grows with the input buffer, in sy_input. It is short and
// straight on purpose: between two calls the gateway does some 500 µs of
// other work, so every call finds this code and its data cold.

import { Compiled, PICK_CHEAPEST, PICK_DEFAULT, PICK_FASTEST, PICK_WEIGHTED, Policy } from "./config";
import { float64, pow, seed } from "./rand";

// The facts' fields (sdk/routing/abi): a str is {addr u64, len u64}, a
// list {addr u64, len u64, cap u64}; addresses fit in 32 bits, so the
// low words are read.
export const FACTS_SIZE: u32 = 240;
const F_SEED = 8, F_MODEL = 16, F_API = 32, F_TOKENS = 48, F_TOOLS = 56, F_AGENT = 96, F_TEAM = 112,
  F_USER = 128, F_TASK = 144, F_TAGS = 160, F_TARGETS = 192, F_DEFAULT = 216;
const TARGET_SIZE: u32 = 80, T_PROVIDER = 0, T_MODEL = 16, T_HEALTH = 32, T_TOOLS = 34, T_LATENCY = 40,
  T_ERROR_RATE = 48, T_INPUT = 56, T_OUTPUT = 64, T_CONTEXT = 72;
const TAG_SIZE: u32 = 32;

// A rule as deciding reads it, RULE_SIZE bytes: a str here is {addr u32,
// len u32} of UTF-8 in this module's memory. The last rule is
// otherwise, whose ALWAYS is set.
const R_TASK = 0, R_API = 8, R_AGENT = 16, R_TEAM = 24, R_USER = 32, R_MODEL = 40,
  R_HAS_MODEL = 48, R_PREFIX = 49, R_TOOLS = 50, R_ALWAYS = 51, R_NTAGS = 52, R_TAGS = 56,
  R_NPREFER = 60, R_PREFER = 64, R_PICK = 68, R_MIN = 72, R_MAX = 80, R_REASON = 88, R_MOVED = 96;
const RULE_SIZE: u32 = 104;
// A tag to match is {key str, value str}; a preferred target {provider
// str, model str}; a weight {provider str, model str, weight f64}.
const PAIR_SIZE: u32 = 16, WEIGHT_SIZE: u32 = 24;

// The configuration, laid out by install.
let rules: usize = 0;
let weights: usize = 0;
let nWeights: u32 = 0;
let failover = true;

// The input buffer, and the scratch that grows with it.
export let input: usize = 0;
export let inputCap: u32 = 0;
let maxTargets: u32 = 0; // what the scratch holds: targets
let maxIndexes: u32 = 0; // and indexes (the default route may repeat one)
let order: usize = 0; // the answer being built, i64 indexes: the decision's list
let sick: usize = 0; // healthyFirst's targets to move last
let scores: usize = 0; // f64 by target: the pick's sort key
let taken: usize = 0; // u8 by target: already in order

/** The decision, 56 bytes: targets list, reason str, error str. */
const decision = memory.data(56, 8);

/**
 * grow makes the input buffer at least size bytes (doubling, as the Go
 * SDK's does) with scratch for as many targets as such facts can hold.
 */
export function grow(size: u32): void {
  if (size <= inputCap) return;
  const cap = (max(size, inputCap * 2) + 7) & ~7;
  const targets = cap / TARGET_SIZE + 1, indexes = cap / 8 + 1;
  if (input != 0) heap.free(input); // the stub runtime takes it back if it is the last block
  input = heap.alloc(cap + 2 * 8 * indexes + 8 * targets + targets);
  inputCap = cap;
  maxTargets = targets;
  maxIndexes = indexes;
  order = input + cap;
  sick = order + 8 * indexes;
  scores = sick + 8 * indexes;
  taken = scores + 8 * targets;
}

/** The UTF-8 bytes of the strings install lays out, and where the next goes. */
let strings: usize = 0;

function putStr(at: usize, s: string): void {
  const n = String.UTF8.byteLength(s);
  String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, strings);
  store<u32>(at, <u32>strings);
  store<u32>(at, n, 4);
  strings += n;
}

function strBytes(s: string): usize {
  return String.UTF8.byteLength(s);
}

/** install lays out policy for deciding, in one block. */
export function install(policy: Policy): void {
  const rs = policy.rules;
  // Weights by parsed name; a repeated name (openai and openai/) keeps
  // the last.
  const wp: string[] = [], wm: string[] = [], wv: f64[] = [];
  for (let i = 0; i < policy.weights.keys.length; i++) {
    const k = policy.weights.keys[i];
    const slash = k.indexOf("/");
    const p = slash < 0 ? k : k.substring(0, slash), m = slash < 0 ? "" : k.substring(slash + 1);
    let j = 0;
    while (j < wp.length && !(wp[j] == p && wm[j] == m)) j++;
    if (j == wp.length) {
      wp.push(p);
      wm.push(m);
      wv.push(0);
    }
    wv[j] = policy.weights.values[i];
  }
  let pairs = 0, bytes: usize = 0;
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    pairs += r.tagKeys.length + r.prefer.length;
    bytes += strBytes(r.task) + strBytes(r.api) + strBytes(r.agent) + strBytes(r.team) + strBytes(r.user);
    bytes += strBytes(r.model) + strBytes(r.reason) + strBytes(r.reasonMoved);
    for (let j = 0; j < r.tagKeys.length; j++) bytes += strBytes(r.tagKeys[j]) + strBytes(r.tagValues[j]);
    for (let j = 0; j < r.prefer.length; j++) bytes += strBytes(r.prefer[j].provider) + strBytes(r.prefer[j].model);
  }
  for (let j = 0; j < wp.length; j++) bytes += strBytes(wp[j]) + strBytes(wm[j]);
  const fixed = <usize>rs.length * RULE_SIZE + <usize>pairs * PAIR_SIZE + <usize>wp.length * WEIGHT_SIZE;
  rules = heap.alloc(fixed + bytes);
  memory.fill(rules, 0, fixed);
  let pair = rules + <usize>rs.length * RULE_SIZE;
  weights = pair + <usize>pairs * PAIR_SIZE;
  nWeights = wp.length;
  strings = weights + <usize>nWeights * WEIGHT_SIZE;
  for (let i = 0; i < rs.length; i++) {
    const r: Compiled = rs[i], at = rules + <usize>i * RULE_SIZE;
    putStr(at + R_TASK, r.task);
    putStr(at + R_API, r.api);
    putStr(at + R_AGENT, r.agent);
    putStr(at + R_TEAM, r.team);
    putStr(at + R_USER, r.user);
    putStr(at + R_MODEL, r.model);
    store<u8>(at, r.hasModel, R_HAS_MODEL);
    store<u8>(at, r.prefix, R_PREFIX);
    store<i8>(at, <i8>r.tools, R_TOOLS);
    store<u8>(at, r.always, R_ALWAYS);
    store<u32>(at, r.tagKeys.length, R_NTAGS);
    store<u32>(at, <u32>pair, R_TAGS);
    for (let j = 0; j < r.tagKeys.length; j++, pair += PAIR_SIZE) {
      putStr(pair, r.tagKeys[j]);
      putStr(pair + 8, r.tagValues[j]);
    }
    store<u32>(at, r.prefer.length, R_NPREFER);
    store<u32>(at, <u32>pair, R_PREFER);
    for (let j = 0; j < r.prefer.length; j++, pair += PAIR_SIZE) {
      putStr(pair, r.prefer[j].provider);
      putStr(pair + 8, r.prefer[j].model);
    }
    store<u32>(at, r.pick, R_PICK);
    store<i64>(at, r.min, R_MIN);
    store<i64>(at, r.max, R_MAX);
    putStr(at + R_REASON, r.reason);
    putStr(at + R_MOVED, r.reasonMoved);
  }
  for (let j = 0; j < wp.length; j++) {
    const at = weights + <usize>j * WEIGHT_SIZE;
    putStr(at, wp[j]);
    putStr(at + 8, wm[j]);
    store<f64>(at, wv[j], 16);
  }
  failover = policy.failover;
}

// Deciding.

/** eq compares the n bytes at a with the string of m bytes at b. */
function eq(a: usize, n: u32, b: usize, m: u32): bool {
  if (n != m) return false;
  // Eight bytes at a time: every turn of a loop costs a check of the
  // call's time budget (the host's instrumentation).
  const words = a + (n & ~7);
  for (; a < words; a += 8, b += 8) if (load<u64>(a) != load<u64>(b)) return false;
  for (const end = words + (n & 7); a < end; a++, b++) if (load<u8>(a) != load<u8>(b)) return false;
  return true;
}

/** is compares the rule's str at r with the facts' str at f. */
@inline function is(r: usize, f: usize): bool {
  return eq(load<u32>(r), load<u32>(r, 4), load<u32>(f), load<u32>(f, 8));
}

/** given: the rule's str at r is empty (no condition) or equals the facts' at f. */
@inline function given(r: usize, f: usize): bool {
  return load<u32>(r, 4) == 0 || is(r, f);
}

/** holds reports whether the rule at r matches the facts at f. */
function holds(r: usize, f: usize): bool {
  if (load<u8>(r, R_ALWAYS)) return true;
  const tokens = load<i64>(f, F_TOKENS);
  const most = load<i64>(r, R_MAX), tools = load<i8>(r, R_TOOLS);
  if (tokens < load<i64>(r, R_MIN) || (most > 0 && tokens > most)) return false;
  if (tools >= 0 && <i8>(load<u8>(f, F_TOOLS) != 0) != tools) return false;
  if (!given(r + R_TASK, f + F_TASK) || !given(r + R_API, f + F_API) || !given(r + R_AGENT, f + F_AGENT) ||
    !given(r + R_TEAM, f + F_TEAM) || !given(r + R_USER, f + F_USER)) return false;
  if (load<u8>(r, R_HAS_MODEL)) {
    const m = load<u32>(r, R_MODEL + 4);
    if (load<u8>(r, R_PREFIX)) {
      if (load<u32>(f, F_MODEL + 8) < m || !eq(load<u32>(r, R_MODEL), m, load<u32>(f, F_MODEL), m)) return false;
    } else if (!is(r + R_MODEL, f + F_MODEL)) return false;
  }
  const tags = <usize>load<u32>(f, F_TAGS), n = load<u32>(f, F_TAGS + 8);
  let want = <usize>load<u32>(r, R_TAGS);
  for (let w = load<u32>(r, R_NTAGS); w > 0; w--, want += PAIR_SIZE) {
    let i: u32 = 0;
    for (let t = tags; i < n; i++, t += TAG_SIZE) if (is(want, t) && is(want + 8, t + 16)) break;
    if (i == n) return false;
  }
  return true;
}

/** weight is the weighted pick's weight of the target at t: by provider/model, else provider. */
function weight(t: usize): f64 {
  let w = weights;
  for (let i: u32 = 0; i < nWeights; i++, w += WEIGHT_SIZE) if (is(w, t + T_PROVIDER) && is(w + 8, t + T_MODEL)) return load<f64>(w, 16);
  w = weights;
  for (let i: u32 = 0; i < nWeights; i++, w += WEIGHT_SIZE) if (load<u32>(w, 12) == 0 && is(w, t + T_PROVIDER)) return load<f64>(w, 16);
  return 0;
}

/**
 * rank appends the capable targets not yet taken, best first by pick,
 * to the k in order, and returns the new length. Capable: the context
 * window holds the estimated input, and it takes tools if the request
 * has them (an unpriced model's tool support is unknown, so it counts).
 */
function rank(f: usize, targets: usize, n: u32, pick: i32, k: u32): u32 {
  const start = k;
  const tokens = load<i64>(f, F_TOKENS), tools = load<u8>(f, F_TOOLS) != 0;
  if (pick == PICK_WEIGHTED) seed(load<u64>(f, F_SEED));
  let t = targets;
  for (let i: u32 = 0; i < n; i++, t += TARGET_SIZE) {
    if (load<u8>(taken + i)) continue;
    const window = load<i64>(t, T_CONTEXT), input = load<f64>(t, T_INPUT);
    if ((window > 0 && tokens > window) || (tools && !load<u8>(t, T_TOOLS) && !(input < 0))) continue;
    let score: f64;
    if (pick == PICK_CHEAPEST) {
      // The blended price, 3:1 input to output, is what a typical agent
      // call's tokens cost; unpriced targets go last.
      const output = load<f64>(t, T_OUTPUT);
      score = input < 0 || output < 0 ? Infinity : (3 * input + output) / 4;
    } else if (pick == PICK_FASTEST) {
      // Smoothed latency, errors counted as slow; unmeasured (0) last.
      const latency = load<f64>(t, T_LATENCY);
      score = latency <= 0 ? Infinity : latency * (1 + 4 * load<f64>(t, T_ERROR_RATE));
    } else {
      // Weighted sampling without replacement (Efraimidis–Spirakis):
      // by -u^(1/w), seeded by the call, so a replay agrees.
      const w = weight(t);
      score = w <= 0 ? Infinity : -pow(float64(), 1 / w);
    }
    store<f64>(scores + (<usize>i << 3), score);
    store<i64>(order + (<usize>k << 3), i);
    store<u8>(taken + i, 1);
    k++;
  }
  // An insertion sort: stable, and short; there are few targets.
  for (let i = start + 1; i < k; i++) {
    const x = load<i64>(order + (<usize>i << 3)), s = load<f64>(scores + (<usize>x << 3));
    let j = i;
    for (; j > start; j--) {
      const y = load<i64>(order + (<usize>(j - 1) << 3));
      if (!(s < load<f64>(scores + (<usize>y << 3)))) break;
      store<i64>(order + (<usize>j << 3), y);
    }
    store<i64>(order + (<usize>j << 3), x);
  }
  return k;
}

/** answer lays out the decision: the k targets in order and a str's reason. */
function answer(k: u32, reason: usize): usize {
  store<u64>(decision, order, 0);
  store<u64>(decision, k, 8);
  store<u64>(decision, k, 16);
  store<u64>(decision, load<u32>(reason), 24);
  store<u64>(decision, load<u32>(reason, 4), 32);
  store<u64>(decision, 0, 40);
  store<u64>(decision, 0, 48);
  return decision;
}

// Why route returned 0, for failed to say: the facts do not fit, or an
// index in the default route is out of range (badIndex, of badLength
// targets). The messages are made out of route's way: it runs cold.
let misfit = false;
let badIndex: i64 = 0;
let badLength: u32 = 0;

function outOfRange(i: i64, n: u32): usize {
  misfit = false;
  badIndex = i;
  badLength = n;
  return 0;
}

/** failure lays out a decision that failed with msg. */
function failure(msg: string): usize {
  const b = String.UTF8.encode(msg);
  memory.fill(decision, 0, 40);
  store<u64>(decision, changetype<usize>(b), 40);
  store<u64>(decision, b.byteLength, 48);
  keep = b;
  return decision;
}
let keep: ArrayBuffer | null = null;

/**
 * failed lays out the decision for a route that returned 0: the error
 * the Go version gave, the SDK's for facts that do not fit, the runtime
 * panic's for an index out of range.
 */
export function failed(): usize {
  if (misfit) return failure("sy_route: the facts do not fit the input buffer (the host broke the ABI)");
  const what = badIndex < 0 ? badIndex.toString() + "]" : badIndex.toString() + "] with length " + badLength.toString();
  return failure("plugin panicked: runtime error: index out of range [" + what);
}

/**
 * route decides on the facts in the input buffer and returns the
 * decision's address, or 0 when the decision failed (see failed).
 */
export function route(size: u32): usize {
  const f = input;
  misfit = true;
  if (size < FACTS_SIZE || size > inputCap) return 0;
  const targets = <usize>load<u32>(f, F_TARGETS), n = load<u32>(f, F_TARGETS + 8);
  const defaults = <usize>load<u32>(f, F_DEFAULT), nd = load<u32>(f, F_DEFAULT + 8);
  if (n > maxTargets || nd > maxIndexes) return 0;
  let r = rules;
  while (!holds(r, f)) r += RULE_SIZE;
  memory.fill(taken, 0, n);
  let k: u32 = 0;
  let want = <usize>load<u32>(r, R_PREFER);
  for (let p = load<u32>(r, R_NPREFER); p > 0; p--, want += PAIR_SIZE) {
    const any = load<u32>(want, 12) == 0;
    let t = targets;
    for (let i: u32 = 0; i < n; i++, t += TARGET_SIZE) {
      if (!load<u8>(taken + i) && is(want, t + T_PROVIDER) && (any || is(want + 8, t + T_MODEL))) {
        store<i64>(order + (<usize>(k++) << 3), i);
        store<u8>(taken + i, 1);
      }
    }
  }
  const pick = load<i32>(r, R_PICK);
  if (pick == PICK_DEFAULT) {
    for (let j: u32 = 0; j < nd; j++) {
      const i = load<i64>(defaults + (<usize>j << 3));
      if (<u64>i >= <u64>n) return outOfRange(i, n);
      if (!load<u8>(taken + <usize>i)) {
        store<i64>(order + (<usize>(k++) << 3), i);
        store<u8>(taken + <usize>i, 1);
      }
    }
  } else if (pick >= PICK_CHEAPEST) {
    k = rank(f, targets, n, pick, k);
  }
  if (k == 0) {
    // Nothing preferred exists and nothing is capable: the default
    // route is better than no route.
    memory.copy(order, defaults, <usize>nd << 3);
    k = nd;
  }
  if (!failover) return answer(k, r + R_REASON);
  // Rate-limited and cooling targets go behind the healthy ones, each
  // group in its order.
  let healthy: u32 = 0, ill: u32 = 0, moved = false;
  for (let j: u32 = 0; j < k; j++) {
    const i = load<i64>(order + (<usize>j << 3));
    if (<u64>i >= <u64>n) return outOfRange(i, n);
    if (load<u16>(targets + <usize>i * TARGET_SIZE, T_HEALTH)) {
      store<i64>(sick + (<usize>(ill++) << 3), i);
    } else {
      store<i64>(order + (<usize>(healthy++) << 3), i);
      moved = moved || ill > 0;
    }
  }
  memory.copy(order + (<usize>healthy << 3), sick, <usize>ill << 3);
  return answer(k, r + (moved ? R_MOVED : R_REASON));
}
