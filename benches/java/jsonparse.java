// JSON parsing: generate a JSON text (string building), then parse it byte by
// byte into objects, arrays and small maps, one one-character string per byte.
// Port of benches/pvm/jsonparse.pvm.
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

public class jsonparse {
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

    static final String[] KEYS = {"id", "name", "type", "value", "tags", "count", "items", "enabled",
                                  "owner", "size", "path", "mode", "ratio", "child", "next", "meta"};
    static final String[] WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
    static final long MAX_DEPTH = 5;

    static void genValue(Rng rng, ArrayList<String> out, long depth) {
        long r = rng.next() % 20;
        if (depth < MAX_DEPTH && r < 4) {
            genObject(rng, out, depth);
        } else if (depth < MAX_DEPTH && r < 8) {
            long n = rng.next() % 8;
            out.add("[");
            for (long i = 0; i < n; i++) {
                if (i > 0) {
                    out.add(", ");
                }
                genValue(rng, out, depth + 1);
            }
            out.add("]");
        } else if (r < 12) {
            out.add(Long.toString(rng.next() % 2000001 - 1000000));
        } else if (r < 17) {
            String w = WORDS[(int) (rng.next() % 8)];
            long k = rng.next() % 10;
            if (k == 0) {
                out.add("\"" + w + "\\nline\"");
            } else if (k == 1) {
                out.add("\"say \\\"" + w + "\\\"\"");
            } else {
                out.add("\"" + w + Long.toString(k * 37) + "\"");
            }
        } else if (r == 17) {
            out.add("true");
        } else if (r == 18) {
            out.add("false");
        } else {
            out.add("null");
        }
    }

    static void genObject(Rng rng, ArrayList<String> out, long depth) {
        long n = 2 + rng.next() % 6;
        out.add("{");
        for (long i = 0; i < n; i++) {
            if (i > 0) {
                out.add(",\n");
            }
            String key = KEYS[(int) (rng.next() % 16)];
            out.add("\"" + key + "\": ");
            genValue(rng, out, depth + 1);
        }
        out.add("}");
    }

    static String generate(Rng rng, long records) {
        ArrayList<String> out = new ArrayList<>();
        out.add("[");
        for (long i = 0; i < records; i++) {
            if (i > 0) {
                out.add(",\n");
            }
            genObject(rng, out, 1);
        }
        out.add("]\n");
        return String.join("", out);
    }

    static final long P = 1000000007L;

    static final class Stats {
        long objects, arrays, strings, numbers, literals, keys, chars;
    }

    interface JValue {
        long sum(Stats st);
    }

    static final class JNull implements JValue {
        public long sum(Stats st) {
            st.literals += 1;
            return 1;
        }
    }

    static final class JBool implements JValue {
        final boolean v;

        JBool(boolean v) {
            this.v = v;
        }

        public long sum(Stats st) {
            st.literals += 1;
            if (v) {
                return 2;
            }
            return 3;
        }
    }

    static final class JNum implements JValue {
        final long v;

        JNum(long v) {
            this.v = v;
        }

        public long sum(Stats st) {
            st.numbers += 1;
            return v + 1000000;
        }
    }

    static final class JStr implements JValue {
        final String v;

        JStr(String v) {
            this.v = v;
        }

        public long sum(Stats st) {
            st.strings += 1;
            st.chars += v.length(); // ASCII: chars == bytes
            return v.length() * 131L + v.charAt(0);
        }
    }

    static final class JArr implements JValue {
        final ArrayList<JValue> items;

        JArr(ArrayList<JValue> items) {
            this.items = items;
        }

        public long sum(Stats st) {
            st.arrays += 1;
            long h = 7;
            for (JValue it : items) {
                h = (h * 31 + it.sum(st)) % P;
            }
            return h;
        }
    }

    static final class JObj implements JValue {
        final LinkedHashMap<String, JValue> fields;

        JObj(LinkedHashMap<String, JValue> fields) {
            this.fields = fields;
        }

