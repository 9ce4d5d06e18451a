// Reading the configuration's JSON the way Go's encoding/json Decoder
// reads it (Go 1.26), errors included: first the whole first value is
// checked by a port of its scanner (what follows the value is ignored, as
// Decoder.Decode ignores it), then config.ts walks it, where a wrong type
// or an unknown field is an error. Only configuration reads JSON.

import { RUNE_ERROR, decodeRune, quoteByte } from "./strconv";

// The scanner's states (scanner.go's step functions).
const BEGIN_VALUE_OR_EMPTY = 0, BEGIN_VALUE = 1, BEGIN_STRING_OR_EMPTY = 2, BEGIN_STRING = 3,
  END_VALUE = 4, END_TOP = 5, IN_STRING = 6, IN_STRING_ESC = 7, ESC_U = 8, ESC_U1 = 9,
  ESC_U12 = 10, ESC_U123 = 11, NEG = 12, ONE = 13, ZERO = 14, DOT = 15, DOT0 = 16, E = 17,
  E_SIGN = 18, E0 = 19, T = 20, TR = 21, TRU = 22, F = 23, FA = 24, FAL = 25, FALS = 26,
  N = 27, NU = 28, NUL = 29, ERROR = 30;

// What a step reports (scanner.go's scan* codes that matter here).
const CONTINUE = 0, END = 1, END_CONTAINER = 2, FAILED = 3;

// The parse states on the stack.
const OBJECT_KEY: u8 = 0, OBJECT_VALUE: u8 = 1, ARRAY_VALUE: u8 = 2;

const MAX_DEPTH = 10000;

let state = BEGIN_VALUE;
let stack = new Uint8Array(0);
let depth = 0;
/** The scanner's error, once it has one. */
let syntaxError = "";

function fail(c: i32, context: string): i32 {
  state = ERROR;
  syntaxError = "invalid character " + quoteByte(c) + " " + context;
  return FAILED;
}

@inline function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d;
}

@inline function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

