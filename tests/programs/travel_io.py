"""Prints, reads its stdin, and prints again."""

print("first line")
name = input("name? ")
print("hello", name)
age = int(input("age? "))
for i in range(3):
    print("tick-tock", i)
print("age next year", age + 1)
print("last line")
