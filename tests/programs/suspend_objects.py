"""Classes and instances with methods, and values with two names: a list held by two variables
and by a dict, an instance shared by two containers. After a resume, changing the value through
one name must still show through the others."""


class Account:
    count = 0

    def __init__(self, owner, history):
        self.owner = owner
        self.history = history  # shared with the caller's list
        Account.count += 1

    def deposit(self, amount):
        self.history.append(amount)
        return self.balance()

    def balance(self):
        return sum(self.history)


class Savings(Account):
    rate = 3

    def deposit(self, amount):
        bonus = amount * self.rate // 100
        return super().deposit(amount + bonus)


shared = []
alias = shared
book = {"main": shared, "copy": list(shared)}
acct = Savings("ann", shared)
plain = Account("bob", [])
ledger = [acct, plain]
owners = {"ann": acct}
for step in range(12):
    amount = step * 10 + 5
    if step % 2:
        b = acct.deposit(amount)
    else:
        b = plain.deposit(amount)
    alias.append(-1)
    print(step, b, len(shared), shared is alias, book["main"] is acct.history)
book["copy"].append(99)
print("same", shared is alias is book["main"] is acct.history, owners["ann"] is ledger[0])
print("lens", len(shared), len(alias), len(book["copy"]), Account.count)
print("balances", [a.balance() for a in ledger], type(acct).__name__, isinstance(acct, Account))
