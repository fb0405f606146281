"""A stand-in for stderr that says it is a terminal (progress bars draw only on a TTY) and
records what is written; shared by tests/test_cli.py and tests/test_sweep.py."""


class FakeTTY:
    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass

    def isatty(self):
        return True
