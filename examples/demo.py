"""A bank ledger with a bug: one account ends up negative. Debug it with sleepy.

    cargo run --release -- --batch examples/demo.cmds examples/demo.py
"""


class Account:
    def __init__(self, owner, balance=0):
        self.owner = owner
        self.balance = balance

    def withdraw(self, amount):
        fee = 1 if amount < 100 else 0
        self.balance -= amount + fee
        return self.balance

    def __repr__(self):
        return f"Account({self.owner!r}, {self.balance})"


def apply(accounts, transfers):
    for source, target, amount in transfers:
        if accounts[source].balance >= amount:  # the fee is forgotten here
            accounts[source].withdraw(amount)
            accounts[target].balance += amount
    return accounts


def main():
    accounts = {name: Account(name, 50) for name in ("ada", "bob", "cyd")}
    transfers = [("ada", "bob", 20), ("bob", "cyd", 70), ("cyd", "ada", 120)]
    apply(accounts, transfers)
    for account in accounts.values():
        print(account)
    return accounts


if __name__ == "__main__":
    main()
