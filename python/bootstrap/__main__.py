"""pyzap bootstrap: the ``__main__.py`` at the root of every pyzap artifact.

Python runs this file because the artifact (a zip) is ``sys.path[0]``. It

1. reads ``__pyzap__/boot`` (``key=value`` lines) through the zipimporter
   that loaded us;
2. refuses to run native bundles under the wrong interpreter ABI, or, in
   an artifact built for several targets, picks the one this interpreter
   is (cache tag, machine, libc);
3. when the bundle has an extracted site dir, makes sure
   ``<cache root>/site/<extract_hash>/`` is complete (warm path: two
   ``stat`` calls; cold path: unzip into a private temporary directory and
   ``rename`` it into place, which is atomic and race-safe);
4. replaces the interpreter's site-packages on ``sys.path`` with the bundle,
   processes the bundle's ``.pth`` files and exports ``PYTHONPATH``,
   ``PYZAP_ARTIFACT`` and ``PYZAP_SITE`` for child processes;
5. runs the entry point (or, with ``PYZAP_INTERPRETER=1``, acts like
   ``python``).

The contract with the Rust writer is docs/artifact-format.md. Start-up time
matters: the warm path imports nothing that ``python app.pyz`` has not
already imported (``os``, ``sys``, ``runpy`` and ``importlib``); ``zipfile``,
``shutil``, ``code`` ... are imported only on the paths that need them.
Errors of the bootstrap itself are one ``pyzap: error: ...`` line and exit
status 1; everything the app does (exceptions, exit codes, signals) is left
alone.
"""

import os
import sys

_EXTRACT_PREFIX = "__pyzap__/extract/"
_MARKER = ".pyzap-complete"
_HINT = "set PYZAP_ROOT to a writable directory"


def _fail(message):
    # SystemExit, not an exception of our own: it never prints a traceback,
    # and `finally` blocks (temporary directory clean-up) still run.
    sys.stderr.write("pyzap: error: %s\n" % message)
    sys.stderr.flush()
    raise SystemExit(1)


def _flag(name):
    return os.environ.get(name, "") not in ("", "0")


def _read_boot(loader, artifact):
    try:
        text = loader.get_data(loader.archive + "/__pyzap__/boot").decode("utf-8")
    except OSError:
        _fail("%s has no __pyzap__/boot: not a pyzap artifact" % artifact)
    except Exception as e:  # damaged compressed data (zlib.error), bad UTF-8 ...
        _fail("bad __pyzap__/boot in %s (the file is damaged): %s" % (artifact, e))
    boot = {"pth": [], "target": [], "target_pth": [], "target_digest": []}
    # "\n" only: str.splitlines() would also split on \r, \x1c-\x1e, \x85,
    # U+2028 and U+2029, so a name holding one could add a line.
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            _fail("bad __pyzap__/boot in %s: line %d has no '='" % (artifact, number))
        if key in ("pth", "target", "target_pth", "target_digest"):
            boot[key].append(value)
        else:
            boot[key] = value
    if boot.get("format") not in ("1", "2"):
        _fail("%s has artifact format %r; this bootstrap reads formats 1 and 2"
              % (artifact, boot.get("format")))
    return boot


def _release(text):
    """The numeric release of a version: (3, 11, 2) from "3.11.2", (3, 13)
    from "3.13rc1"; pre-, post- and dev-release parts are not compared."""
    parts = []
    for part in text.strip().split("."):
        digits = ""
        for ch in part:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(parts)


def _satisfies(clause, have):
    """Whether release `have` meets one PEP 440 clause (`>=3.11`, `!=3.9.*`,
    `~=3.10`). A clause this reader does not understand never refuses."""
    clause = clause.strip()
    for op in ("===", "~=", "==", "!=", "<=", ">=", "<", ">"):
        if clause.startswith(op):
            text = clause[len(op):].strip()
            break
    else:
        return True
    wildcard = text.endswith(".*")
    want = _release(text[:-2] if wildcard else text)
    if not want:
        return True
    if wildcard and op in ("==", "!="):
        return (have[:len(want)] == want) == (op == "==")
    width = max(len(want), len(have))
    w = want + (0,) * (width - len(want))
    h = have + (0,) * (width - len(have))
    if op == "~=":
        return h >= w and have[:max(len(want) - 1, 1)] == want[:max(len(want) - 1, 1)]
    return {"===": h == w, "==": h == w, "!=": h != w, "<=": h <= w,
            ">=": h >= w, "<": h < w, ">": h > w}[op]


