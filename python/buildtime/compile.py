"""pyzap's bytecode compiler service (runs with -I -S under the target Python).

Reads frames from stdin: <u32 name length><name><u32 source length><source>,
and answers each with <u32 length><unchecked hash-based pyc (PEP 552)>, or a
zero length when the source does not compile (as compileall skips it).
"""

import importlib.util
import sys
import warnings
from importlib._bootstrap_external import _code_to_hash_pyc


def main():
    warnings.simplefilter("ignore")
    read = sys.stdin.buffer.read
    out = sys.stdout.buffer

    def read_exact(n):
        data = read(n)
        if len(data) != n:
            raise EOFError
        return data

    while True:
        header = read(4)
        if len(header) < 4:
            break
        name = read_exact(int.from_bytes(header, "little")).decode("utf-8")
        source = read_exact(int.from_bytes(read_exact(4), "little"))
        try:
            code = compile(source, name, "exec", dont_inherit=True)
            pyc = bytes(_code_to_hash_pyc(code, importlib.util.source_hash(source), False))
        except Exception:
            pyc = b""
        out.write(len(pyc).to_bytes(4, "little"))
        out.write(pyc)
    out.flush()


main()
