// The configuration: its format, how it is read, checked and described.
// It is read the way the Go version of these strategies read it, with
// encoding/json into the structs below and DisallowUnknownFields, so the
// same configuration means the same, and a bad one is refused with the
// same message. That includes what encoding/json does with repeated keys
// (a second "rules" decodes into the first one's elements, even those
// past its end that an earlier, longer list left in the slice's
// capacity), and its error messages, which name the Go structs
// (main.Rule, Go struct field match.rules.when.tools).

import * as json from "./json";
import { allSpace, formatFloat, parseFloat, parseInt, parsedFloat, parsedInt, quote } from "./strconv";

/** The picks, as decide.ts reads them. */
export const PICK_NONE = 0, PICK_DEFAULT = 1, PICK_CHEAPEST = 2, PICK_FASTEST = 3, PICK_WEIGHTED = 4;

/** A slice in Go's sense: len elements in use of a backing array of cap. */
class StrSlice {
  items: string[] = [];
  len: i32 = 0;
}

class Action {
  prefer: StrSlice = new StrSlice(); // "provider" or "provider/model"
  pick: string = "";
}

/** Dict keeps a Go map's entries in the order they were first set. */
class Dict<T> {
  keys: string[] = [];
  values: T[] = [];

  set(k: string, v: T): void {
    const i = this.keys.indexOf(k);
    if (i >= 0) this.values[i] = v;
    else {
      this.keys.push(k);
      this.values.push(v);
    }
  }
}

class Match {
  task: string = "";
  tags: Dict<string> | null = null;
  model: string = "";
  api: string = "";
  agent: string = "";
  team: string = "";
  user: string = "";
  tools: i32 = -1; // *bool: -1 nil, else 0 or 1
  min: i64 = 0;
  max: i64 = 0;
}

export class Rule {
  when: Match = new Match();
  action: Action = new Action();
}

class RuleSlice {
  items: Rule[] = [];
  len: i32 = 0;
}

class Config {
  strategy: string = "";
  rules: RuleSlice = new RuleSlice();
  otherwise: Action | null = null;
  weights: Dict<f64> | null = null;
  failover: i32 = -1; // *bool
}

// The capacities reflect.Value.Grow(1) gives a []main.Rule (248 bytes an
// element) and a []string growing from empty, one element at a time, as
// encoding/json grows them (Go 1.26, 64-bit). What an earlier, longer
// list left past a slice's length survives until the slice outgrows its
// capacity; a repeated key can decode into it.
const RULE_CAPS: StaticArray<i32> = [1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 858, 1288, 1816, 2477,
  3303, 4327, 5615, 7234, 9249, 11759, 14897, 18828, 23750, 29894, 37590, 47203, 59226, 74256, 93018,
  116471, 145804, 182470, 228285, 285563, 357177, 446695, 558575, 698434, 873240, 1091749];
const STRING_CAPS: StaticArray<i32> = [1, 2, 4, 8, 16, 32, 71, 143, 303, 591, 1023, 1535, 2560, 3584,
  5120, 6656, 8704, 11264, 14336, 18432, 23552, 29696, 37376, 47104, 59392, 74752, 93696, 117760,
  147456, 184832, 231424, 289792, 362496, 453632, 567296, 709632, 887296, 1109504];

function nextCap(caps: StaticArray<i32>, cap: i32): i32 {
  for (let i = 0; i < caps.length; i++) if (caps[i] > cap) return caps[i];
  return cap * 2;
}

// Decoding. Each function decodes the value at the cursor into its
// target; the first error (a type error, an unknown field) ends the
// decoding, as it ends Go's parse. structName and path are
// encoding/json's error context: the innermost struct whose field is
// being decoded, and the fields from the top.

let err = "";

function typeError(value: string, typ: string, structName: string, path: string): bool {
  if (path == "") err = "json: cannot unmarshal " + value + " into Go value of type " + typ;
  else err = "json: cannot unmarshal " + value + " into Go struct field " + structName + "." + path + " of type " + typ;
  json.skip();
  return false;
}