def _check_requires_python(boot, artifact):
    """Refuse, in one line, an interpreter outside the bundle's combined
    Requires-Python, rather than a TypeError deep inside a dependency."""
    spec = boot.get("requires_python", "")
    have = tuple(sys.version_info[:3])
    if spec and not all(_satisfies(c, have) for c in spec.split(",")):
        _fail("%s needs Python %s (the Requires-Python of its distributions); %s is Python %s"
              % (artifact, spec, sys.executable or "this interpreter",
                 ".".join(map(str, have))))


def _machine():
    """`platform.machine()` without importing platform: `x86_64`, `aarch64`."""
    return os.uname().machine if hasattr(os, "uname") else ""


def _check_native(boot, artifact):
    """Native code runs only on its machine, and under the interpreter ABI it
    was built for: the target's cache tag, or, for stable-ABI (abi3) wheels
    only, any CPython from their floor on (not a free-threaded build)."""
    machine = boot.get("machine")
    here = _machine()
    if machine and here and here != machine:
        _fail("%s holds native code for %s; this machine is %s" % (artifact, machine, here))
    abi3 = boot.get("abi3")
    if abi3:
        floor = _release(abi3)
        if (sys.implementation.name == "cpython" and tuple(sys.version_info[:2]) >= floor
                and "t" not in getattr(sys, "abiflags", "")):
            return
        _fail("%s holds stable-ABI native code for CPython %s or later, but %s is %s %d.%d%s" % (
            artifact, abi3, sys.executable or "this interpreter", sys.implementation.name,
            sys.version_info[0], sys.version_info[1], getattr(sys, "abiflags", "")))
    if sys.implementation.cache_tag != boot.get("cache_tag"):
        _fail("%s is built for Python %s (%s), but %s is Python %d.%d (%s)" % (
            artifact, boot.get("python", "?"), boot.get("cache_tag"),
            sys.executable or "this interpreter", sys.version_info[0], sys.version_info[1],
            sys.implementation.cache_tag))


def _libc():
    """("glibc", (2, 36)), or ("", ()) when the C library is not glibc (musl)."""
    try:
        name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
        return name, tuple(int(p) for p in version.split(".")[:2])
    except (AttributeError, ValueError, OSError):
        return "", ()


def _pick_target(boot, artifact):
    """Format 2: the target line matching this interpreter and machine.

    A line is `name cache_tag machine libc site_zip extract_hash python`,
    libc being `glibc:2.28`, `musl:1.2` or `-`, and `-` an empty field.
    """
    tag = sys.implementation.cache_tag
    machine = _machine()
    names = []
    for line in boot["target"]:
        fields = line.split(" ")
        if len(fields) < 7:
            _fail("bad target line %r in __pyzap__/boot of %s" % (line, artifact))
        names.append(fields[0])
        if fields[1] != tag or fields[2] != machine:
            continue
        kind, _, version = fields[3].partition(":")
        if kind == "glibc":
            have, have_version = _libc()
            try:
                wanted = tuple(int(p) for p in version.split("."))
            except ValueError:
                continue
            if have != "glibc" or have_version < wanted:
                continue
        elif kind == "musl" and _libc()[0] == "glibc":
            continue
        return fields
    name, version = _libc()
    _fail("%s is built for %s; %s is Python %d.%d (%s) on %s %s" % (
        artifact, ", ".join(names) or "no target", sys.executable or "this interpreter",
        sys.version_info[0], sys.version_info[1], tag, machine,
        "%s %s" % (name, ".".join(map(str, version))) if name else "without glibc"))


def _cache_root():
    root = os.environ.get("PYZAP_ROOT")
    if root:
        return os.path.abspath(root)
    cache_directory = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if cache_directory:
        return os.path.join(os.path.abspath(cache_directory), "pyzap")
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says: ignore relative values
        return os.path.join(xdg, "pyzap")
    home = os.path.expanduser("~")
    if not os.path.isabs(home):
        _fail("cannot find a cache directory (no home directory); " + _HINT)
    # Deliberately no fallback to a shared temporary directory: another user
    # could plant code there before us.
    return os.path.join(home, ".cache", "pyzap")


def _check_root(root):
    # The extracted code is imported from here, so the directory must be
    # ours and not writable by anybody else.
    try:
        try:
            st = os.stat(root)
        except FileNotFoundError:
            os.makedirs(root, 0o700, exist_ok=True)
            st = os.stat(root)
    except OSError as e:
        _fail("cannot create the cache directory %s: %s (%s)" % (root, e, _HINT))
    if (st.st_mode & 0o170000) != 0o040000:
        _fail("cache directory %s is not a directory (%s)" % (root, _HINT))
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is not None and st.st_uid != euid:
        _fail("cache directory %s belongs to uid %d, not to you (uid %d); "
              "set PYZAP_ROOT to a directory of your own" % (root, st.st_uid, euid))
    if st.st_mode & 0o022:
        _fail("cache directory %s is writable by group or others (mode %03o); "
              "chmod 700 it or set PYZAP_ROOT to a private directory"
              % (root, st.st_mode & 0o777))


