# Interface dispatch: virtual calls over a mixed array of objects.
# Port of benches/pvm/dispatch.pvm.


class Shape:
    __slots__ = ()

    def area(self):
        raise NotImplementedError


class Circle(Shape):
    __slots__ = ("r",)

    def __init__(self, r):
        self.r = r

    def area(self):
        return 3.0 * self.r * self.r


class Rect(Shape):
    __slots__ = ("w", "h")

    def __init__(self, w, h):
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h


class Square(Shape):
    __slots__ = ("side",)

    def __init__(self, side):
        self.side = side

    def area(self):
        return self.side * self.side


def main():
    shapes = []
    for i in range(1000):
        k = i % 3
        if k == 0:
            shapes.append(Circle(float(i % 7)))
        elif k == 1:
            shapes.append(Rect(float(i % 5), 2.0))
        else:
            shapes.append(Square(float(i % 11)))
    total = 0.0
    for round_ in range(100000):
        for s in shapes:
            total += s.area()
    print("%.1f" % total)


main()