function unknownField(key: string): bool {
  err = "json: unknown field " + quote(key);
  return false;
}

/** fieldIs reports whether key names field, as encoding/json matches them: exactly or case-folded. */
function fieldIs(key: string, field: string): bool {
  if (key.length != field.length) return false;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    else if (c == 0x17f) c = 0x53; // ſ folds to S
    else if (c == 0x212a) c = 0x4b; // the Kelvin sign folds to K
    let f = field.charCodeAt(i);
    if (f >= 0x61 && f <= 0x7a) f -= 0x20;
    if (c != f) return false;
  }
  return true;
}

// What the scalar decoders found: NULL (Go leaves the target alone, or
// sets a pointer to nil), SET (the value is in got*), or FAILED.
const NULL = 0, SET = 1, FAILED = 2;
let gotStr = "";
let gotInt: i64 = 0;
let gotFloat: f64 = 0;
let gotBool = false;

function decodeString(structName: string, path: string): i32 {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    return NULL;
  }
  if (k != "string") {
    typeError(k, "string", structName, path);
    return FAILED;
  }
  gotStr = json.str();
  return SET;
}

function decodeInt(structName: string, path: string): i32 {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    return NULL;
  }
  if (k != "number") {
    typeError(k, "int", structName, path);
    return FAILED;
  }
  const lit = json.number();
  if (!parseInt(lit)) {
    err = "json: cannot unmarshal number " + lit + " into Go struct field " + structName + "." + path + " of type int";
    return FAILED;
  }
  gotInt = parsedInt;
  return SET;
}

function decodeFloat(structName: string, path: string): i32 {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    return NULL;
  }
  if (k != "number") {
    typeError(k, "float64", structName, path);
    return FAILED;
  }
  const lit = json.number();
  if (!parseFloat(lit)) {
    err = "json: cannot unmarshal number " + lit + " into Go struct field " + structName + "." + path + " of type float64";
    return FAILED;
  }
  gotFloat = parsedFloat;
  return SET;
}

function decodeBool(structName: string, path: string): i32 {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    return NULL;
  }
  if (k != "bool") {
    typeError(k, "bool", structName, path);
    return FAILED;
  }
  gotBool = json.boolean();
  return SET;
}

/** decodeBoolPtr decodes a *bool: -1 for nil, 0 or 1, or -2 for an error. */
function decodeBoolPtr(structName: string, path: string): i32 {
  const r = decodeBool(structName, path);
  if (r == FAILED) return -2;
  if (r == NULL) return -1;
  return gotBool ? 1 : 0;
}

/**
 * objectFields decodes the object at the cursor (there must be one) into
 * target, field by field; it returns false at the first error.
 */
function objectFields<T>(target: T, structName: string, path: string): bool {
  json.expect(0x7b);
  if (json.peek() == 0x7d) {
    json.expect(0x7d);
    return true;
  }
  while (true) {
    const key = json.str();
    json.expect(0x3a);
    if (!decodeField<T>(target, key, path)) return false;
    if (json.peek() == 0x7d) {
      json.expect(0x7d);
      return true;
    }
    json.expect(0x2c);
  }
}

function join(path: string, field: string): string {
  return path == "" ? field : path + "." + field;
}

function decodeField<T>(target: T, key: string, path: string): bool {
  if (target instanceof Config) return configField(target, key);
  if (target instanceof Rule) return ruleField(target, key, path);
  if (target instanceof Match) return matchField(target, key, path);
  if (target instanceof Action) return actionField(target, key, path);
  return false;
}