def _extracted_dir(artifact, extract_hash, prefix, compile_missing, digest):
    root = _cache_root()
    _check_root(root)
    final = os.path.join(root, "site", extract_hash)
    try:
        os.stat(os.path.join(final, _MARKER))
        return final  # the warm path
    except OSError:
        pass
    _extract(artifact, root, final, prefix, compile_missing, digest)
    return final


def _tree_digest(files):
    """The digest of a tree (docs/artifact-format.md, "Tree digest"):
    sha256 of "<name>\t<crc32 as 8 hex digits>\t<size>\n" per file, sorted."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(files):
        crc, size = files[name]
        h.update(("%s\t%08x\t%d\n" % (name, crc, size)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _flat_tree(loader, prefix):
    """{name: (crc, size)} of a tree stored as plain entries of the artifact
    (a `pyzap extract` tree repacked by hand), from the table of contents
    zipimport has already read; None when the tree is a nested archive."""
    toc = _toc(loader)
    if toc is None or (prefix.rstrip("/") + ".zip") in toc:
        return None
    files = {}
    for name, info in toc.items():
        name = name.replace(os.sep, "/")
        if name.startswith(prefix) and not name.endswith("/"):
            # (path, compress, data_size, file_size, offset, time, date, crc)
            files[name[len(prefix):]] = (info[7], info[3])
    return files


def _rmtree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


def _sync_filesystem(path):
    """Flush the file system holding `path`: one syncfs(2) (glibc) rather
    than an fsync per extracted file; os.sync() where ctypes cannot."""
    try:
        import ctypes

        fd = os.open(path, os.O_RDONLY)
        try:
            if ctypes.CDLL(None, use_errno=True).syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    except (ImportError, OSError, AttributeError):
        pass
    os.sync()


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _extract(artifact, root, final, prefix, compile_missing=True, digest=None):
    """Cold path: unzip `prefix` (__pyzap__/extract/), check what was
    unpacked against `digest`, and rename it to `final`."""
    import time
    import zipfile
    import zlib

    tmp_root = os.path.join(root, "tmp")
    tmp = None
    try:
        for d in (os.path.join(root, "site"), tmp_root):
            os.makedirs(d, 0o700, exist_ok=True)
        _sweep(tmp_root, time.time() - 86400)
        # Unique per process and attempt; mkdir fails rather than reuse.
        tmp = os.path.join(tmp_root, "%s.%d.%s" % (
            os.path.basename(final)[:16], os.getpid(), os.urandom(6).hex()))
        os.mkdir(tmp, 0o700)
        with zipfile.ZipFile(artifact) as outer:
            zf, inner_prefix, window = _open_tree(outer, artifact, prefix)
            try:
                files = _unpack(zf, inner_prefix, prefix, artifact, tmp)
            finally:
                if window is not None:
                    window.close()
        # Trusted only once it is what the build wrote: every file's data
        # matched its CRC while unpacking, and the list of files (names,
        # CRCs, sizes) matches the digest. A damaged copy of an artifact
        # can then never leave a tree that an intact one would use.
        if digest is not None and _tree_digest(files) != digest:
            _fail("%s is damaged: the files under %s do not match the digest in its boot "
                  "record (%d files found); replace the copy. Nothing was put in the cache."
                  % (artifact, prefix, len(files)))
        names = set(files)
        if compile_missing:
            _compile_missing(tmp, final, names)
        # Durable before trusted: the files reach the disk, then the marker
        # (written last: a directory without it is never used), then the
        # rename, so a power cut never leaves a marked but partial tree.
        _sync_filesystem(tmp)
        with open(os.path.join(tmp, _MARKER), "w") as f:
            f.write("%s\n" % artifact)
            f.flush()
            os.fsync(f.fileno())
        marker = os.path.join(final, _MARKER)
        for _ in range(20):
            try:
                os.rename(tmp, final)  # atomic; fails when `final` is not empty
                tmp = None
                _fsync_dir(os.path.dirname(final))
                return
            except OSError:
                if os.path.exists(marker):
                    return  # another process won the race: use theirs
                if not os.path.lexists(final):
                    raise
            # `final` exists without a marker (a crash, or a copy made by
            # hand): get it out of the way, then try again.
            _move_aside(final, marker, tmp_root)
        _fail("cannot put %s in place: it keeps reappearing (%s)" % (final, _HINT))
    except OSError as e:
        _fail("cannot extract the bundle into %s: %s (%s)" % (root, e, _HINT))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as e:
        # Damaged compressed data fails in zlib or ends early (EOFError); a
        # damaged header can name a compression method zipfile lacks.
        _fail("cannot read %s (the file is damaged): %s" % (artifact, e))
    finally:
        if tmp is not None:
            _rmtree(tmp)


def _unpack(zf, prefix, tree, artifact, tmp):
    """Write the files of `zf` under `prefix` into the directory `tmp`
    (`tree` is where they are in the artifact, for messages); return
    {path relative to `tmp`: (crc, size)} of the files written."""
    names = {}
    made = {tmp}  # directories that exist
    for info in zf.infolist():
        name = info.filename
        if not name.startswith(prefix):
            continue
        rel = name[len(prefix):]
        parts = [p for p in rel.split("/") if p]
        # No absolute paths, no way out of tmp (zip-slip); on Windows
        # also no drive letters or backslash separators.
        if rel.startswith("/") or ".." in parts or (
                os.name == "nt" and ("\\" in rel or ":" in rel)):
            _fail("refusing unsafe path %r in %s" % (tree + rel, artifact))
        if not parts:
            continue
        target = os.path.join(tmp, *parts)
        if name.endswith("/"):
            os.makedirs(target, 0o755, exist_ok=True)
            made.add(target)
            continue
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, 0o755, exist_ok=True)
            made.add(parent)
        key = "/".join(parts)
        if key in names:
            _fail("%s is damaged: %s is listed twice" % (artifact, tree + key))
        # Keep the executable bits of the unix mode in external_attr
        # (scripts, helper binaries shipped as package data).
        mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with open(fd, "wb") as dst, zf.open(info) as src:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
        names[key] = (info.CRC, info.file_size)
    return names


def _compile_missing(tmp, final, names):
    """Compile the sources that came without bytecode for this interpreter
    (a build for another Python version has none) into the tree being
    extracted, as unchecked hash-based pycs like the writer's, so that warm
    starts never compile, even with PYTHONDONTWRITEBYTECODE set: the cache
    is written now anyway, and never again."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return
    todo = []
    for rel in names:
        if not rel.endswith(".py"):
            continue
        head, _, base = rel.rpartition("/")
        pyc = "%s__pycache__/%s.%s.pyc" % (head + "/" if head else "", base[:-3], tag)
        if pyc not in names:
            todo.append((rel, pyc))
    if not todo:
        return
    import py_compile

    for rel, pyc in sorted(todo):
        try:
            py_compile.compile(
                os.path.join(tmp, *rel.split("/")), cfile=os.path.join(tmp, *pyc.split("/")),
                dfile=os.path.join(final, *rel.split("/")), doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        except (py_compile.PyCompileError, SyntaxError, ValueError):
            pass  # as compileall: a file that does not compile stays source only


class _Window:
    """Bytes [start, start + size) of an open file as a read-only, seekable
    file: the nested archive of a tree, read in place without a copy."""

    def __init__(self, f, start, size):
        self._f, self._start, self._size, self._pos = f, start, size, 0

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=0):
        base = (0, self._pos, self._size)[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n=-1):
        left = max(0, self._size - self._pos)
        n = left if n is None or n < 0 else min(n, left)
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        self._pos += len(data)
        return data

    def close(self):
        self._f.close()