@inline function isHex(c: i32): bool {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function push(c: i32, ps: u8): i32 {
  if (depth >= stack.length) {
    const grown = new Uint8Array(stack.length * 2 + 64);
    grown.set(stack);
    stack = grown;
  }
  stack[depth++] = ps;
  if (depth <= MAX_DEPTH) return CONTINUE;
  return fail(c, "exceeded max depth");
}

function pop(): i32 {
  depth--;
  state = depth == 0 ? END_TOP : END_VALUE;
  return END_CONTAINER;
}

// After the top-level value, Go's scanner notes a non-space byte as an
// error for its next step, which the Decoder never takes: the value is
// complete, whatever follows.

function endValue(c: i32): i32 {
  if (depth == 0) {
    state = END_TOP;
    return END;
  }
  if (isSpace(c)) {
    state = END_VALUE;
    return CONTINUE;
  }
  const ps = stack[depth - 1];
  if (ps == OBJECT_KEY) {
    if (c == 0x3a) {
      stack[depth - 1] = OBJECT_VALUE;
      state = BEGIN_VALUE;
      return CONTINUE;
    }
    return fail(c, "after object key");
  }
  if (ps == OBJECT_VALUE) {
    if (c == 0x2c) {
      stack[depth - 1] = OBJECT_KEY;
      state = BEGIN_STRING;
      return CONTINUE;
    }
    if (c == 0x7d) return pop();
    return fail(c, "after object key:value pair");
  }
  if (c == 0x2c) {
    state = BEGIN_VALUE;
    return CONTINUE;
  }
  if (c == 0x5d) return pop();
  return fail(c, "after array element");
}

function beginValue(c: i32): i32 {
  if (isSpace(c)) return CONTINUE;
  switch (c) {
    case 0x7b: // {
      state = BEGIN_STRING_OR_EMPTY;
      return push(c, OBJECT_KEY);
    case 0x5b: // [
      state = BEGIN_VALUE_OR_EMPTY;
      return push(c, ARRAY_VALUE);
    case 0x22: state = IN_STRING; return CONTINUE;
    case 0x2d: state = NEG; return CONTINUE;
    case 0x30: state = ZERO; return CONTINUE;
    case 0x74: state = T; return CONTINUE;
    case 0x66: state = F; return CONTINUE;
    case 0x6e: state = N; return CONTINUE;
  }
  if (c >= 0x31 && c <= 0x39) {
    state = ONE;
    return CONTINUE;
  }
  return fail(c, "looking for beginning of value");
}

function zero(c: i32): i32 {
  if (c == 0x2e) {
    state = DOT;
    return CONTINUE;
  }
  if (c == 0x65 || c == 0x45) {
    state = E;
    return CONTINUE;
  }
  return endValue(c);
}

function eSign(c: i32): i32 {
  if (isDigit(c)) {
    state = E0;
    return CONTINUE;
  }
  return fail(c, "in exponent of numeric literal");
}

function literal(c: i32, want: i32, next: i32, context: string): i32 {
  if (c == want) {
    state = next;
    return CONTINUE;
  }
  return fail(c, context);
}

function step(c: i32): i32 {
  switch (state) {
    case BEGIN_VALUE_OR_EMPTY:
      if (isSpace(c)) return CONTINUE;
      if (c == 0x5d) return endValue(c);
      return beginValue(c);
    case BEGIN_VALUE: return beginValue(c);
    case BEGIN_STRING_OR_EMPTY:
      if (isSpace(c)) return CONTINUE;
      if (c == 0x7d) {
        stack[depth - 1] = OBJECT_VALUE;
        return endValue(c);
      }
    // fall through
    case BEGIN_STRING:
      if (isSpace(c)) return CONTINUE;
      if (c == 0x22) {
        state = IN_STRING;
        return CONTINUE;
      }
      return fail(c, "looking for beginning of object key string");
    case END_VALUE: return endValue(c);
    case END_TOP: return END;
    case IN_STRING:
      if (c == 0x22) state = END_VALUE;
      else if (c == 0x5c) state = IN_STRING_ESC;
      else if (c < 0x20) return fail(c, "in string literal");
      return CONTINUE;
    case IN_STRING_ESC:
      switch (c) {
        case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74: case 0x5c: case 0x2f: case 0x22:
          state = IN_STRING;
          return CONTINUE;
        case 0x75:
          state = ESC_U;
          return CONTINUE;
      }
      return fail(c, "in string escape code");
    case ESC_U: case ESC_U1: case ESC_U12: case ESC_U123:
      if (isHex(c)) {
        state = state == ESC_U123 ? IN_STRING : state + 1;
        return CONTINUE;
      }
      return fail(c, "in \\u hexadecimal character escape");
    case NEG:
      if (c == 0x30) {
        state = ZERO;
        return CONTINUE;
      }
      if (c >= 0x31 && c <= 0x39) {
        state = ONE;
        return CONTINUE;
      }
      return fail(c, "in numeric literal");
    case ONE:
      if (isDigit(c)) return CONTINUE;
      return zero(c);
    case ZERO: return zero(c);
    case DOT:
      if (isDigit(c)) {
        state = DOT0;
        return CONTINUE;
      }
      return fail(c, "after decimal point in numeric literal");
    case DOT0:
      if (isDigit(c)) return CONTINUE;
      if (c == 0x65 || c == 0x45) {
        state = E;
        return CONTINUE;
      }
      return endValue(c);
    case E:
      if (c == 0x2b || c == 0x2d) {
        state = E_SIGN;
        return CONTINUE;
      }
      return eSign(c);
    case E_SIGN: return eSign(c);
    case E0:
      if (isDigit(c)) return CONTINUE;
      return endValue(c);
    case T: return literal(c, 0x72, TR, "in literal true (expecting 'r')");
    case TR: return literal(c, 0x75, TRU, "in literal true (expecting 'u')");
    case TRU: return literal(c, 0x65, END_VALUE, "in literal true (expecting 'e')");
    case F: return literal(c, 0x61, FA, "in literal false (expecting 'a')");
    case FA: return literal(c, 0x6c, FAL, "in literal false (expecting 'l')");
    case FAL: return literal(c, 0x73, FALS, "in literal false (expecting 's')");
    case FALS: return literal(c, 0x65, END_VALUE, "in literal false (expecting 'e')");
    case N: return literal(c, 0x75, NU, "in literal null (expecting 'u')");
    case NU: return literal(c, 0x6c, NUL, "in literal null (expecting 'l')");
    case NUL: return literal(c, 0x6c, END_VALUE, "in literal null (expecting 'l')");
  }
  return FAILED;
}

/**
 * scan checks that the n bytes at p start with a JSON value, as
 * Decoder.readValue does, and returns "" or the error Go gives.
 */
export function scan(p: usize, n: usize): string {
  state = BEGIN_VALUE;
  depth = 0;
  syntaxError = "";
  for (let i: usize = 0; i < n; i++) {
    const r = step(<i32>load<u8>(p + i));
    if (r == END) return "";
    if (r == END_CONTAINER && endValue(0x20) == END) return "";
    if (r == FAILED) return syntaxError;
  }
  if (step(0x20) == END) return "";
  return "unexpected EOF";
}

// Walking a value scan accepted: at is the cursor, end the input's end.
export let at: usize = 0;
export let end: usize = 0;

/** skipSpace moves the cursor past JSON white space and returns the byte there. */
export function peek(): i32 {
  while (at < end && isSpace(<i32>load<u8>(at))) at++;
  return at < end ? <i32>load<u8>(at) : -1;
}

/** expect moves the cursor past c, the next non-space byte. */
export function expect(c: i32): void {
  peek();
  at++;
}

/** kind names the value at the cursor as encoding/json's type errors do. */
export function kind(): string {
  switch (peek()) {
    case 0x7b: return "object";
    case 0x5b: return "array";
    case 0x22: return "string";
    case 0x74: case 0x66: return "bool";
    case 0x6e: return "null";
  }
  return "number";
}

/** skip moves the cursor past the value there. */
export function skip(): void {
  let nest = 0;
  do {
    const c = peek();
    if (c == 0x22) {
      at++;
      while (true) {
        const s = <i32>load<u8>(at++);
        if (s == 0x5c) at++;
        else if (s == 0x22) break;
      }
    } else if (c == 0x7b || c == 0x5b) {
      nest++;
      at++;
    } else if (c == 0x7d || c == 0x5d) {
      nest--;
      at++;
    } else if (c == 0x2c || c == 0x3a) {
      at++;
    } else {
      while (at < end) {
        const s = <i32>load<u8>(at);
        if (isSpace(s) || s == 0x2c || s == 0x7d || s == 0x5d || s == 0x3a) break;
        at++;
      }
    }
  } while (nest > 0);
}

/** number returns the number literal at the cursor and moves past it. */
export function number(): string {
  peek();
  const from = at;
  while (at < end) {
    const c = <i32>load<u8>(at);
    if (!(isDigit(c) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45)) break;
    at++;
  }
  return String.UTF8.decodeUnsafe(from, at - from);
}

/** boolean returns the literal true or false at the cursor and moves past it. */
export function boolean(): bool {
  const t = peek() == 0x74;
  at += t ? 4 : 5;
  return t;
}

/** nil moves past the null at the cursor. */
export function nil(): void {
  peek();
  at += 4;
}

function hex4(p: usize): i32 {
  let r = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i);
    let v: i32;
    if (isDigit(c)) v = c - 0x30;
    else if (c >= 0x61) v = c - 0x61 + 10;
    else v = c - 0x41 + 10;
    r = r * 16 + v;
  }
  return r;
}