        // Independent of the order of the keys.
        public long sum(Stats st) {
            st.objects += 1;
            st.keys += fields.size();
            long h = 11;
            for (Map.Entry<String, JValue> e : fields.entrySet()) {
                String k = e.getKey();
                h = (h + (k.length() * 131L + k.charAt(0)) * e.getValue().sum(st)) % P;
            }
            return h;
        }
    }

    static final class Parser {
        final String s;
        int pos;

        Parser(String s, int pos) {
            this.s = s;
            this.pos = pos;
        }

        // A new one-character string, like pvm's substr.
        String peek() {
            return s.substring(pos, pos + 1);
        }

        void expect(String c) {
            if (!peek().equals(c)) {
                throw new RuntimeException("expected " + c + " at " + pos);
            }
            pos += 1;
        }

        void skipWs() {
            while (true) {
                String c = peek();
                if (c.equals(" ") || c.equals("\n")) {
                    pos += 1;
                } else {
                    return;
                }
            }
        }

        JValue parseValue() {
            skipWs();
            String c = peek();
            if (c.equals("{")) {
                return parseObject();
            }
            if (c.equals("[")) {
                return parseArray();
            }
            if (c.equals("\"")) {
                return new JStr(parseString());
            }
            if (c.equals("t")) {
                pos += 4;
                return new JBool(true);
            }
            if (c.equals("f")) {
                pos += 5;
                return new JBool(false);
            }
            if (c.equals("n")) {
                pos += 4;
                return new JNull();
            }
            return parseNumber();
        }

        JValue parseNumber() {
            boolean neg = false;
            if (peek().equals("-")) {
                neg = true;
                pos += 1;
            }
            long n = 0;
            while (true) {
                int d = peek().charAt(0);
                if (d < 48 || d > 57) {
                    break;
                }
                n = n * 10 + (d - 48);
                pos += 1;
            }
            if (neg) {
                n = -n;
            }
            return new JNum(n);
        }

        // Builds the string one character at a time, as a naive parser does.
        String parseString() {
            expect("\"");
            String buf = "";
            while (true) {
                String c = peek();
                pos += 1;
                if (c.equals("\"")) {
                    return buf;
                }
                if (c.equals("\\")) {
                    String e = peek();
                    pos += 1;
                    if (e.equals("n")) {
                        buf += "\n";
                    } else {
                        buf += e;
                    }
                } else {
                    buf += c;
                }
            }
        }

        JValue parseArray() {
            expect("[");
            ArrayList<JValue> items = new ArrayList<>();
            skipWs();
            if (peek().equals("]")) {
                pos += 1;
                return new JArr(items);
            }
            while (true) {
                items.add(parseValue());
                skipWs();
                if (peek().equals("]")) {
                    pos += 1;
                    return new JArr(items);
                }
                expect(",");
            }
        }

        JValue parseObject() {
            expect("{");
            LinkedHashMap<String, JValue> fields = new LinkedHashMap<>();
            skipWs();
            if (peek().equals("}")) {
                pos += 1;
                return new JObj(fields);
            }
            while (true) {
                skipWs();
                String k = parseString();
                skipWs();
                expect(":");
                fields.put(k, parseValue());
                skipWs();
                if (peek().equals("}")) {
                    pos += 1;
                    return new JObj(fields);
                }
                expect(",");
            }
        }
    }

    public static void main(String[] args) {
        Rng rng = new Rng(42);
        Stats st = new Stats();
        long bytes = 0;
        long checksum = 0;
        for (long round = 0; round < 3; round++) {
            String text = generate(rng, 2500);
            bytes += text.length(); // ASCII: chars == bytes
            Parser p = new Parser(text, 0);
            JValue doc = p.parseValue();
            checksum = (checksum * 31 + doc.sum(st)) % P;
        }
        System.out.println("bytes " + bytes);
        System.out.println("objects " + st.objects + " arrays " + st.arrays + " keys " + st.keys);
        System.out.println("strings " + st.strings + " chars " + st.chars + " numbers " + st.numbers
                           + " literals " + st.literals);
        System.out.println("checksum " + checksum);
    }
}