def _open_tree(outer, artifact, prefix):
    """(archive, prefix of its entries, window to close) for the tree under
    `prefix`: the nested `<tree>.zip` the writer makes, read in place, or,
    in an artifact repacked from `pyzap extract`'s output, the outer
    archive's own entries under `prefix`."""
    import zipfile

    try:
        info = outer.getinfo(prefix.rstrip("/") + ".zip")
    except KeyError:
        return outer, prefix, None
    if info.compress_type != zipfile.ZIP_STORED:  # recompressed by hand
        import io
        return zipfile.ZipFile(io.BytesIO(outer.read(info))), "", None
    f = open(artifact, "rb")
    try:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile("bad local header for %s" % info.filename)
        start = (info.header_offset + 30 + int.from_bytes(header[26:28], "little")
                 + int.from_bytes(header[28:30], "little"))
        window = _Window(f, start, info.file_size)
        return zipfile.ZipFile(window), "", window
    except BaseException:
        f.close()
        raise


def _move_aside(final, marker, tmp_root):
    """Remove `final`, a directory without marker, without ever removing a
    complete one that another process renamed into place meanwhile.

    A rename onto `final` succeeds only while it is absent or empty, so a
    non-empty `final` without marker cannot turn complete under us; the
    lock keeps two processes from moving things aside at the same time.
    """
    try:
        os.rmdir(final)  # empty: just remove it
        return
    except OSError:
        pass
    try:
        import fcntl
    except ImportError:  # not on Windows: best effort
        fcntl = None
    fd = os.open(os.path.dirname(final), os.O_RDONLY)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
        if os.path.exists(marker) or not os.path.lexists(final):
            return  # finished or moved by somebody else meanwhile
        try:
            os.rmdir(final)
            return
        except OSError:
            if os.path.exists(marker):
                return  # an empty dir was just replaced by a complete one
        aside = os.path.join(tmp_root, "stale.%d.%s" % (os.getpid(), os.urandom(6).hex()))
        os.rename(final, aside)
    finally:
        os.close(fd)
    _rmtree(aside)