function configField(c: Config, key: string): bool {
  if (fieldIs(key, "strategy")) {
    const r = decodeString("Config", "strategy");
    if (r == SET) c.strategy = gotStr;
    return r != FAILED;
  }
  if (fieldIs(key, "rules")) return decodeRules(c.rules, "Config", "rules");
  if (fieldIs(key, "otherwise")) {
    const k = json.kind();
    if (k == "null") {
      json.nil();
      c.otherwise = null;
      return true;
    }
    if (k != "object") return typeError(k, "main.action", "Config", "otherwise");
    let a = c.otherwise;
    if (a == null) {
      a = new Action();
      c.otherwise = a;
    }
    return objectFields<Action>(a, "action", "otherwise");
  }
  if (fieldIs(key, "weights")) {
    const k = json.kind();
    if (k == "null") {
      json.nil();
      c.weights = null;
      return true;
    }
    if (k != "object") return typeError(k, "map[string]float64", "Config", "weights");
    let m = c.weights;
    if (m == null) {
      m = new Dict<f64>();
      c.weights = m;
    }
    json.expect(0x7b);
    if (json.peek() == 0x7d) {
      json.expect(0x7d);
      return true;
    }
    while (true) {
      const name = json.str();
      json.expect(0x3a);
      const r = decodeFloat("Config", "weights");
      if (r == FAILED) return false;
      m.set(name, r == SET ? gotFloat : 0);
      if (json.peek() == 0x7d) {
        json.expect(0x7d);
        return true;
      }
      json.expect(0x2c);
    }
  }
  if (fieldIs(key, "failover")) {
    const v = decodeBoolPtr("Config", "failover");
    if (v == -2) return false;
    c.failover = v;
    return true;
  }
  json.skip();
  return unknownField(key);
}

function decodeRules(s: RuleSlice, structName: string, path: string): bool {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    s.items = [];
    s.len = 0;
    return true;
  }
  if (k != "array") return typeError(k, "[]main.Rule", structName, path);
  json.expect(0x5b);
  let i = 0;
  if (json.peek() != 0x5d) {
    while (true) {
      if (i >= s.items.length) { // grow: the elements in use move, the rest start empty
        const grown: Rule[] = [];
        const cap = nextCap(RULE_CAPS, s.items.length);
        for (let j = 0; j < cap; j++) grown.push(j < s.len ? s.items[j] : new Rule());
        s.items = grown;
      }
      if (i >= s.len) s.len = i + 1;
      const vk = json.kind();
      if (vk == "null") json.nil();
      else if (vk != "object") return typeError(vk, "main.Rule", structName, path);
      else if (!objectFields<Rule>(s.items[i], "Rule", path)) return false;
      i++;
      if (json.peek() == 0x5d) break;
      json.expect(0x2c);
    }
  }
  json.expect(0x5d);
  if (i < s.len) s.len = i;
  if (i == 0) {
    s.items = [];
    s.len = 0;
  }
  return true;
}

function ruleField(r: Rule, key: string, path: string): bool {
  if (fieldIs(key, "when")) {
    const k = json.kind();
    if (k == "null") {
      json.nil();
      return true;
    }
    if (k != "object") return typeError(k, "main.match", "Rule", join(path, "when"));
    return objectFields<Match>(r.when, "match", join(path, "when"));
  }
  // prefer and pick are action's, which Rule embeds: encoding/json puts
  // the embedded field's Go name in the path.
  if (fieldIs(key, "prefer") || fieldIs(key, "pick")) return actionFieldOf(r.action, key, "Rule", join(path, "action"));
  json.skip();
  return unknownField(key);
}

function actionField(a: Action, key: string, path: string): bool {
  if (fieldIs(key, "prefer") || fieldIs(key, "pick")) return actionFieldOf(a, key, "action", path);
  json.skip();
  return unknownField(key);
}

function actionFieldOf(a: Action, key: string, structName: string, path: string): bool {
  if (fieldIs(key, "pick")) {
    const r = decodeString(structName, join(path, "pick"));
    if (r == SET) a.pick = gotStr;
    return r != FAILED;
  }
  return decodeStrings(a.prefer, structName, join(path, "prefer"));
}

