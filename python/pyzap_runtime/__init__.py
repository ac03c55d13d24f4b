"""Facts about the running pyzap bundle, for the app and its child processes.

pyzap ships this package inside every artifact. It reads the environment
variables that the bootstrap exports and the interpreter's own state, so it
works the same in the bundle's own process and in child processes started
from the bundle's virtual environment (``sys.executable``).

``artifact``
    Absolute path of the ``.pyz`` as it was run (``$PYZAP_ARTIFACT``), or
    ``None`` when not running from a pyzap bundle.
``site_dirs``
    The bundle's ``sys.path`` entries, in order (``$PYZAP_SITE``): the
    venv's site-packages, the extracted site dir, paths added by the
    bundle's ``.pth`` files, then paths inside the artifact (a zipped site,
    the artifact itself for ``--src`` bundles). Empty outside a bundle.
``extracted_dir``
    The bundle's extracted site dir in the cache (``<root>/site/<hash>``),
    or ``None`` when the bundle has nothing to extract.
``venv_dir``
    The bundle's virtual environment in the cache (``<root>/venv/<name>``):
    ``sys.prefix`` and the directory of ``sys.executable``'s ``bin/``.
    ``None`` outside a bundle or when Python runs embedded.
``entry_point``
    The entry point that was run: ``"module:function"``, ``"module"``, or
    ``"__pyzap__/main.py"`` for a script; ``$PYZAP_ENTRY_POINT`` when set.
    ``None`` outside a bundle. Read lazily from ``__pyzap__/boot``.
``cache_root()``
    The cache root: the one in use when the bundle has an extracted dir,
    else the one the bootstrap would use (``$PYZAP_ROOT``,
    ``$CACHE_DIRECTORY/pyzap``, ``/var/cache/pyzap`` for root,
    ``$XDG_CACHE_HOME/pyzap``, ``~/.cache/pyzap``); ``None`` when there is
    none (no home directory). Does not create it.
``manifest()``
    The bundle's ``__pyzap__/manifest.json`` as a dict, loaded on first call
    and cached. Raises ``RuntimeError`` outside a bundle.
``listen_sockets(names=False)``
    The sockets systemd passed by socket activation (``LISTEN_FDS``, from fd
    3 on, when ``LISTEN_PID`` is this process), as ``socket.socket``
    objects of the family and type each fd has; ``[]`` when there are none.
    The variables are then removed from the environment, so child
    processes do not take the sockets for theirs (``sd_listen_fds(1)``).
    With ``names=True``, ``(name, socket)`` pairs, the names from
    ``LISTEN_FDNAMES`` (``FileDescriptorName=``; ``"unknown"`` when unset).
    Works outside a bundle too.
"""

import os as _os

import sys as _sys

__all__ = ["artifact", "site_dirs", "extracted_dir", "venv_dir", "entry_point", "cache_root",
           "manifest", "listen_sockets"]

artifact = _os.environ.get("PYZAP_ARTIFACT") or None
site_dirs = [p for p in _os.environ.get("PYZAP_SITE", "").split(_os.pathsep) if p] if artifact else []
venv_dir = None


def _is_bundle_venv(prefix):
    # Its marker, or the marker's unflushed name (".pyzap-venv.<boot id>")
    # while the bootstrap's background flush has not renamed it yet.
    try:
        return any(n == ".pyzap-venv" or n.startswith(".pyzap-venv.") for n in _os.listdir(prefix))
    except OSError:
        return False


if artifact and _sys.prefix != _sys.base_prefix and _is_bundle_venv(_sys.prefix):
    venv_dir = _sys.prefix
# The extracted dir is the first entry that is neither in the venv nor in
# the artifact (a .pth file's path lines come after it).
extracted_dir = None
for _p in site_dirs:
    if not (_p == artifact or _p.startswith(artifact + _os.sep)
            or (venv_dir and _p.startswith(venv_dir + _os.sep))):
        extracted_dir = _p
        break

