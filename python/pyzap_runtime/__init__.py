"""Facts about the running pyzap bundle, for the app and its child processes.

pyzap ships this package inside every artifact (``site-packages/pyzap_runtime``).
It reads the environment variables that the bootstrap exports, so it works
the same in the bundle's own process and in child processes that import it
through the exported ``PYTHONPATH``.

``artifact``
    Absolute path of the ``.pyz`` as it was run (``$PYZAP_ARTIFACT``), or
    ``None`` when not running from a pyzap bundle.
``site_dirs``
    The bundle's ``sys.path`` entries, in order (``$PYZAP_SITE``): the
    extracted site dir (if any), ``<artifact>/site-packages``, the artifact
    itself for ``--src`` bundles, and paths added by the bundle's ``.pth``
    files. Empty outside a bundle.
``extracted_dir``
    The bundle's extracted site dir in the cache (``<root>/site/<hash>``),
    or ``None`` when the bundle has nothing to extract.
``entry_point``
    The entry point that was run: ``"module:function"``, ``"module"``, or
    ``"__pyzap__/main.py"`` for a script; ``$PYZAP_ENTRY_POINT`` when set.
    ``None`` outside a bundle. Read lazily from ``__pyzap__/boot``.
``cache_root()``
    The cache root: the one in use when the bundle has an extracted dir,
    else the one the bootstrap would use (``$PYZAP_ROOT``,
    ``$CACHE_DIRECTORY/pyzap``, ``$XDG_CACHE_HOME/pyzap``, ``~/.cache/pyzap``).
    Does not create it.
``manifest()``
    The bundle's ``__pyzap__/manifest.json`` as a dict, loaded on first call
    and cached. Raises ``RuntimeError`` outside a bundle.
"""

import os as _os

__all__ = ["artifact", "site_dirs", "extracted_dir", "entry_point", "cache_root", "manifest"]

artifact = _os.environ.get("PYZAP_ARTIFACT") or None
site_dirs = [p for p in _os.environ.get("PYZAP_SITE", "").split(_os.pathsep) if p] if artifact else []
# The bootstrap puts the extracted dir first; every other entry of ours is
# inside the artifact.
extracted_dir = None
if site_dirs and not (site_dirs[0] == artifact or site_dirs[0].startswith(artifact + _os.sep)):
    extracted_dir = site_dirs[0]

_manifest = None


def cache_root():
    """The pyzap cache root directory (see the module docstring)."""
    if extracted_dir:
        return _os.path.dirname(_os.path.dirname(extracted_dir))
    env = _os.environ
    if env.get("PYZAP_ROOT"):
        return _os.path.abspath(env["PYZAP_ROOT"])
    cache_directory = env.get("CACHE_DIRECTORY", "").split(":")[0]
    if cache_directory:
        return _os.path.join(_os.path.abspath(cache_directory), "pyzap")
    xdg = env.get("XDG_CACHE_HOME")
    if xdg and _os.path.isabs(xdg):
        return _os.path.join(xdg, "pyzap")
    return _os.path.join(_os.path.expanduser("~"), ".cache", "pyzap")


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