function decodeStrings(s: StrSlice, structName: string, path: string): bool {
  const k = json.kind();
  if (k == "null") {
    json.nil();
    s.items = [];
    s.len = 0;
    return true;
  }
  if (k != "array") return typeError(k, "[]string", structName, path);
  json.expect(0x5b);
  let i = 0;
  if (json.peek() != 0x5d) {
    while (true) {
      if (i >= s.items.length) {
        const grown: string[] = [];
        const cap = nextCap(STRING_CAPS, s.items.length);
        for (let j = 0; j < cap; j++) grown.push(j < s.len ? s.items[j] : "");
        s.items = grown;
      }
      if (i >= s.len) s.len = i + 1;
      const r = decodeString(structName, path);
      if (r == FAILED) return false;
      if (r == SET) s.items[i] = gotStr;
      i++;
      if (json.peek() == 0x5d) break;
      json.expect(0x2c);
    }
  }
  json.expect(0x5d);
  if (i < s.len) s.len = i;
  if (i == 0) {
    s.items = [];
    s.len = 0;
  }
  return true;
}

function matchField(m: Match, key: string, path: string): bool {
  if (fieldIs(key, "tags")) {
    const p = join(path, "tags");
    const k = json.kind();
    if (k == "null") {
      json.nil();
      m.tags = null;
      return true;
    }
    if (k != "object") return typeError(k, "map[string]string", "match", p);
    let tags = m.tags;
    if (tags == null) {
      tags = new Dict<string>();
      m.tags = tags;
    }
    json.expect(0x7b);
    if (json.peek() == 0x7d) {
      json.expect(0x7d);
      return true;
    }
    while (true) {
      const name = json.str();
      json.expect(0x3a);
      const r = decodeString("match", p);
      if (r == FAILED) return false;
      tags.set(name, r == SET ? gotStr : "");
      if (json.peek() == 0x7d) {
        json.expect(0x7d);
        return true;
      }
      json.expect(0x2c);
    }
  }
  if (fieldIs(key, "tools")) {
    const v = decodeBoolPtr("match", join(path, "tools"));
    if (v == -2) return false;
    m.tools = v;
    return true;
  }
  if (fieldIs(key, "min_tokens") || fieldIs(key, "max_tokens")) {
    const isMin = fieldIs(key, "min_tokens");
    const r = decodeInt("match", join(path, isMin ? "min_tokens" : "max_tokens"));
    if (r == SET) {
      if (isMin) m.min = gotInt;
      else m.max = gotInt;
    }
    return r != FAILED;
  }
  const fields = ["task", "model", "api", "agent", "team", "user"];
  for (let i = 0; i < fields.length; i++) {
    if (!fieldIs(key, fields[i])) continue;
    const r = decodeString("match", join(path, fields[i]));
    if (r == SET) {
      if (i == 0) m.task = gotStr;
      else if (i == 1) m.model = gotStr;
      else if (i == 2) m.api = gotStr;
      else if (i == 3) m.agent = gotStr;
      else if (i == 4) m.team = gotStr;
      else m.user = gotStr;
    }
    return r != FAILED;
  }
  json.skip();
  return unknownField(key);
}

/** decodeConfig decodes the n bytes at p into c, or returns the error. */
function decodeConfig(p: usize, n: usize, c: Config): string {
  const syntax = json.scan(p, n);
  if (syntax != "") return syntax;
  json.at = p;
  json.end = p + n;
  err = "";
  const k = json.kind();
  if (k == "null") return "";
  if (k != "object") {
    typeError(k, "main.Config", "", "");
    return err;
  }
  objectFields<Config>(c, "Config", "");
  return err;
}

// Checking, and what deciding needs.

/** Name is a parsed "provider" or "provider/model" (strings.Cut at the first /). */
export class Name {
  constructor(public provider: string, public model: string) {}
}

function cut(s: string): Name {
  const i = s.indexOf("/");
  if (i < 0) return new Name(s, "");
  return new Name(s.substring(0, i), s.substring(i + 1));
}