_manifest = None


def cache_root():
    """The pyzap cache root directory (see the module docstring)."""
    if extracted_dir:
        return _os.path.dirname(_os.path.dirname(extracted_dir))
    # docs/artifact-format.md, "Runtime cache protocol", step 1.
    env = _os.environ
    if env.get("PYZAP_ROOT"):
        return _os.path.abspath(env["PYZAP_ROOT"])
    cache_directory = env.get("CACHE_DIRECTORY", "").split(":")[0]
    if cache_directory:
        return _os.path.join(_os.path.abspath(cache_directory), "pyzap")
    if hasattr(_os, "geteuid") and _os.geteuid() == 0:
        return "/var/cache/pyzap"
    xdg = env.get("XDG_CACHE_HOME")
    if xdg and _os.path.isabs(xdg):
        return _os.path.join(xdg, "pyzap")
    home = env.get("HOME")
    if not home:
        try:
            import pwd
            home = pwd.getpwuid(_os.getuid()).pw_dir
        except (ImportError, KeyError):
            return None
    return _os.path.join(home, ".cache", "pyzap") if _os.path.isabs(home) else None


def manifest():
    """The bundle's manifest (``__pyzap__/manifest.json``) as a dict."""
    global _manifest
    if _manifest is None:
        if artifact is None:
            raise RuntimeError("not running from a pyzap bundle")
        import json
        import zipfile
        with zipfile.ZipFile(artifact) as zf:
            _manifest = json.loads(zf.read("__pyzap__/manifest.json").decode("utf-8"))
    return _manifest


_SD_LISTEN_FDS_START = 3
_listened = None


def listen_sockets(names=False):
    """The sockets systemd passed (see the module docstring)."""
    global _listened
    if _listened is None:
        _listened = _take_listen_fds()
    return list(_listened) if names else [sock for _, sock in _listened]


def _take_listen_fds():
    # The rules of sd_listen_fds(3): LISTEN_PID must name us (a child that
    # inherited the variables is not the one the sockets were meant for),
    # LISTEN_FDS counts fds from 3 on; the variables are unset either way.
    env = _os.environ
    pid, count = env.pop("LISTEN_PID", None), env.pop("LISTEN_FDS", None)
    fdnames = env.pop("LISTEN_FDNAMES", None)
    if pid is None or count is None:
        return []
    try:
        if int(pid) != _os.getpid():
            return []
        count = int(count)
    except ValueError:
        return []
    if count <= 0:
        return []
    import socket
    names = fdnames.split(":") if fdnames else []
    taken = []
    for i in range(count):
        fd = _SD_LISTEN_FDS_START + i
        try:
            _os.set_inheritable(fd, False)  # sd_listen_fds sets FD_CLOEXEC
            sock = socket.socket(fileno=fd)  # family and type read from the fd
        except OSError:
            continue  # not a socket (a FIFO or file passed with Sockets=)
        taken.append((names[i] if i < len(names) and names[i] else "unknown", sock))
    return taken


def _entry_point():
    if artifact is None:
        return None
    override = _os.environ.get("PYZAP_ENTRY_POINT")
    if override:
        return override
    import zipimport  # already loaded, and shares the bootstrap's zip index
    boot = {}
    data = zipimport.zipimporter(artifact).get_data("__pyzap__/boot")
    for line in data.decode("utf-8").splitlines():
        key, _, value = line.partition("=")
        boot.setdefault(key, value)
    kind = boot.get("entry_kind")
    if kind == "function":
        return "%s:%s" % (boot.get("entry_module"), boot.get("entry_function"))
    if kind == "module":
        return boot.get("entry_module")
    return "__pyzap__/main.py"


def __getattr__(name):  # PEP 562: computed on first use only
    if name == "entry_point":
        value = _entry_point()
        globals()["entry_point"] = value
        return value
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
