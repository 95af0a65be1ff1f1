// Word frequencies: string building, hashing and map updates, then a sort.
// Port of benches/pvm/wordfreq.pvm.
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;

public class wordfreq {
    public static void main(String[] args) {
        String[] words = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
        // pvm maps iterate in insertion order, like LinkedHashMap.
        LinkedHashMap<String, Long> counts = new LinkedHashMap<>();
        long seed = 42;
        for (long i = 0; i < 10000000L; i++) {
            seed = (seed * 1103515245L + 12345L) % 2147483648L;
            String w = words[(int) (seed % 8)] + Long.toString(seed % 1000);
            if (counts.containsKey(w)) {
                counts.put(w, counts.get(w) + 1);
            } else {
                counts.put(w, 1L);
            }
        }
        ArrayList<String> ks = new ArrayList<>(counts.keySet());
        Collections.sort(ks); // UTF-16 order == byte order for these ASCII keys
        long checksum = 0;
        for (String k : ks) {
            checksum = (checksum * 31 + counts.get(k) * k.length()) % 1000000007L;
        }
        System.out.println(ks.size());
        System.out.println(checksum);
    }
}