/** Compiled is what one rule (or otherwise) decides with, made at parse time. */
export class Compiled {
  always: bool = false; // otherwise: no condition
  task: string = "";
  api: string = "";
  agent: string = "";
  team: string = "";
  user: string = "";
  hasModel: bool = false;
  model: string = ""; // without a trailing *
  prefix: bool = false; // which the model had
  tools: i32 = -1;
  min: i64 = 0;
  max: i64 = 0;
  tagKeys: string[] = []; // sorted by key, as Go sorts strings (by their UTF-8 bytes)
  tagValues: string[] = [];
  prefer: Name[] = [];
  pick: i32 = PICK_NONE;
  reason: string = "";
  reasonMoved: string = ""; // with failover having moved a target
}

/** Policy is a checked configuration. */
export class Policy {
  rules: Compiled[] = []; // then otherwise, last
  failover: bool = true;
  weights: Dict<f64> = new Dict<f64>(); // by "provider" or "provider/model", as given
}

function pickOf(s: string): i32 {
  if (s == "") return PICK_NONE;
  if (s == "default") return PICK_DEFAULT;
  if (s == "cheapest") return PICK_CHEAPEST;
  if (s == "fastest") return PICK_FASTEST;
  if (s == "weighted") return PICK_WEIGHTED;
  return -1;
}

function check(a: Action): string {
  if (a.pick == "" && a.prefer.len == 0) return "give prefer (targets to try first), pick (default, cheapest, fastest or weighted), or both";
  if (pickOf(a.pick) < 0) return "pick " + quote(a.pick) + " is unknown: use default, cheapest, fastest or weighted";
  for (let i = 0; i < a.prefer.len; i++) {
    const name = a.prefer.items[i];
    if (name == "" || name.startsWith("/") || name.endsWith("/")) return "prefer: " + quote(name) + " is not \"provider\" or \"provider/model\"";
  }
  return "";
}

/** lessUTF8 orders strings by their UTF-8 bytes, as Go compares strings. */
function lessUTF8(a: string, b: string): bool {
  const x = Uint8Array.wrap(String.UTF8.encode(a)), y = Uint8Array.wrap(String.UTF8.encode(b));
  const n = min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] != y[i]) return x[i] < y[i];
  return x.length < y.length;
}

function sortedKeys(m: Dict<string> | null): string[] {
  const keys: string[] = [];
  if (m == null) return keys;
  for (let i = 0; i < m.keys.length; i++) {
    const k = m.keys[i];
    let j = keys.length;
    keys.push(k);
    while (j > 0 && lessUTF8(k, keys[j - 1])) {
      keys[j] = keys[j - 1];
      j--;
    }
    keys[j] = k;
  }
  return keys;
}

function tagValue(m: Dict<string>, k: string): string {
  return m.values[m.keys.indexOf(k)];
}

/** describeMatch is the Go version's match.String: a rule's condition in a reason. */
function describeMatch(m: Match): string {
  const parts: string[] = [];
  if (m.task != "") parts.push("task " + m.task);
  const keys = sortedKeys(m.tags);
  for (let i = 0; i < keys.length; i++) parts.push(keys[i] + "=" + tagValue(m.tags!, keys[i]));
  if (m.model != "") parts.push("model " + m.model);
  if (m.api != "") parts.push("api " + m.api);
  if (m.agent != "") parts.push("agent " + m.agent);
  if (m.team != "") parts.push("team " + m.team);
  if (m.user != "") parts.push("user " + m.user);
  if (m.tools >= 0) parts.push(m.tools == 1 ? "tools true" : "tools false");
  if (m.min > 0) parts.push("≥" + m.min.toString() + " tokens");
  if (m.max > 0) parts.push("≤" + m.max.toString() + " tokens");
  if (parts.length == 0) return "always";
  return parts.join(", ");
}

function describe(rule: i32, when: Match | null, a: Action, rules: i32, moved: bool): string {
  let b = "";
  if (rule >= 0) b += "rule " + (rule + 1).toString() + " (" + describeMatch(when!) + "): ";
  else if (rules > 0) b += "no rule matched: ";
  if (a.prefer.len > 0) {
    b += "prefer " + a.prefer.items.slice(0, a.prefer.len).join(", ");
    if (a.pick != "") b += ", then ";
  }
  if (a.pick == "default") b += "the default route";
  else if (a.pick == "cheapest") b += "cheapest capable";
  else if (a.pick == "fastest") b += "lowest latency";
  else if (a.pick == "weighted") b += "weighted";
  if (moved) b += "; rate-limited or cooling targets moved last";
  return b;
}