def _sweep(tmp_root, cutoff):
    # Leftovers of killed extractions; anything this old is not in use.
    try:
        for entry in os.scandir(tmp_root):
            if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                _rmtree(entry.path)
    except OSError:
        pass


def _interpreter_path(archive, artifact, parent):
    """Split sys.path into (kept, site) entries.

    `site` appends the user site and site-packages dirs (and the entries of
    their .pth files) after the stdlib, so everything from the first of those
    dirs on came from `site`. Entries before it (stdlib, $PYTHONPATH) are
    kept, except sys.path[0] (the artifact) and `parent` (another bundle's
    entries, inherited through $PYTHONPATH).
    """
    site_dirs = []
    site = sys.modules.get("site")  # absent under `python -S`
    if site is not None:
        try:
            site_dirs.extend(site.getsitepackages())
        except AttributeError:  # old virtualenv's site.py
            pass
        if getattr(site, "USER_SITE", None):
            site_dirs.append(site.USER_SITE)
    site_dirs = {os.path.abspath(d) for d in site_dirs}
    pythonpath = set(os.environ.get("PYTHONPATH", "").split(os.pathsep))
    kept, from_site = [], []
    for entry in sys.path:
        if from_site or (entry and os.path.abspath(entry) in site_dirs
                         and entry not in pythonpath):
            from_site.append(entry)
        elif entry not in (archive, artifact) and entry not in parent:
            kept.append(entry)
    return kept, from_site


def _forget_site_modules(site_entries):
    """Drop what `site` imported from the interpreter's site dirs.

    .pth files (and sitecustomize) run before us and may have imported
    modules from site-packages (certifi, _distutils_hack, editable-install
    finders ...). Left in sys.modules they would shadow the bundle's copies,
    and their import hooks would serve packages the bundle does not have.
    """
    prefixes = tuple(os.path.join(p, "") for p in site_entries if p)
    if not prefixes:
        return

    def from_site(module):
        try:
            where = getattr(module, "__file__", None)
            if where is None:  # a namespace package; _path: without recalculating
                path = getattr(module, "__path__", None)
                where = next(iter(getattr(path, "_path", path) or ()), None)
            return isinstance(where, str) and where.startswith(prefixes)
        except Exception:  # an odd module object: leave it alone
            return False

    doomed = {name for name, module in list(sys.modules.items())
              if module is not None and from_site(module)}
    # Import hooks (editable installs' finders are classes in meta_path)
    # go with the module that defines them.
    for hooks in (sys.meta_path, sys.path_hooks):
        hooks[:] = [hook for hook in hooks if getattr(hook, "__module__", None) not in doomed]
    for name in doomed:
        del sys.modules[name]
    for entry in site_entries:
        sys.path_importer_cache.pop(entry, None)


def _process_pth(loader, spec, artifact, site_zip, extracted, known):
    """Process one bundle .pth file like site.addpackage(); return new paths.

    `spec` is zip:<path relative to the zipped site dir> or
    extract:<path relative to the extracted site dir>.
    """
    kind, _, rel = spec.partition(":")
    if rel.startswith("/") or ".." in rel.split("/"):
        # A .pth file's lines run as code: only the bundle's own files.
        _fail("bad pth entry %r in __pyzap__/boot of %s: outside the bundle" % (spec, artifact))
    try:
        if kind == "zip" and site_zip:
            fullname = os.path.join(artifact, site_zip, rel)
            data = loader.get_data("%s/%s/%s" % (loader.archive, site_zip, rel))
        elif kind == "extract" and extracted:
            fullname = os.path.join(extracted, rel)
            with open(fullname, "rb") as f:
                data = f.read()
        else:
            _fail("bad pth entry %r in __pyzap__/boot of %s" % (spec, artifact))
    except OSError as e:
        _fail("cannot read %s listed in __pyzap__/boot: %s" % (spec, e))
    # `sitedir` keeps site.addpackage's name: setuptools' *-nspkg.pth lines
    # read it through sys._getframe(1).f_locals['sitedir'].
    sitedir = os.path.dirname(fullname)
    added = []
    for number, line in enumerate(data.decode("utf-8", "surrogateescape").splitlines(), 1):
        if line.startswith("#") or not line.strip():
            continue
        try:
            if line.startswith(("import ", "import\t")):
                exec(line, {})
                continue
            path = os.path.abspath(os.path.join(sitedir, line.rstrip()))
            # Paths inside the zip cannot be checked with os.path.exists.
            if path not in known and (kind == "zip" or os.path.exists(path)):
                known.add(path)
                sys.path.append(path)
                added.append(path)
        except Exception:
            import traceback
            sys.stderr.write("Error processing line %d of %s:\n\n" % (number, fullname))
            for record in traceback.format_exc().splitlines():
                sys.stderr.write("  %s\n" % record)
            sys.stderr.write("\nRemainder of file ignored\n")
            break
    return added


