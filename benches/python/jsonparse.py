# JSON parsing: generate a JSON text (string building), then parse it byte by
# byte into objects, arrays and small maps, one one-character string per byte.
# Port of benches/pvm/jsonparse.pvm.


class Rng:
    __slots__ = ("seed",)

    def __init__(self, seed):
        self.seed = seed

    # MINSTD: the product stays below 2^47, exact in every port.
    def next(self):
        self.seed = self.seed * 48271 % 2147483647
        return self.seed


KEYS = ["id", "name", "type", "value", "tags", "count", "items", "enabled",
        "owner", "size", "path", "mode", "ratio", "child", "next", "meta"]
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
MAX_DEPTH = 5


def gen_value(rng, out, depth):
    r = rng.next() % 20
    if depth < MAX_DEPTH and r < 4:
        gen_object(rng, out, depth)
    elif depth < MAX_DEPTH and r < 8:
        n = rng.next() % 8
        out.append("[")
        for i in range(n):
            if i > 0:
                out.append(", ")
            gen_value(rng, out, depth + 1)
        out.append("]")
    elif r < 12:
        out.append(str(rng.next() % 2000001 - 1000000))
    elif r < 17:
        w = WORDS[rng.next() % 8]
        k = rng.next() % 10
        if k == 0:
            out.append("\"" + w + "\\nline\"")
        elif k == 1:
            out.append("\"say \\\"" + w + "\\\"\"")
        else:
            out.append("\"" + w + str(k * 37) + "\"")
    elif r == 17:
        out.append("true")
    elif r == 18:
        out.append("false")
    else:
        out.append("null")


def gen_object(rng, out, depth):
    n = 2 + rng.next() % 6
    out.append("{")
    for i in range(n):
        if i > 0:
            out.append(",\n")
        key = KEYS[rng.next() % 16]
        out.append("\"" + key + "\": ")
        gen_value(rng, out, depth + 1)
    out.append("}")


def generate(rng, records):
    out = []
    out.append("[")
    for i in range(records):
        if i > 0:
            out.append(",\n")
        gen_object(rng, out, 1)
    out.append("]\n")
    return "".join(out)


P = 1000000007


class Stats:
    __slots__ = ("objects", "arrays", "strings", "numbers", "literals", "keys", "chars")

    def __init__(self, objects, arrays, strings, numbers, literals, keys, chars):
        self.objects = objects
        self.arrays = arrays
        self.strings = strings
        self.numbers = numbers
        self.literals = literals
        self.keys = keys
        self.chars = chars


class JNull:
    __slots__ = ()

    def sum(self, st):
        st.literals += 1
        return 1


class JBool:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def sum(self, st):
        st.literals += 1
        if self.v:
            return 2
        return 3


class JNum:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def sum(self, st):
        st.numbers += 1
        return self.v + 1000000


class JStr:
    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def sum(self, st):
        st.strings += 1
        st.chars += len(self.v)  # ASCII: characters == bytes
        return len(self.v) * 131 + ord(self.v[0])


class JArr:
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def sum(self, st):
        st.arrays += 1
        h = 7
        for it in self.items:
            h = (h * 31 + it.sum(st)) % P
        return h


class JObj:
    __slots__ = ("fields",)

    def __init__(self, fields):
        self.fields = fields

    # Independent of the order of the keys.
    def sum(self, st):
        st.objects += 1
        st.keys += len(self.fields)
        h = 11
        for k in self.fields:
            h = (h + (len(k) * 131 + ord(k[0])) * self.fields[k].sum(st)) % P
        return h


class Parser:
    __slots__ = ("s", "pos")

    def __init__(self, s, pos):
        self.s = s
        self.pos = pos

    def peek(self):
        return self.s[self.pos]

    def expect(self, c):
        if self.peek() != c:
            raise ValueError("expected " + c + " at " + str(self.pos))
        self.pos += 1

    def skip_ws(self):
        while True:
            c = self.peek()
            if c == " " or c == "\n":
                self.pos += 1
            else:
                return

    def parse_value(self):
        self.skip_ws()
        c = self.peek()
        if c == "{":
            return self.parse_object()
        if c == "[":
            return self.parse_array()
        if c == "\"":
            return JStr(self.parse_string())
        if c == "t":
            self.pos += 4
            return JBool(True)
        if c == "f":
            self.pos += 5
            return JBool(False)
        if c == "n":
            self.pos += 4
            return JNull()
        return self.parse_number()

    def parse_number(self):
        neg = False
        if self.peek() == "-":
            neg = True
            self.pos += 1
        n = 0
        while True:
            d = ord(self.peek())
            if d < 48 or d > 57:
                break
            n = n * 10 + (d - 48)
            self.pos += 1
        if neg:
            n = -n
        return JNum(n)

    # Builds the string one character at a time, as a naive parser does.
    def parse_string(self):
        self.expect("\"")
        buf = ""
        while True:
            c = self.peek()
            self.pos += 1
            if c == "\"":
                return buf
            if c == "\\":
                e = self.peek()
                self.pos += 1
                if e == "n":
                    buf += "\n"
                else:
                    buf += e
            else:
                buf += c

    def parse_array(self):
        self.expect("[")
        items = []
        self.skip_ws()
        if self.peek() == "]":
            self.pos += 1
            return JArr(items)
        while True:
            items.append(self.parse_value())
            self.skip_ws()
            if self.peek() == "]":
                self.pos += 1
                return JArr(items)
            self.expect(",")

    def parse_object(self):
        self.expect("{")
        fields = {}
        self.skip_ws()
        if self.peek() == "}":
            self.pos += 1
            return JObj(fields)
        while True:
            self.skip_ws()
            k = self.parse_string()
            self.skip_ws()
            self.expect(":")
            fields[k] = self.parse_value()
            self.skip_ws()
            if self.peek() == "}":
                self.pos += 1
                return JObj(fields)
            self.expect(",")


def main():
    rng = Rng(42)
    st = Stats(0, 0, 0, 0, 0, 0, 0)
    nbytes = 0
    checksum = 0
    for round_ in range(3):
        text = generate(rng, 2500)
        nbytes += len(text)  # ASCII: characters == bytes
        p = Parser(text, 0)
        doc = p.parse_value()
        checksum = (checksum * 31 + doc.sum(st)) % P
    print("bytes " + str(nbytes))
    print("objects " + str(st.objects) + " arrays " + str(st.arrays) + " keys " + str(st.keys))
    print("strings " + str(st.strings) + " chars " + str(st.chars) + " numbers " + str(st.numbers) +
          " literals " + str(st.literals))
    print("checksum " + str(checksum))


main()
