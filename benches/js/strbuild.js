// String building: lines built by concatenation in a loop from str() of ints
// and floats and small pieces; a string grown piece by piece; blocks of lines
// joined, split back into lines and fields, and the numbers parsed again.
// Port of benches/pvm/strbuild.pvm.
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

// pvm's str(float): the shortest round-trip form, as String(x), but whole
// numbers keep a ".0" (String(5.0) is "5").
function floatStr(x) {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

const P = 1000000007;

function main() {
  const rng = new Rng(3);
  let lines = [];
  let grow = "";
  let grown = 0;
  let blocks = 0;
  let bytes = 0;
  let fields = 0;
  let sum = 0;
  let h = 0;
  let last = "";
  for (let i = 0; i < 800000; i++) {
    const nf = 3 + (rng.next() % 6);
    let line = "";
    for (let f = 0; f < nf; f++) {
      const v = rng.next() % 100000;
      if (f > 0) {
        line += ",";
      }
      const kind = v % 3;
      if (kind === 0) {
        line += String(v);
      } else if (kind === 1) {
        // v / 8 is exact, and its shortest form has at most 3 decimals.
        line += floatStr(v / 8.0);
      } else {
        line += "w" + String(v % 97) + "_" + String(f);
      }
    }
    lines.push(line);
    last = line;
    grow += line.substring(0, Math.min(line.length, 8)) + ";";
    if (grow.length > 4000) {
      h = (h * 31 + grow.length + grow.charCodeAt(1000)) % P;
      grow = "";
      grown += 1;
    }
    if (lines.length === 500) {
      const block = lines.join("\n");
      bytes += block.length; // ASCII: UTF-16 units == bytes
      blocks += 1;
      for (const l of block.split("\n")) {
        for (const fld of l.split(",")) {
          fields += 1;
          if (fld.charCodeAt(0) === 119) { // "w"
            h = (h * 31 + fld.length) % P;
          } else if (fld.indexOf(".") >= 0) {
            sum += Math.trunc(Number(fld) * 8.0);
          } else {
            sum += Number(fld);
          }
        }
      }
      lines = [];
    }
  }
  console.log("blocks " + String(blocks) + " bytes " + String(bytes) + " fields " + String(fields));
  console.log("sum " + String(sum) + " hash " + String(h) + " grown " + String(grown) + " " +
              String(grow.length));
  console.log("last " + last);
}

main();