function compile(rule: i32, when: Match | null, a: Action, rules: i32): Compiled {
  const c = new Compiled();
  for (let i = 0; i < a.prefer.len; i++) c.prefer.push(cut(a.prefer.items[i]));
  c.pick = pickOf(a.pick);
  c.reason = describe(rule, when, a, rules, false);
  c.reasonMoved = describe(rule, when, a, rules, true);
  if (when == null) {
    c.always = true;
    return c;
  }
  c.task = when.task;
  c.api = when.api;
  c.agent = when.agent;
  c.team = when.team;
  c.user = when.user;
  c.hasModel = when.model != "";
  c.prefix = when.model.endsWith("*");
  c.model = c.prefix ? when.model.substring(0, when.model.length - 1) : when.model;
  c.tools = when.tools;
  c.min = when.min;
  c.max = when.max;
  c.tagKeys = sortedKeys(when.tags);
  for (let i = 0; i < c.tagKeys.length; i++) c.tagValues.push(tagValue(when.tags!, c.tagKeys[i]));
  return c;
}

/** parseError is why parse refused its configuration. */
export let parseError = "";

/**
 * parse reads and checks a configuration (n bytes at p; none for the
 * defaults): the Go version's parse, message for message.
 */
export function parse(p: usize, n: usize): Policy | null {
  const c = new Config();
  if (!allSpace(p, n)) {
    const e = decodeConfig(p, n, c);
    if (e != "") {
      parseError = "config: " + e;
      return null;
    }
  }
  let otherwise = new Action();
  otherwise.pick = "default";
  let failover = c.failover != 0;
  const s = c.strategy;
  if (s == "cheapest" || s == "fastest" || s == "weighted") otherwise.pick = s;
  else if (s == "failover") failover = true;
  else if (s != "" && s != "rules") {
    parseError = "config: strategy " + quote(s) + " is unknown: use rules, cheapest, fastest, weighted or failover";
    return null;
  }
  if (c.otherwise != null) otherwise = c.otherwise!;
  const rules = c.rules;
  for (let i = 0; i < rules.len; i++) {
    const r = rules.items[i];
    const e = check(r.action);
    if (e != "") {
      parseError = "config: rules[" + i.toString() + "]: " + e;
      return null;
    }
    if (r.when.max > 0 && r.when.max < r.when.min) {
      parseError = "config: rules[" + i.toString() + "].when: max_tokens " + r.when.max.toString() + " is below min_tokens " + r.when.min.toString();
      return null;
    }
  }
  const e = check(otherwise);
  if (e != "") {
    parseError = "config: otherwise: " + e;
    return null;
  }
  let uses = otherwise.pick == "weighted";
  for (let i = 0; i < rules.len; i++) uses = uses || rules.items[i].action.pick == "weighted";
  const weights = c.weights;
  if (uses && (weights == null || weights.keys.length == 0)) {
    parseError = "config: the weighted pick needs weights, e.g. \"weights\": {\"openai\": 3, \"anthropic\": 1}";
    return null;
  }
  const policy = new Policy();
  policy.failover = failover;
  if (weights != null) {
    for (let i = 0; i < weights.keys.length; i++) {
      const w = weights.values[i];
      // JSON has no NaN or infinity: a weight is refused for being negative.
      if (w < 0) {
        parseError = "config: weights[" + quote(weights.keys[i]) + "] is " + formatFloat(w) + "; a weight is a finite number, 0 or more";
        return null;
      }
    }
    policy.weights = weights;
  }
  for (let i = 0; i < rules.len; i++) policy.rules.push(compile(i, rules.items[i].when, rules.items[i].action, rules.len));
  policy.rules.push(compile(-1, null, otherwise, rules.len));
  return policy;
}
