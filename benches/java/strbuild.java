// String building: lines built by concatenation in a loop from str() of ints
// and floats and small pieces; a string grown piece by piece; blocks of lines
// joined, split back into lines and fields, and the numbers parsed again.
// Port of benches/pvm/strbuild.pvm. Strings are built with +, as in pvm (a new
// string per concatenation), not with a StringBuilder.
import java.util.ArrayList;

public class strbuild {
    static final class Rng {
        long seed;

        Rng(long seed) {
            this.seed = seed;
        }

        // MINSTD: the product stays below 2^47.
        long next() {
            seed = seed * 48271L % 2147483647L;
            return seed;
        }
    }

    static final long P = 1000000007L;

    // split(s, sep) as in Python: every piece, trailing empty ones included
    // (the -1). sep is one character that is not a regex metacharacter, which
    // String.split handles without a regex.
    static String[] split(String s, String sep) {
        return s.split(sep, -1);
    }

    public static void main(String[] args) {
        Rng rng = new Rng(3);
        ArrayList<String> lines = new ArrayList<>();
        String grow = "";
        long grown = 0;
        long blocks = 0;
        long bytes = 0;
        long fields = 0;
        long sum = 0;
        long h = 0;
        String last = "";
        for (long i = 0; i < 800000; i++) {
            long nf = 3 + rng.next() % 6;
            String line = "";
            for (long f = 0; f < nf; f++) {
                long v = rng.next() % 100000;
                if (f > 0) {
                    line += ",";
                }
                long kind = v % 3;
                if (kind == 0) {
                    line += Long.toString(v);
                } else if (kind == 1) {
                    // v / 8 is exact, and its shortest form has at most 3 decimals
                    // (and is below 10^7, where Double.toString switches to E notation).
                    line += Double.toString((double) v / 8.0);
                } else {
                    line += "w" + Long.toString(v % 97) + "_" + Long.toString(f);
                }
            }
            lines.add(line);
            last = line;
            grow += line.substring(0, Math.min(line.length(), 8)) + ";";
            if (grow.length() > 4000) {
                h = (h * 31 + grow.length() + grow.charAt(1000)) % P;
                grow = "";
                grown += 1;
            }
            if (lines.size() == 500) {
                String block = String.join("\n", lines);
                bytes += block.length(); // ASCII: chars == bytes
                blocks += 1;
                for (String l : split(block, "\n")) {
                    for (String fld : split(l, ",")) {
                        fields += 1;
                        if (fld.charAt(0) == 119) { // "w"
                            h = (h * 31 + fld.length()) % P;
                        } else if (fld.indexOf(".") >= 0) {
                            sum += (long) (Double.parseDouble(fld) * 8.0);
                        } else {
                            sum += Long.parseLong(fld);
                        }
                    }
                }
                lines = new ArrayList<>();
            }
        }
        System.out.println("blocks " + blocks + " bytes " + bytes + " fields " + fields);
        System.out.println("sum " + sum + " hash " + h + " grown " + grown + " " + grow.length());
        System.out.println("last " + last);
    }
}
