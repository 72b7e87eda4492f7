"""Jump matrix corpus: methods of classes."""


class _Mgr:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.log.append("enter")
        return self

    def __exit__(self, *exc):
        self.log.append("exit")


class Account:
    rate = 2

    def __init__(self, log):
        self.log = log
        self.balance = 0

    def deposit(self, amounts=(1, 2), amount=0):
        self.log.append("start")
        for amount in amounts:
            if amount < 0:
                amount = 0
            self.balance += amount * self.rate
        else:
            self.log.append(("deposited", self.balance))
        return self.balance

    @staticmethod
    def parse(log, text="1,x,3", part="", value=0):
        log.append("start")
        for part in text.split(","):
            try:
                value = int(part)
            except ValueError:
                log.append(("bad", part))
                continue
            log.append(value)
        return log

    @classmethod
    def opened(cls, log, m=None):
        log.append("start")
        with _Mgr(log) as m:
            log.append(cls.rate)
        return m is not None

    @property
    def report(self, kind=None):
        self.log.append("start")
        match self.balance:
            case 0:
                kind = "empty"
            case int():
                kind = "funded"
        return kind


log = []
acct = Account(log)
print(acct.deposit(), Account.parse(log), Account.opened(log), acct.report, log)
print("END methods.py")
