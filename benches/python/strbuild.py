# String building: lines built by concatenation in a loop from str() of ints
# and floats and small pieces; a string grown piece by piece; blocks of lines
# joined, split back into lines and fields, and the numbers parsed again.
# Port of benches/pvm/strbuild.pvm. str(float) is repr, the shortest
# round-trip form, as pvm's str (the values here are below 1e16, where both
# print positional notation).


class Rng:
    __slots__ = ("seed",)

    def __init__(self, seed):
        self.seed = seed

    # MINSTD: the product stays below 2^47, exact in every port.
    def next(self):
        self.seed = self.seed * 48271 % 2147483647
        return self.seed


P = 1000000007


def main():
    rng = Rng(3)
    lines = []
    grow = ""
    grown = 0
    blocks = 0
    nbytes = 0
    fields = 0
    total = 0
    h = 0
    last = ""
    for i in range(800000):
        nf = 3 + rng.next() % 6
        line = ""
        for f in range(nf):
            v = rng.next() % 100000
            if f > 0:
                line += ","
            kind = v % 3
            if kind == 0:
                line += str(v)
            elif kind == 1:
                # v / 8 is exact, and its shortest form has at most 3 decimals.
                line += str(float(v) / 8.0)
            else:
                line += "w" + str(v % 97) + "_" + str(f)
        lines.append(line)
        last = line
        grow += line[0:min(len(line), 8)] + ";"
        if len(grow) > 4000:
            h = (h * 31 + len(grow) + ord(grow[1000])) % P
            grow = ""
            grown += 1
        if len(lines) == 500:
            block = "\n".join(lines)
            nbytes += len(block)  # ASCII: characters == bytes
            blocks += 1
            for l in block.split("\n"):
                for fld in l.split(","):
                    fields += 1
                    if ord(fld[0]) == 119:  # "w"
                        h = (h * 31 + len(fld)) % P
                    elif fld.find(".") >= 0:
                        total += int(float(fld) * 8.0)
                    else:
                        total += int(fld)
            lines = []
    print("blocks " + str(blocks) + " bytes " + str(nbytes) + " fields " + str(fields))
    print("sum " + str(total) + " hash " + str(h) + " grown " + str(grown) + " " + str(len(grow)))
    print("last " + last)


main()
