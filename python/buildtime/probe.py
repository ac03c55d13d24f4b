"""Prints what this interpreter is, as JSON, for pyzap's target (runs with -I -S)."""

import importlib.util
import json
import os
import platform
import sys
import sysconfig


def libc():
    name, version = platform.libc_ver()
    if name == "glibc":
        return ["glibc", version]
    # musl: the dynamic loader prints its version when run without arguments.
    for path in ("/lib", "/usr/lib"):
        try:
            loaders = [f for f in os.listdir(path) if f.startswith("ld-musl-")]
        except OSError:
            continue
        if loaders:
            import subprocess

            out = subprocess.run([os.path.join(path, loaders[0])], capture_output=True, text=True).stderr
            for line in out.splitlines():
                if line.startswith("Version"):
                    return ["musl", line.split()[1]]
    return ["", ""]


def main():
    impl = sys.implementation
    iv = impl.version
    impl_version = "{}.{}.{}".format(iv.major, iv.minor, iv.micro)
    if iv.releaselevel != "final":
        impl_version += iv.releaselevel[0] + str(iv.serial)
    facts = {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "sys_platform": sys.platform,
        "cache_tag": impl.cache_tag or "",
        "abiflags": getattr(sys, "abiflags", "") + ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") and "t" not in getattr(sys, "abiflags", "") else ""),
        "libc": libc(),
        "pyc_magic": importlib.util.MAGIC_NUMBER.hex(),
    }
    # The real binary, not a launcher script (pyenv shims cost ~50 ms a call).
    sys.stdout.write(json.dumps({"facts": facts, "executable": os.path.realpath(sys.executable)}))


main()
