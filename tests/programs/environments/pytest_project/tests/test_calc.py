from calc import area


def test_square():
    assert area(2, 2) == 5


def test_rectangle():
    side = 3
    expected = side * 2
    print("checking", side)
    assert area(side, 2) == expected


def test_words():
    words = ["a", "b"]
    assert len(words) == 2
