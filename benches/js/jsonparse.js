// JSON parsing: generate a JSON text (string building), then parse it byte by
// byte into objects, arrays and small maps, one one-character string per byte.
// Port of benches/pvm/jsonparse.pvm.
"use strict";

class Rng {
  constructor(seed) {
    this.seed = seed;
  }
  // MINSTD: the product stays below 2^47, exact in doubles.
  next() {
    this.seed = (this.seed * 48271) % 2147483647;
    return this.seed;
  }
}

const KEYS = ["id", "name", "type", "value", "tags", "count", "items", "enabled",
              "owner", "size", "path", "mode", "ratio", "child", "next", "meta"];
const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
const MAX_DEPTH = 5;

function genValue(rng, out, depth) {
  const r = rng.next() % 20;
  if (depth < MAX_DEPTH && r < 4) {
    genObject(rng, out, depth);
  } else if (depth < MAX_DEPTH && r < 8) {
    const n = rng.next() % 8;
    out.push("[");
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        out.push(", ");
      }
      genValue(rng, out, depth + 1);
    }
    out.push("]");
  } else if (r < 12) {
    out.push(String((rng.next() % 2000001) - 1000000));
  } else if (r < 17) {
    const w = WORDS[rng.next() % 8];
    const k = rng.next() % 10;
    if (k === 0) {
      out.push("\"" + w + "\\nline\"");
    } else if (k === 1) {
      out.push("\"say \\\"" + w + "\\\"\"");
    } else {
      out.push("\"" + w + String(k * 37) + "\"");
    }
  } else if (r === 17) {
    out.push("true");
  } else if (r === 18) {
    out.push("false");
  } else {
    out.push("null");
  }
}

function genObject(rng, out, depth) {
  const n = 2 + (rng.next() % 6);
  out.push("{");
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      out.push(",\n");
    }
    const key = KEYS[rng.next() % 16];
    out.push("\"" + key + "\": ");
    genValue(rng, out, depth + 1);
  }
  out.push("}");
}

function generate(rng, records) {
  const out = [];
  out.push("[");
  for (let i = 0; i < records; i++) {
    if (i > 0) {
      out.push(",\n");
    }
    genObject(rng, out, 1);
  }
  out.push("]\n");
  return out.join("");
}

const P = 1000000007;

class Stats {
  constructor(objects, arrays, strings, numbers, literals, keys, chars) {
    this.objects = objects;
    this.arrays = arrays;
    this.strings = strings;
    this.numbers = numbers;
    this.literals = literals;
    this.keys = keys;
    this.chars = chars;
  }
}

class JNull {
  sum(st) {
    st.literals += 1;
    return 1;
  }
}

class JBool {
  constructor(v) {
    this.v = v;
  }
  sum(st) {
    st.literals += 1;
    if (this.v) {
      return 2;
    }
    return 3;
  }
}

class JNum {
  constructor(v) {
    this.v = v;
  }
  sum(st) {
    st.numbers += 1;
    return this.v + 1000000;
  }
}

class JStr {
  constructor(v) {
    this.v = v;
  }
  sum(st) {
    st.strings += 1;
    st.chars += this.v.length; // ASCII: UTF-16 units == bytes
    return this.v.length * 131 + this.v.charCodeAt(0);
  }
}

class JArr {
  constructor(items) {
    this.items = items;
  }
  sum(st) {
    st.arrays += 1;
    let h = 7;
    for (const it of this.items) {
      h = (h * 31 + it.sum(st)) % P;
    }
    return h;
  }
}

class JObj {
  constructor(fields) {
    this.fields = fields;
  }
  // Independent of the order of the keys. Products stay below 2^53.
  sum(st) {
    st.objects += 1;
    st.keys += this.fields.size;
    let h = 11;
    for (const [k, v] of this.fields) {
      h = (h + (k.length * 131 + k.charCodeAt(0)) * v.sum(st)) % P;
    }
    return h;
  }
}

class Parser {
  constructor(s, pos) {
    this.s = s;
    this.pos = pos;
  }

  peek() {
    return this.s[this.pos];
  }

  expect(c) {
    if (this.peek() !== c) {
      throw new Error("expected " + c + " at " + String(this.pos));
    }
    this.pos += 1;
  }

  skipWs() {
    while (true) {
      const c = this.peek();
      if (c === " " || c === "\n") {
        this.pos += 1;
      } else {
        return;
      }
    }
  }

  parseValue() {
    this.skipWs();
    const c = this.peek();
    if (c === "{") {
      return this.parseObject();
    }
    if (c === "[") {
      return this.parseArray();
    }
    if (c === "\"") {
      return new JStr(this.parseString());
    }
    if (c === "t") {
      this.pos += 4;
      return new JBool(true);
    }
    if (c === "f") {
      this.pos += 5;
      return new JBool(false);
    }
    if (c === "n") {
      this.pos += 4;
      return new JNull();
    }
    return this.parseNumber();
  }

  parseNumber() {
    let neg = false;
    if (this.peek() === "-") {
      neg = true;
      this.pos += 1;
    }
    let n = 0;
    while (true) {
      const d = this.peek().charCodeAt(0);
      if (d < 48 || d > 57) {
        break;
      }
      n = n * 10 + (d - 48);
      this.pos += 1;
    }
    if (neg) {
      n = -n;
    }
    return new JNum(n);
  }

  // Builds the string one character at a time, as a naive parser does.
  parseString() {
    this.expect("\"");
    let buf = "";
    while (true) {
      const c = this.peek();
      this.pos += 1;
      if (c === "\"") {
        return buf;
      }
      if (c === "\\") {
        const e = this.peek();
        this.pos += 1;
        if (e === "n") {
          buf += "\n";
        } else {
          buf += e;
        }
      } else {
        buf += c;
      }
    }
  }

  parseArray() {
    this.expect("[");
    const items = [];
    this.skipWs();
    if (this.peek() === "]") {
      this.pos += 1;
      return new JArr(items);
    }
    while (true) {
      items.push(this.parseValue());
      this.skipWs();
      if (this.peek() === "]") {
        this.pos += 1;
        return new JArr(items);
      }
      this.expect(",");
    }
  }

  parseObject() {
    this.expect("{");
    const fields = new Map(); // insertion-ordered, like pvm's maps
    this.skipWs();
    if (this.peek() === "}") {
      this.pos += 1;
      return new JObj(fields);
    }
    while (true) {
      this.skipWs();
      const k = this.parseString();
      this.skipWs();
      this.expect(":");
      fields.set(k, this.parseValue());
      this.skipWs();
      if (this.peek() === "}") {
        this.pos += 1;
        return new JObj(fields);
      }
      this.expect(",");
    }
  }
}

function main() {
  const rng = new Rng(42);
  const st = new Stats(0, 0, 0, 0, 0, 0, 0);
  let bytes = 0;
  let checksum = 0;
  for (let round = 0; round < 3; round++) {
    const text = generate(rng, 2500);
    bytes += text.length; // ASCII: UTF-16 units == bytes
    const p = new Parser(text, 0);
    const doc = p.parseValue();
    checksum = (checksum * 31 + doc.sum(st)) % P;
  }
  console.log("bytes " + String(bytes));
  console.log("objects " + String(st.objects) + " arrays " + String(st.arrays) + " keys " + String(st.keys));
  console.log("strings " + String(st.strings) + " chars " + String(st.chars) + " numbers " +
              String(st.numbers) + " literals " + String(st.literals));
  console.log("checksum " + String(checksum));
}

main();