class _ZipSiteMetadata:
    """`importlib.metadata` for site dirs inside the artifact.

    The standard finder reads distributions from directories and from the
    root of a zip on sys.path, not from a directory inside one
    (`app.pyz/site-packages`), so a bundle running from its zip had no
    metadata: plugins found through entry points (flake8, pytest) were
    missing and `importlib.metadata.version()` failed. This finder serves
    the `*.dist-info` directories of those site dirs. It does nothing for
    imports, and costs nothing until metadata is asked for: the names come
    from the table of contents zipimport has already read.
    """

    def __init__(self, loader, artifact, sites):
        self._loader, self._artifact, self._sites = loader, artifact, sites
        self._dists = None

    def find_spec(self, *args, **kwargs):
        return None

    def invalidate_caches(self):
        pass

    def _dist_dirs(self):
        if self._dists is None:
            toc = _toc(self._loader) or {}
            dists = []
            for site in self._sites:
                prefix = site + "/"
                for name in toc:
                    name = name.replace(os.sep, "/")
                    rest = name[len(prefix):] if name.startswith(prefix) else ""
                    top, _, leaf = rest.partition("/")
                    if top.endswith(".dist-info") and leaf == "METADATA":
                        dists.append((site, top))
            self._dists = sorted(dists)
        return self._dists

    def find_distributions(self, context=None):
        import importlib.metadata as metadata
        import re
        import zipfile

        wanted = getattr(context, "name", None)
        path = getattr(context, "path", None)
        normal = (lambda n: re.sub(r"[-_.]+", "_", n).lower())
        for site, dist_dir in self._dist_dirs():
            if path is not None and os.path.join(self._artifact, site) not in path:
                continue
            if wanted is not None and normal(dist_dir.split("-")[0]) != normal(wanted):
                continue
            yield metadata.PathDistribution(
                zipfile.Path(self._artifact, at="%s/%s/" % (site, dist_dir)))


def _toc(loader):
    """zipimport's table of contents of the artifact: {name: entry}."""
    toc = getattr(loader, "_files", None)  # 3.8-3.12
    if toc is None and hasattr(loader, "_get_files"):  # 3.13
        toc = loader._get_files()
    return toc


def _new_main(**attrs):
    """A fresh `__main__` module, so the bootstrap's globals do not leak."""
    module = type(sys)("__main__")
    module.__dict__.update(attrs)
    sys.modules["__main__"] = module
    return module.__dict__


def _not_found(error, name):
    # True when the ModuleNotFoundError is about `name` (or a parent package
    # of it), not about something that the entry module imports.
    missing = getattr(error, "name", None) or ""
    return name == missing or name.startswith(missing + ".")


def _import_entry(name, artifact):
    try:
        __import__(name)
    except ModuleNotFoundError as e:
        if _not_found(e, name):
            _fail("entry point module %r not found in %s" % (name, artifact))
        raise
    return sys.modules[name]


def _run_module(name, artifact, set_argv0=False, what="entry point module"):
    """Run module `name` (a package: its __main__) as __main__, like -m.

    This is runpy.run_module(name, run_name="__main__", alter_sys=True)
    except that sys.argv[0] keeps naming the artifact (runpy would set it to
    the module's file inside the zip, which breaks re-executing the app and
    argparse's program name), and that the module stays __main__ until the
    interpreter exits, as with `python -m`.
    """
    import importlib.util  # already imported by runpy

    def find(module_name):
        try:
            return importlib.util.find_spec(module_name)
        except ModuleNotFoundError as e:
            if _not_found(e, module_name):
                return None
            raise
        except ValueError:  # in sys.modules without a spec (__main__)
            return None

    spec = find(name)
    if spec is not None and spec.submodule_search_locations is not None:
        spec = find(name + ".__main__")
        if spec is None:
            _fail("%r is a package without __main__ in %s; cannot run it" % (name, artifact))
    if spec is None or spec.loader is None:
        _fail("%s %r not found in %s" % (what, name, artifact))
    code = spec.loader.get_code(spec.name)
    if code is None:
        _fail("%s %r has no code" % (what, spec.name))
    if set_argv0:
        sys.argv[0] = spec.origin
    main = _new_main(__file__=spec.origin, __cached__=spec.cached,
                     __loader__=spec.loader, __package__=spec.parent, __spec__=spec)
    exec(code, main)