// The bytes of the string being unquoted.
let buf = new Uint8Array(64);
let bufLen = 0;

function put(b: i32): void {
  if (bufLen == buf.length) {
    const grown = new Uint8Array(buf.length * 2);
    grown.set(buf);
    buf = grown;
  }
  buf[bufLen++] = <u8>b;
}

/** putRune appends r's UTF-8 encoding. */
function putRune(r: i32): void {
  if (r < 0x80) put(r);
  else if (r < 0x800) {
    put(0xc0 | (r >> 6));
    put(0x80 | (r & 0x3f));
  } else if (r < 0x10000) {
    put(0xe0 | (r >> 12));
    put(0x80 | ((r >> 6) & 0x3f));
    put(0x80 | (r & 0x3f));
  } else {
    put(0xf0 | (r >> 18));
    put(0x80 | ((r >> 12) & 0x3f));
    put(0x80 | ((r >> 6) & 0x3f));
    put(0x80 | (r & 0x3f));
  }
}

/**
 * str returns the string at the cursor, unquoted as encoding/json's
 * unquoteBytes does (an invalid surrogate or invalid UTF-8 becomes
 * U+FFFD, so the result is always valid), and moves past it.
 */
export function str(): string {
  peek();
  at++;
  bufLen = 0;
  while (true) {
    const c = <i32>load<u8>(at);
    if (c == 0x22) {
      at++;
      return String.UTF8.decodeUnsafe(buf.dataStart, bufLen);
    }
    if (c == 0x5c) {
      const e = <i32>load<u8>(at + 1);
      at += 2;
      switch (e) {
        case 0x62: put(0x08); break;
        case 0x66: put(0x0c); break;
        case 0x6e: put(0x0a); break;
        case 0x72: put(0x0d); break;
        case 0x74: put(0x09); break;
        case 0x75: {
          let r = hex4(at);
          at += 4;
          if (r >= 0xd800 && r < 0xe000) {
            // A valid pair needs a low surrogate in a \u right after.
            let pair = false;
            if (r < 0xdc00 && at + 6 <= end && load<u8>(at) == 0x5c && load<u8>(at + 1) == 0x75) {
              const r2 = hex4(at + 2);
              if (r2 >= 0xdc00 && r2 < 0xe000) {
                r = 0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00);
                at += 6;
                pair = true;
              }
            }
            if (!pair) r = RUNE_ERROR;
          }
          putRune(r);
          break;
        }
        default: put(e); // " \ /
      }
      continue;
    }
    if (c < 0x80) {
      put(c);
      at++;
      continue;
    }
    const rs = decodeRune(at, end - at);
    putRune(rs & 0xffffff);
    at += <usize>(rs >>> 24);
  }
}
