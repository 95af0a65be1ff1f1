// Interface dispatch: virtual calls over a mixed array of objects.
// Port of benches/pvm/dispatch.pvm.
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;

public class dispatch {
    interface Shape {
        double area();
    }

    static final class Circle implements Shape {
        double r;

        Circle(double r) {
            this.r = r;
        }

        public double area() {
            return 3.0 * r * r;
        }
    }

    static final class Rect implements Shape {
        double w;
        double h;

        Rect(double w, double h) {
            this.w = w;
            this.h = h;
        }

        public double area() {
            return w * h;
        }
    }

    static final class Square implements Shape {
        double side;

        Square(double side) {
            this.side = side;
        }

        public double area() {
            return side * side;
        }
    }

    // pvm's fixed(x, d) is C's "%.*f": the exact binary value rounded half to even.
    // (String.format("%.1f") rounds half up on the shortest decimal instead.)
    static String fixed(double x, int d) {
        return new BigDecimal(x).setScale(d, RoundingMode.HALF_EVEN).toPlainString();
    }

    public static void main(String[] args) {
        ArrayList<Shape> shapes = new ArrayList<>();
        for (long i = 0; i < 1000; i++) {
            long k = i % 3;
            if (k == 0) {
                shapes.add(new Circle((double) (i % 7)));
            } else if (k == 1) {
                shapes.add(new Rect((double) (i % 5), 2.0));
            } else {
                shapes.add(new Square((double) (i % 11)));
            }
        }
        double total = 0.0;
        for (long round = 0; round < 100000; round++) {
            for (Shape s : shapes) {
                total += s.area();
            }
        }
        System.out.println(fixed(total, 1));
    }
}