class _SourceLoader:
    """Gives linecache (tracebacks, pdb) the source of code not on disk."""

    def __init__(self, source):
        self.source = source

    def get_source(self, name):
        import importlib.util
        return importlib.util.decode_source(self.source)


def _run_source(source, filename, **attrs):
    code = compile(source, filename, "exec", dont_inherit=True)
    exec(code, _new_main(**attrs))


def _run_script(loader, artifact):
    import importlib.machinery  # already imported by runpy
    try:
        source = loader.get_data(loader.archive + "/__pyzap__/main.py")
    except OSError:
        _fail("%s has entry_kind=script but no __pyzap__/main.py" % artifact)
    filename = os.path.join(artifact, "__pyzap__", "main.py")
    script_loader = _SourceLoader(source)
    # __spec__.name is "__main__", as for `python dir/`: multiprocessing then
    # does not try to re-run the script in its children.
    spec = importlib.machinery.ModuleSpec("__main__", script_loader, origin=filename)
    _run_source(source, filename, __file__=filename, __loader__=script_loader,
                __spec__=spec, __package__="", __cached__=None)


def _interpreter(artifact, entry):
    """PYZAP_INTERPRETER=1: behave like `python` with the bundle on sys.path."""
    args = sys.argv[1:]
    # Like python, put the script's directory (or the current one) first,
    # unless safe_path (-P, PYTHONSAFEPATH) asks not to.
    prepend = not getattr(sys.flags, "safe_path", False)
    if args and args[0] == "-c":
        if len(args) < 2:
            _fail("argument expected for -c")
        sys.argv = ["-c"] + args[2:]
        if prepend:
            sys.path.insert(0, "")
        _run_source(args[1], "<string>")
    elif args and args[0] == "-m":
        if len(args) < 2:
            _fail("argument expected for -m")
        sys.argv = [args[1]] + args[2:]
        if prepend:
            sys.path.insert(0, os.getcwd())
        _run_module(args[1], artifact, set_argv0=True, what="module")
    elif args and args[0] != "-":
        if args[0].startswith("-"):
            _fail("unsupported option %s in interpreter mode (use -c, -m, a script or -)" % args[0])
        path = args[0]
        if not os.path.exists(path):
            _fail("can't open file %r: no such file or directory" % path)
        sys.argv = args
        if prepend and not os.path.isdir(path):  # run_path adds dirs and zips itself
            sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        import runpy
        runpy.run_path(path, run_name="__main__")
    elif args or (sys.stdin is not None and not sys.stdin.isatty()):
        sys.argv = args or [""]
        if prepend:
            sys.path.insert(0, "")
        _run_source(sys.stdin.read(), "<stdin>")
    else:
        import code
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
        banner = "Python %s on %s\npyzap bundle %s (entry point %s)" % (
            sys.version, sys.platform, artifact, entry)
        sys.argv = [""]
        if prepend:
            sys.path.insert(0, "")
        code.interact(banner=banner, local=_new_main(), exitmsg="")


