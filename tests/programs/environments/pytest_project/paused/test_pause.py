def test_with_breakpoint():
    value = 41
    breakpoint()
    value += 1
    assert value == 42
