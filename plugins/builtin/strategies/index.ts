// The built-in routing strategies (rules by task type and tags, cheapest
// capable, lowest latency, weighted, rate-limit-aware failover) as one
// WASM routing plugin, chosen and tuned by its configuration: the ABI's
// exports (docs/routing-plugins.md). The gateway embeds the module
// (plugins/builtin) and merges {"strategy": NAME} into its configuration.
//
// It is AssemblyScript, not Go: the Go version's decision spent some
// 10 µs of the gateway's CPU in the guest, a long code path gone cold
// between calls; this one is a few kilobytes of straight code, 1-3 µs
// dearer than a hand-written WAT plugin. It replaced the Go version (see
// git history) and behaves as that did, bit for bit: configuration
// (config.ts), decisions (decide.ts) and randomness (rand.ts).

import { parse, parseError } from "./config";
import { failed, grow, input, inputCap, install, route } from "./decide";

// The host stops an overrunning call in this import (it rewrites each
// module to call it now and then), and refuses a module without it.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "sched_yield")
declare function sched_yield(): i32;

const MANIFEST = "{\"name\":\"strategies\",\"version\":\"1\",\"description\":\"built-in strategies: rules by task type and tags, cheapest capable, fastest, weighted, failover\"}";

/** A str {addr u64, len u64}, for sy_configure and sy_manifest. */
const str = memory.data(16, 8);
let kept: ArrayBuffer | null = null;

function setStr(s: string): i32 {
  const b = String.UTF8.encode(s);
  kept = b;
  store<u64>(str, changetype<usize>(b));
  store<u64>(str, b.byteLength, 8);
  return <i32>str;
}

// Without a configuration, the defaults: the default route, failover on.
install(parse(0, 0)!);

export function sy_abi_version(): i32 {
  return 2;
}

/** sy_input returns a buffer of at least size bytes for the facts (or configuration). */
export function sy_input(size: i32): i32 {
  if (size < 0) return 0;
  grow(<u32>max(size, 8));
  return <i32>input;
}

/** sy_route decides on the size bytes of facts in the input buffer. */
export function sy_route(size: i32): i32 {
  const d = route(<u32>size);
  return <i32>(d != 0 ? d : failed());
}

/** sy_configure takes the size bytes of configuration in the input buffer: "" accepts them. */
export function sy_configure(size: i32): i32 {
  // Binaryen drops an import nothing calls; the host needs this one.
  sched_yield();
  if (size < 0 || <u32>size > inputCap) return setStr("sy_configure: the configuration does not fit the input buffer");
  const policy = parse(input, size);
  if (policy == null) return setStr(parseError);
  install(policy);
  return setStr("");
}

export function sy_manifest(): i32 {
  return setStr(MANIFEST);
}