def _main():
    loader = __loader__  # noqa: F821  (set by runpy: the artifact's zipimporter)
    archive = getattr(loader, "archive", None)
    if not archive:
        _fail("the pyzap bootstrap must run from a .pyz zip archive")
    # Absolute (the app may chdir) but not symlink-resolved: this is the
    # path the user ran, and what children should run again.
    artifact = os.path.abspath(archive)
    boot = _read_boot(loader, artifact)
    _check_requires_python(boot, artifact)

    override = os.environ.get("PYZAP_ENTRY_POINT")
    if override:
        module, _, function = override.partition(":")
        module, function = module.strip(), function.strip()
        kind = "function" if function else "module"
    else:
        kind = boot.get("entry_kind")
        module = boot.get("entry_module", "")
        function = boot.get("entry_function", "")
    if kind not in ("function", "module", "script") or (kind != "script" and not module) \
            or (kind == "function" and not function) or module == "__main__":
        _fail("bad entry point in %s: kind %r, module %r, function %r"
              % (artifact, kind, module, function))

    if boot.get("native") == "1" and not boot["target"]:
        _check_native(boot, artifact)

    ours = []
    extracted = None
    extract_hash = boot.get("extract_hash", "")
    extract_prefix = _EXTRACT_PREFIX
    target_site = None
    target_pth = ()
    digest = boot.get("extract_digest")
    if boot["target"]:
        fields = _pick_target(boot, artifact)
        name = fields[0]
        target_site = fields[4] if fields[4] != "-" else None
        extract_hash = fields[5] if fields[5] != "-" else ""
        extract_prefix = "__pyzap__/targets/%s/extract/" % name
        target_pth = [p.partition(" ")[2] for p in boot["target_pth"]
                      if p.partition(" ")[0] == name]
        digest = next((d.partition(" ")[2] for d in boot["target_digest"]
                       if d.partition(" ")[0] == name), None)
    if extract_hash:
        if not extract_hash.isalnum():
            _fail("bad extract_hash %r in __pyzap__/boot of %s" % (extract_hash, artifact))
        flat = _flat_tree(loader, extract_prefix)
        if flat is not None:
            # A tree repacked by hand (pyzap extract, edit, python -m
            # zipapp): named by its content, so an edit gets a tree of its
            # own and the original artifact's tree is never touched.
            digest = _tree_digest(flat)
            extract_hash = "flat" + digest[:32]
        elif not digest or len(digest) != 64 or not digest.isalnum():
            _fail("bad or missing tree digest in __pyzap__/boot of %s (the file is damaged)"
                  % artifact)
        extracted = _extracted_dir(artifact, extract_hash, extract_prefix,
                                   boot.get("no_compile") != "1", digest)
        ours.append(extracted)
    if target_site:
        ours.append(os.path.join(artifact, target_site))
    site_zip = boot.get("site_zip", "site-packages")
    if site_zip:
        ours.append(os.path.join(artifact, site_zip))
    if boot.get("src") == "1":
        ours.append(artifact)

    if archive != artifact:
        # zipimport caches an archive's table of contents by path; share the
        # one already read for sys.path[0] instead of reading it again.
        try:
            import zipimport  # loaded at start-up (it imported us)
            cache = zipimport._zip_directory_cache
            if archive in cache and artifact not in cache:
                cache[artifact] = cache[archive]
        except (ImportError, AttributeError):
            pass

    # Entries a parent pyzap process exported for its own bundle: they are
    # in the PYZAP_SITE we inherited, and would leak its packages into us.
    parent = set(os.environ.get("PYZAP_SITE", "").split(os.pathsep)) - set(ours)
    parent.discard("")
    kept, from_site = _interpreter_path(archive, artifact, parent)
    new_path = []
    for entry in ours + kept:
        if entry not in new_path:
            new_path.append(entry)
    sys.path[:] = new_path
    inherit = _flag("PYZAP_INHERIT_PATH")
    if not inherit:
        _forget_site_modules(from_site)
    known = set(new_path)
    for spec in boot["pth"]:
        ours.extend(_process_pth(loader, spec, artifact, site_zip, extracted, known))
    for spec in target_pth:
        ours.extend(_process_pth(loader, spec, artifact, target_site, extracted, known))
    if inherit:
        sys.path.extend(p for p in from_site if p not in known)
    zipped_sites = [s for s in (target_site, site_zip) if s]
    if zipped_sites:
        sys.meta_path.append(_ZipSiteMetadata(loader, artifact, zipped_sites))

    caller = os.environ.get("PYTHONPATH", "")
    exported = list(ours)
    for entry in caller.split(os.pathsep) if caller else ():
        if entry not in exported and entry not in parent:
            exported.append(entry)
    os.environ["PYZAP_ARTIFACT"] = artifact
    os.environ["PYZAP_SITE"] = os.pathsep.join(ours)
    os.environ["PYTHONPATH"] = os.pathsep.join(exported)

    entry = override or ("%s:%s" % (module, function) if kind == "function"
                         else module if kind == "module" else "__pyzap__/main.py")
    if _flag("PYZAP_INTERPRETER"):
        _interpreter(artifact, entry)
    elif kind == "function":
        target = _import_entry(module, artifact)
        owner = module
        for attr in function.split("."):
            try:
                target = getattr(target, attr)
            except AttributeError:
                _fail("entry point %s: %s has no attribute %r" % (entry, owner, attr))
            owner += "." + attr
        sys.exit(target())
    elif kind == "module":
        _run_module(module, artifact)
    else:
        _run_script(loader, artifact)


if __name__ == "__main__":
    _main()
