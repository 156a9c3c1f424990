"""The file names the upload scenarios round-trip, shared with the cases that check them.

Plain data with no side effects: the scenario scripts import it as ``_names`` (their directory is
on ``sys.path``), the test modules as ``tests.compat.scenarios._names``.
"""

#: Spaces, parentheses, unicode.
NAMES = [
    "my file (final).pdf",
    "naïve 文件 ü.txt",
    "two  spaces.txt",
    "Q3 report (final) (1).pdf",
]
#: Characters that must be percent-encoded in a URL.
SPECIAL_NAMES = ["plus+amp&pct%.txt", "hash#semi;eq=.txt", "apos'tilde~.txt"]
