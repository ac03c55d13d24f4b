"""Runs one PEP 517 hook for pyzap (with -I -S; build requirements come first on sys.path).

argv: <build-env dir> <source dir> <output dir> <backend> <backend-path entries…>
Prints the built wheel's file name on the last line of stdout.
"""

import importlib
import os
import sys


def main():
    env, source, out, backend = sys.argv[1:5]
    backend_path = [os.path.join(source, p) for p in sys.argv[5:]]
    sys.path[:0] = backend_path + [env]
    os.chdir(source)
    module, _, obj = backend.partition(":")
    hooks = importlib.import_module(module)
    for attr in filter(None, obj.split(".")):
        hooks = getattr(hooks, attr)
    name = hooks.build_wheel(out)
    sys.stdout.write("\n" + name + "\n")


main()
