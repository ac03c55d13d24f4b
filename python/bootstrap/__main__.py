"""pyzap bootstrap: the ``__main__.py`` at the root of every pyzap artifact.

Python runs this file because the artifact (a zip) is ``sys.path[0]``. It

1. reads ``__pyzap__/boot`` (``key=value`` lines) through the zipimporter
   that loaded us;
2. refuses to run native bundles under the wrong interpreter ABI, or, in
   an artifact built for several targets, picks the one this interpreter
   is (cache tag, machine, libc);
3. makes sure the bundle's unpacked site, ``<cache root>/site/<key>/``,
   is complete (warm path: a ``stat`` of the root and an ``lstat`` of the
   marker; cold path: unzip into a private temporary directory, check it
   against the tree digest in ``boot`` and ``rename`` it into place, which
   is atomic and race-safe), and so is the bundle's virtual environment for
   this interpreter, ``<cache root>/venv/<name>/`` (warm path: one read of
   its marker);
4. makes this process the venv's: ``sys.executable``, ``sys.prefix``, the
   venv's ``bin/`` first on ``PATH``, the interpreter's site-packages
   replaced on ``sys.path`` by the venv's, whose ``.pth`` adds the bundle
   (the same in every child started with ``sys.executable``; nothing is
   exported in ``PYTHONPATH``, so other interpreters never see it);
5. runs the entry point (or, with ``PYZAP_INTERPRETER=1``, acts like
   ``python``; with ``PYZAP_TOOLS=1``, writes the venv at a chosen path).

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
    libc = boot.get("libc", "")
    kind, _, version = libc.partition(":")
    if kind in ("glibc", "musl"):
        have, have_version = _libc()
        try:
            wanted = tuple(int(p) for p in version.split("."))
        except ValueError:
            wanted = ()
        if kind == "glibc" and (have != "glibc" or have_version < wanted):
            _fail("%s holds native code that needs glibc %s or later; this system has %s"
                  % (artifact, version, "glibc %s" % ".".join(map(str, have_version))
                     if have == "glibc" else "another C library (not glibc)"))
        if kind == "musl" and have == "glibc":
            _fail("%s holds native code for musl libc; this system has glibc" % artifact)
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


def _noexec(path):
    # One statvfs: the cost of a stat, paid by native bundles only.
    try:
        return bool(os.statvfs(path).f_flag & getattr(os, "ST_NOEXEC", 8))
    except (OSError, AttributeError):
        return False


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


def _euid():
    """The effective uid; None where there is none (Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _refuse(refusal, message):
    """Refuse a cache root in one line, `message`. `refusal` is the stable id
    docs/artifact-format.md ("Runtime cache protocol") gives the case, which
    the shared test vectors (docs/cache-root-vectors.json) expect."""
    _fail(message)


def _write_hint(error):
    """What to do about an OSError writing the cache, by its errno
    ("Runtime cache protocol", step 10; the launcher says the same)."""
    import errno

    code = getattr(error, "errno", None)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return ("the disk is full or over quota: free some space or set PYZAP_ROOT to a "
                "directory on another disk")
    if code == errno.ENAMETOOLONG:
        return "a path is too long for the file system: set PYZAP_ROOT to a shorter directory"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return ("the directory is read-only or not writable by this user: set PYZAP_ROOT to a "
                "writable directory; under systemd, set CacheDirectory= in the unit")
    if code == errno.EFBIG:
        return "a file is larger than the file size limit (ulimit -f): raise the limit"
    return _HINT


def _passwd_home():
    """The home directory of the real uid's passwd entry, where
    os.path.expanduser looks when HOME is unset; "" without one."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, AttributeError, KeyError):
        return ""


def _cache_root():
    """The cache root ("Runtime cache protocol", step 1, in
    docs/artifact-format.md); a variable set to "" counts as unset."""
    environ = os.environ
    root = environ.get("PYZAP_ROOT")
    cache_directory = environ.get("CACHE_DIRECTORY", "").split(":")[0]
    try:
        if root:
            return os.path.abspath(root)
        if cache_directory:
            return os.path.join(os.path.abspath(cache_directory), "pyzap")
    except OSError as e:  # a relative path, and the current directory is gone
        _refuse("no-root", "cannot make the cache directory absolute: %s (%s)" % (e, _HINT))
    if _euid() == 0:
        # Not root's home: a server started as root that switches user
        # (gunicorn --user, Apache's workers) must still read the trees.
        return "/var/cache/pyzap"
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says: ignore relative values
        return os.path.join(xdg, "pyzap")
    home = environ.get("HOME") or _passwd_home()
    if not os.path.isabs(home):
        _refuse("no-root", "cannot find a cache directory (no home directory); %s; "
                "under systemd, set CacheDirectory= in the unit" % _HINT)
    # Deliberately no fallback to a shared temporary directory: another user
    # could plant code there before us.
    return os.path.join(home, ".cache", "pyzap")


def _dir_mode():
    """The mode of the cache's own directories: the root, its missing
    parents, site/ ("Runtime cache protocol", step 3). Private, except as
    root, whose trees every user must read: a server started as root that
    switches user imports from them."""
    return 0o755 if _euid() == 0 else 0o700


def _make_dirs(path, mode):
    """Create `path` and its missing parents, each with exactly `mode`: a
    chmod after the mkdir, whose mode passes through the umask (002 would
    leave group-writable directories, 077 a root cache other users cannot
    read). Existing directories are left as they are."""
    if os.path.isdir(path):
        return
    head = os.path.dirname(path)
    if head and head != path and not os.path.isdir(head):
        _make_dirs(head, mode)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        if os.path.isdir(path):
            return  # made meanwhile by another process
        raise
    os.chmod(path, mode)


def _create_file(path, mode):
    """A new file (never an existing one, never through a symlink) with
    exactly `mode` whatever the umask, open for writing bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        return open(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def _check_root(root):
    # The extracted code is imported from here, so the directory must be
    # ours and not writable by anybody else ("Runtime cache protocol", step 2).
    try:
        try:
            st = os.stat(root)
        except FileNotFoundError:
            _make_dirs(root, _dir_mode())
            st = os.stat(root)
    except OSError as e:
        _refuse("cannot-create", "cannot create the cache directory %s: %s (%s)"
                % (root, e, _write_hint(e)))
    if (st.st_mode & 0o170000) != 0o040000:
        _refuse("not-a-directory", "cache directory %s is not a directory (%s)" % (root, _HINT))
    euid = _euid()
    if euid is not None and st.st_uid != euid:
        _refuse("foreign-owner", "cache directory %s belongs to uid %d, not to you (uid %d); "
                "set PYZAP_ROOT to a directory of your own" % (root, st.st_uid, euid))
    if st.st_mode & 0o022:
        _refuse("writable-by-others", "cache directory %s is writable by group or others "
                "(mode %03o); chmod 700 it or set PYZAP_ROOT to a private directory"
                % (root, st.st_mode & 0o777))


def _is_marker(path):
    # By lstat, a regular file of the effective user. A symlink is not a
    # marker, whatever it points to.
    try:
        st = os.lstat(path)
    except OSError:
        return False
    euid = _euid()
    return (st.st_mode & 0o170000) == 0o100000 and (euid is None or st.st_uid == euid)


_boot = []  # [this boot's id, or None], read once


def _boot_id():
    """The id Linux gives this boot of the machine (None elsewhere): the
    page cache, where a tree written but not yet flushed lives, lasts as
    long as it ("Runtime cache protocol", step 6)."""
    if not _boot:
        value = None
        try:
            fd = os.open("/proc/sys/kernel/random/boot_id", os.O_RDONLY)
            try:
                value = os.read(fd, 64).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
        except OSError:
            pass
        if not value or len(value) > 40 or not all(c in "0123456789abcdef-" for c in value):
            value = None
        _boot.append(value)
    return _boot[0]


def _unflushed(marker):
    """The name `marker` has while its tree may not have reached the disk
    yet: `<marker>.<boot id>`; None where there is no boot id."""
    boot = _boot_id()
    return None if boot is None else "%s.%s" % (marker, boot)


def _marked(marker):
    """Whether `marker` makes its tree complete ("Runtime cache protocol",
    step 5): the marker itself (the tree is on disk), or its unflushed
    name for this boot (the tree is complete in this boot's page cache; a
    machine that restarted since may have lost part of it)."""
    if _is_marker(marker):
        return True
    unflushed = _unflushed(marker)
    return unflushed is not None and _is_marker(unflushed)


def _extracted_dir(artifact, extract_hash, prefix, compile_missing, digest, toc=None):
    root = _cache_root()
    _check_root(root)
    final = os.path.join(root, "site", extract_hash)
    if _marked(os.path.join(final, _MARKER)):
        return final  # the warm path
    _extract(artifact, root, final, prefix, compile_missing, digest, toc)
    return final


def _tree_digest(files):
    """The digest of a tree (docs/artifact-format.md, "Tree digest"):
    sha256 of "<name>\t<crc32 as 8 hex digits>\t<size>\n" per file, sorted."""
    try:  # the built-in module: hashlib would load OpenSSL (~2.5 ms) first
        from _sha2 import sha256  # 3.12+
    except ImportError:
        try:
            from _sha256 import sha256
        except ImportError:
            from hashlib import sha256

    h = sha256()
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
    """Delete `path`, best effort: a directory with everything in it; a
    symlink or a file is unlinked, never followed (shutil.rmtree refuses a
    symlink, and ignore_errors would hide that)."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


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


def _wait_for_exit(pid, timeout):
    """Return once process `pid` has exited, or after `timeout` seconds."""
    import time

    try:
        import select

        fd = os.pidfd_open(pid)  # Linux 5.3, Python 3.9: readable once it exits
        try:
            select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        return
    except (AttributeError, ImportError, OSError):
        pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except OSError:
            pass
        time.sleep(0.02)


def _flush_later():
    """Make the trees this process put in place with unflushed markers
    durable without making the app wait ("Runtime cache protocol", step 6):
    a detached grandchild, holding none of our open files (a caller reading
    the app's output must not wait for it), flushes the file system and
    then gives each marker its final name. Killed midway, it leaves the
    unflushed names, which this boot still trusts; after a restart such a
    tree is unpacked again."""
    trees = list(_unflushed_trees)
    del _unflushed_trees[:]
    if not trees or not hasattr(os, "fork"):
        return
    app = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return  # still trusted in this boot
    if pid:
        try:
            os.waitpid(pid, 0)  # the middle process exits at once
        except OSError:
            pass
        return
    try:
        os.setsid()  # out of the terminal's process group: ^C stops the app only
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for name in os.listdir("/proc/self/fd"):
            if name.isdigit() and int(name) > 2:
                try:
                    os.close(int(name))
                except OSError:
                    pass  # the listing's own descriptor
        # Writing the trees back takes disk and CPU time the app's own
        # start needs: begin once the app has exited, or after 5 s if it
        # is a long-running one (protocol step 6.6).
        _wait_for_exit(app, 5.0)
        _sync_filesystem(trees[0][0])
        for final, marker_name in trees:
            unflushed = _unflushed(marker_name)
            src = os.path.join(final, unflushed)
            if _is_marker(src):
                os.rename(src, os.path.join(final, marker_name))
                _fsync_dir(final)
    except BaseException:
        pass
    os._exit(0)


# Trees this process put in place with an unflushed marker: (tree, marker
# name); _flush_later makes them durable.
_unflushed_trees = []


def _create_once(root, kind, final, marker_name, marker_data, fill, mode):
    """Protocol step 6, the one create-once-then-rename of the bootstrap:
    `fill(tmp)` fills a fresh private directory under `<root>/tmp/`, which
    then gets `mode` and its marker last, and is renamed to `final` (in
    `<root>/<kind>/`). The loser of a race uses the winner's; a directory
    without marker in the way (a crash, a copy made by hand) is moved aside
    first. OSError goes to the caller.

    Flushing a tree to disk takes longer than unpacking it (black: 100 ms
    for 12 MB), so where Linux gives a boot id the marker is written under
    its unflushed name, trusted until the machine restarts, and
    _flush_later renames it once the data is on disk, after the app has
    started; elsewhere the tree is flushed before its marker."""
    import time

    tmp_root = os.path.join(root, "tmp")
    tmp = None
    try:
        _make_dirs(os.path.join(root, kind), _dir_mode())
        _make_dirs(tmp_root, 0o700)
        _sweep(tmp_root, time.time())
        # Unique per process and attempt; mkdir fails rather than reuse.
        tmp = os.path.join(tmp_root, "%s.%d.%s" % (
            os.path.basename(final)[:16], os.getpid(), os.urandom(6).hex()))
        os.mkdir(tmp, 0o700)
        fill(tmp)
        os.chmod(tmp, mode)  # private while it was being filled
        # The marker is written last: a directory without it is never used.
        # Durable before trusted: with an unflushed marker the tree is
        # trusted in this boot only; otherwise the files reach the disk,
        # then the marker, then the rename, so a power cut never leaves a
        # marked but partial tree.
        unflushed = _unflushed(marker_name)
        if unflushed is None:
            _sync_filesystem(tmp)
        with _create_file(os.path.join(tmp, unflushed or marker_name), 0o644) as f:
            f.write(marker_data)
            if unflushed is None:
                f.flush()
                os.fsync(f.fileno())
        marker = os.path.join(final, marker_name)
        for _ in range(20):
            try:
                os.rename(tmp, final)  # atomic; fails when `final` is not empty
                tmp = None
                if unflushed is None:
                    _fsync_dir(os.path.dirname(final))
                else:
                    _unflushed_trees.append((final, marker_name))
                return
            except OSError:
                if _marked(marker):
                    return  # another process won the race: use theirs
                if not os.path.lexists(final):
                    raise
            _move_aside(final, marker, tmp_root)
        _fail("cannot put %s in place: it keeps reappearing (%s)" % (final, _HINT))
    finally:
        if tmp is not None:
            _rmtree(tmp)


def _extract(artifact, root, final, prefix, compile_missing=True, digest=None, toc=None):
    """Cold path: unzip `prefix` (__pyzap__/extract/), check what was
    unpacked against `digest`, and put it in place as `final`. `toc` is
    zipimport's table of contents of the artifact, which locates the nested
    archive the writer makes without zipfile (see _nested_members)."""
    import zlib

    def fill(tmp):
        files = _unpack_nested(artifact, prefix, tmp, toc)
        if files is None:
            import zipfile

            with zipfile.ZipFile(artifact) as outer:
                zf, inner_prefix, window = _open_tree(outer, artifact, prefix)
                try:
                    files = _unpack(zf, inner_prefix, prefix, artifact, tmp, _raw_source(
                        zf, outer, window, artifact))
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
        if compile_missing:
            _compile_missing(tmp, final, set(files))

    try:
        _create_once(root, "site", final, _MARKER,
                     ("%s\n" % artifact).encode("utf-8", "surrogateescape"), fill, 0o755)
    except OSError as e:
        _fail("cannot extract the bundle into %s: %s (%s)" % (root, e, _write_hint(e)))
    except (zlib.error, EOFError, NotImplementedError, ValueError) as e:
        # Damaged compressed data fails in zlib or ends early (EOFError); a
        # damaged header can name a compression method zipfile lacks.
        _fail("cannot read %s (the file is damaged): %s" % (artifact, e))
    except Exception as e:
        zipfile = sys.modules.get("zipfile")
        if zipfile is None or not isinstance(e, zipfile.BadZipFile):
            raise
        _fail("cannot read %s (the file is damaged): %s" % (artifact, e))


def _unpack(zf, prefix, tree, artifact, tmp, raw=None):
    """Write the files of `zf` under `prefix` into the directory `tmp`
    (`tree` is where they are in the artifact, for messages; `raw`, where
    its members can be read directly: see _raw_source); return
    {path relative to `tmp`: (crc, size)} of the files written."""
    names = {}
    jobs = []
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
            _make_dirs(target, 0o755)
            made.add(target)
            continue
        parent = os.path.dirname(target)
        if parent not in made:
            _make_dirs(parent, 0o755)
            made.add(parent)
        key = "/".join(parts)
        if key in names:
            _fail("%s is damaged: %s is listed twice" % (artifact, tree + key))
        # Keep the executable bits of the unix mode in external_attr
        # (scripts, helper binaries shipped as package data).
        mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
        jobs.append((target, mode, info))
        names[key] = (info.CRC, info.file_size)
    _write_members(zf, jobs, raw)
    return names


class _Member:
    """What _unpack and _copy_member read of a member of an archive (the
    attribute names of zipfile.ZipInfo)."""

    __slots__ = ("filename", "flag_bits", "compress_type", "CRC", "compress_size",
                 "file_size", "external_attr", "header_offset")


class _Members:
    """A list of _Member in the place of a zipfile.ZipFile, for _unpack."""

    def __init__(self, members):
        self._members = members

    def infolist(self):
        return self._members


def _u16(data, at):
    return int.from_bytes(data[at:at + 2], "little")


def _u32(data, at):
    return int.from_bytes(data[at:at + 4], "little")


def _nested_members(read, size):
    """The members of the archive of `size` bytes read with read(offset,
    length), from its central directory, for archives as pyzap writes them
    (no zip64, one disk, stored or deflated, not encrypted); None for any
    other, which zipfile then reads. Importing zipfile would cost a first
    run 3-10 ms (re, shutil, bz2, lzma, pathlib, threading)."""
    tail_size = min(size, 22 + 0xFFFF)
    tail = read(size - tail_size, tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or len(tail) - end < 22:
        return None
    count, cd_size, cd_offset = _u16(tail, end + 10), _u32(tail, end + 12), _u32(tail, end + 16)
    if (_u16(tail, end + 4) or _u16(tail, end + 6) or count != _u16(tail, end + 8)
            or 0xFFFF == count or 0xFFFFFFFF in (cd_size, cd_offset)
            or cd_offset + cd_size > size - tail_size + end):
        return None
    data = read(cd_offset, cd_size)
    members = []
    at = 0
    for _ in range(count):
        if data[at:at + 4] != b"PK\x01\x02" or at + 46 > len(data):
            return None
        m = _Member()
        m.flag_bits, m.compress_type = _u16(data, at + 8), _u16(data, at + 10)
        m.CRC, m.compress_size, m.file_size = (
            _u32(data, at + 16), _u32(data, at + 20), _u32(data, at + 24))
        name_len, extra_len, comment_len = (
            _u16(data, at + 28), _u16(data, at + 30), _u16(data, at + 32))
        m.external_attr, m.header_offset = _u32(data, at + 38), _u32(data, at + 42)
        name = data[at + 46:at + 46 + name_len]
        if (len(name) != name_len or m.flag_bits & 1 or m.compress_type not in (0, 8)
                or 0xFFFFFFFF in (m.compress_size, m.file_size, m.header_offset)):
            return None
        # As zipfile decodes names: UTF-8 when flag bit 11 says so, else cp437.
        m.filename = name.decode("utf-8" if m.flag_bits & 0x800 else "cp437")
        members.append(m)
        at += 46 + name_len + extra_len + comment_len
    return members


def _unpack_nested(artifact, prefix, tmp, toc):
    """_unpack of the tree under `prefix` from the nested, stored
    `<prefix>.zip` the writer makes, located through zipimport's table of
    contents `toc` and read with pread; None when the artifact is not laid
    out that way (repacked by hand), for the zipfile path to do it."""
    if not toc:
        return None
    entry = toc.get((prefix.rstrip("/") + ".zip").replace("/", os.sep))
    # (path, compress, data_size, file_size, offset, time, date, crc)
    if entry is None or entry[1] != 0:
        return None
    fd = os.open(artifact, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        at_file = lambda at, n: os.pread(fd, n, at)  # noqa: E731
        outer = _Member()
        outer.filename, outer.header_offset = entry[0], entry[4]
        base, size = _data_offset(at_file, outer), entry[3]
        read = lambda at, n: os.pread(fd, n, base + at)  # noqa: E731
        members = _nested_members(read, size)
        if members is None:
            return None
        return _unpack(_Members(members), "", prefix, artifact, tmp, read)
    finally:
        os.close(fd)


def _raw_source(zf, outer, window, artifact):
    """A function read(offset, length) over the archive `zf`, for
    _copy_member: pread on the artifact's descriptor (no shared file
    position, so threads need no lock, where zipfile serialises every read
    of the archive); None when `zf` is held in memory (a nested archive
    recompressed by hand)."""
    if window is not None:
        fd, base = window.fileno(), window.start
    elif zf is outer:
        fd, base = outer.fp.fileno(), 0  # zipfile's offsets already count any prefix
    else:
        return None
    return lambda at, n: os.pread(fd, n, base + at)


# Members are read, inflated and written in pieces of this size: buffers
# that small are reused from the heap, where whole-file buffers would each
# be fresh memory to fault in (11 MB for black).
_CHUNK = 256 << 10


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _data_offset(read, info):
    """Where the data of member `info` starts, from its local header (read
    with read(offset, length)): the header's own name and extra field
    lengths, which may differ from the central directory's."""
    header = read(info.header_offset, 30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ValueError("bad local header for %s" % info.filename)
    return info.header_offset + 30 + _u16(header, 26) + _u16(header, 28)


def _copy_member(read, info, fd):
    """Write the content of member `info` (stored or deflated), read with
    `read` (see _raw_source), to `fd`, checking its size and CRC as zipfile
    would. Inflating and the CRC run without the GIL."""
    import zlib

    pos = _data_offset(read, info)
    left = info.compress_size
    inflate = zlib.decompressobj(-15) if info.compress_type == 8 else None
    crc = size = 0
    pending = b""
    while True:
        if not pending:
            if not left:
                break
            pending = read(pos, min(left, _CHUNK))
            if not pending:
                raise EOFError("%s is cut short" % info.filename)
            pos += len(pending)
            left -= len(pending)
        if inflate is None:
            out, pending = pending, b""
        else:
            out = inflate.decompress(pending, _CHUNK)
            pending = inflate.unconsumed_tail
        crc = zlib.crc32(out, crc)
        size += len(out)
        _write_all(fd, out)
    if inflate is not None:
        out = inflate.flush()
        crc = zlib.crc32(out, crc)
        size += len(out)
        _write_all(fd, out)
        if not inflate.eof:
            raise EOFError("%s: compressed data cut short" % info.filename)
    if size != info.file_size or crc != info.CRC:
        raise ValueError("bad CRC-32 or size for %s" % info.filename)


def _write_members(zf, jobs, raw=None):
    """Write each (path, mode, member of zf). A first run spends most of its
    time here (black: 350 files, 11 MB inflated), so several threads share
    the work: reading with pread, inflating, CRC and the file system calls
    all release the GIL. The largest members go first, so the last thread
    to finish is not the one that drew the largest shared object. Members
    that `raw` cannot serve (stored in memory, encrypted, compressed with
    another method) go through zipfile, which says what is wrong with them.
    The first error is raised here."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    umask = os.umask(0o022)
    os.umask(umask)

    def write(job):
        # A bare fd, not _create_file's file object: hundreds of files on a
        # first run, and each file object costs more than the write.
        target, mode, info = job
        fd = os.open(target, flags | getattr(os, "O_BINARY", 0), mode)
        try:
            if mode & umask and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)  # exactly `mode`, whatever the umask
            if raw is not None and info.compress_type in (0, 8) and not info.flag_bits & 1:
                _copy_member(raw, info, fd)
                return
            with zf.open(info) as src:
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    _write_all(fd, chunk)
        finally:
            os.close(fd)

    jobs = sorted(jobs, key=lambda job: -job[2].compress_size)
    workers = min(4, os.cpu_count() or 1, len(jobs) // 32)
    # Nothing here makes reference cycles, and the collector would walk
    # the interpreter's objects again and again for the buffers allocated.
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        _run_jobs(write, jobs, workers)
    finally:
        if collecting:
            gc.enable()


def _run_jobs(write, jobs, workers):
    """`write(job)` for each of `jobs`, on `workers` threads (here when
    fewer than 2); the first error is raised here."""
    if workers < 2:
        for job in jobs:
            write(job)
        return
    import threading

    lock = threading.Lock()
    todo = iter(jobs)
    errors = []

    def run():
        while True:
            with lock:
                job = next(todo, None) if not errors else None
            if job is None:
                return
            try:
                write(job)
            except BaseException as e:  # re-raised in the calling thread
                with lock:
                    errors.append(e)
                return

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


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
        cfile = os.path.join(tmp, *pyc.split("/"))
        try:
            # py_compile would leave __pycache__ and the pyc to the umask.
            _make_dirs(os.path.dirname(cfile), 0o755)
            py_compile.compile(
                os.path.join(tmp, *rel.split("/")), cfile=cfile,
                dfile=os.path.join(final, *rel.split("/")), doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            os.chmod(cfile, 0o644)
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

    def fileno(self):
        return self._f.fileno()

    @property
    def start(self):
        return self._start


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
        start = _data_offset(lambda at, n: os.pread(f.fileno(), n, at), info)
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
        if _marked(marker) or not os.path.lexists(final):
            return  # finished or moved by somebody else meanwhile
        try:
            os.rmdir(final)
            return
        except OSError:
            if _marked(marker):
                return  # an empty dir was just replaced by a complete one
        aside = os.path.join(tmp_root, "stale.%d.%s" % (os.getpid(), os.urandom(6).hex()))
        os.rename(final, aside)
    finally:
        os.close(fd)
    _rmtree(aside)


def _sweep(tmp_root, now):
    # Leftovers of killed runs: an entry of tmp/ untouched for a day is not
    # in use ("Runtime cache protocol", step 9).
    old = []
    try:
        with os.scandir(tmp_root) as entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < now - 86400:
                        old.append(entry.path)
                except OSError:
                    pass  # gone meanwhile
    except OSError:
        return
    for path in old:
        _rmtree(path)


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


_VENV_MARKER = ".pyzap-venv"
# Bumped whenever what _make_venv writes changes, so old venvs are not reused.
_VENV_LAYOUT = "1"
_PTH_NAME = "_pyzap_bundle.pth"
_SCRIPTS_DIR = ".pyzap-bin"


def _base_interpreter():
    """The interpreter binary a bundle venv's bin/python links to: the real
    file behind sys.executable (a venv's python is a symlink to it); None
    when Python runs embedded, without an executable of its own."""
    exe = sys.executable
    if not exe or not os.path.isabs(exe):
        return None
    return os.path.realpath(exe)


def _venv_recipe(base, sites, in_artifact):
    """What a bundle's venv is made of, as the text its marker holds: the
    interpreter its `bin/python` runs, the unpacked sites and the paths
    into the artifact (zipped sites, the `--src` root) its .pth adds."""
    lines = ["pyzap-venv %s" % _VENV_LAYOUT, "executable=%s" % base]
    lines.extend("site=%s" % s for s in sites)
    lines.extend("artifact-path=%s" % p for p in in_artifact)
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def _venv_dir(root, base, sites, in_artifact):
    """`<root>/venv/<name>/`: a virtual environment of the bundle for the
    interpreter `base` (docs/artifact-format.md, "Virtual environment").

    Warm path: one read of the marker, which holds the recipe the name was
    derived from (a name is a 64-bit checksum of it, zlib being loaded
    already by zipimport, where hashlib would cost a millisecond; the read
    makes the match exact)."""
    import zlib

    recipe = _venv_recipe(base, sites, in_artifact)
    final = os.path.join(root, "venv", "%08x%08x" % (zlib.crc32(recipe), zlib.adler32(recipe)))
    marker = os.path.join(final, _VENV_MARKER)
    found = None
    # The marker, else its unflushed name of this boot (protocol step 6).
    for path in (marker, _unflushed(marker)):
        if path is None:
            continue
        try:
            # Not through a symlink (protocol step 5): a link is not a marker.
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            try:
                found = os.read(fd, 1 << 16)
            finally:
                os.close(fd)
            break
        except OSError:
            pass
    if found == recipe:
        return final  # the warm path
    if found is not None:
        _fail("%s holds another bundle's environment (a checksum collision, or an edit); "
              "delete that directory" % final)
    _make_venv(root, final, base, sites, in_artifact, recipe)
    return final


def _script_shebang(python):
    # Linux reads at most 127 bytes of a #! line (before 5.1) and splits it
    # at spaces: longer or spaced paths go through sh, as pip does.
    if len(python) < 120 and " " not in python and "\t" not in python:
        return "#!%s\n" % python
    quoted = "'" + python.replace("'", "'\"'\"'") + "'"
    return "#!/bin/sh\n'''exec' %s \"$0\" \"$@\"\n' '''\n" % quoted


def _console_scripts(site):
    """[(name, module, function)] of the console and GUI scripts that the
    distributions in `site` declare (their entry_points.txt). Parsed by hand:
    configparser would import `re` on the first run for a format this small.
    Names that are not one plain file name, and entry points that are not
    dotted identifiers, are skipped: they could not be console scripts."""
    scripts = []
    try:
        entries = sorted(e for e in os.listdir(site) if e.endswith(".dist-info"))
    except OSError:
        return scripts
    for dist_info in entries:
        try:
            with open(os.path.join(site, dist_info, "entry_points.txt"), "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        section = None
        for line in text.split("\n"):
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1].strip()
                continue
            if section not in ("console_scripts", "gui_scripts"):
                continue
            name, sep, value = line.partition("=")
            name, value = name.strip(), value.split("[")[0].strip()
            module, _, function = value.partition(":")
            module, function = module.strip(), function.strip()
            dotted = (lambda s: bool(s) and all(p.isidentifier() for p in s.split(".")))
            if (not sep or not name or name.startswith(".") or "/" in name or "\0" in name
                    or not dotted(module) or not dotted(function)):
                continue
            scripts.append((name, module, function))
    return scripts


def _venv_skeleton(tmp, base):
    """pyvenv.cfg, bin/python* and an empty site-packages in `tmp`, for the
    interpreter `base`; returns the site-packages path."""
    lib = _venv_lib()
    bindir = os.path.join(tmp, "bin")
    site_packages = os.path.join(tmp, "lib", lib, "site-packages")
    _make_dirs(bindir, 0o755)
    _make_dirs(site_packages, 0o755)
    with _create_file(os.path.join(tmp, "pyvenv.cfg"), 0o644) as f:
        f.write(("home = %s\ninclude-system-site-packages = false\nversion = %d.%d.%d\n"
                 "executable = %s\n" % ((os.path.dirname(base),) + tuple(sys.version_info[:3])
                                        + (base,))).encode("utf-8", "surrogateescape"))
    for name in ("python", "python%d" % sys.version_info[0], lib):
        os.symlink(base, os.path.join(bindir, name))
    return site_packages


def _write_scripts(bindir, sites, python):
    """The bundle's scripts into `bindir`, as an installer puts them in a
    venv's bin/: a console script for every entry point the distributions
    in `sites` declare, running `python`; and the files wheels ship in
    `.data/scripts/` (the site's `.pyzap-bin/`): those starting `#!python`
    rewritten to run `python`, the others (programs) as links. The first
    distribution (in name order) keeps a name two declare, so the result
    does not depend on install order."""
    for site in sites:
        for name, module, function in _console_scripts(site):
            path = os.path.join(bindir, name)
            if os.path.lexists(path):
                continue
            with _create_file(path, 0o755) as f:
                f.write(("%s# -*- coding: utf-8 -*-\nimport sys\nfrom %s import %s\n"
                         "if __name__ == \"__main__\":\n    sys.exit(%s())\n"
                         % (_script_shebang(python), module, function.split(".")[0], function)
                         ).encode("utf-8", "surrogateescape"))
    for site in sites:
        scripts = os.path.join(site, _SCRIPTS_DIR)
        try:
            names = sorted(os.listdir(scripts))
        except OSError:
            continue
        for name in names:
            path = os.path.join(bindir, name)
            if os.path.lexists(path):
                continue
            source = os.path.join(scripts, name)
            with open(source, "rb") as f:
                first = f.readline()
                if first.rstrip() in (b"#!python", b"#!pythonw"):
                    with _create_file(path, 0o755) as out:
                        out.write(_script_shebang(python).encode("utf-8", "surrogateescape"))
                        out.write(f.read())
                    continue
            os.symlink(source, path)


def _make_venv(root, final, base, sites, in_artifact, recipe):
    """Cold path: write the bundle's venv and put it in place (as a tree:
    `_create_once`), readable by every user when root made it, for servers
    that switch user."""
    def fill(tmp):
        site_packages = _venv_skeleton(tmp, base)
        # site.py processes this in every interpreter started from bin/
        # (and the bootstrap, through site.addsitedir, in its own process):
        # each unpacked site is added like a site dir, its own .pth files
        # processed, then the paths into the artifact (site.py would drop
        # them as path lines: they are not directories).
        lines = ["import site; site.addsitedir(%r)\n" % s for s in sites]
        for path in in_artifact:
            lines.append("import sys; %r in sys.path or sys.path.append(%r)\n" % (path, path))
        with _create_file(os.path.join(site_packages, _PTH_NAME), 0o644) as f:
            f.write("".join(lines).encode("utf-8", "surrogateescape"))
        _write_scripts(os.path.join(tmp, "bin"), sites, os.path.join(final, "bin", "python"))

    try:
        _create_once(root, "venv", final, _VENV_MARKER, recipe, fill, _dir_mode())
    except OSError as e:
        _fail("cannot create the bundle's environment in %s: %s (%s)" % (root, e, _write_hint(e)))


def _venv_lib():
    # lib/<this>/site-packages, as venv and site.py name it (3.13t: python3.13t).
    return "python%d.%d%s" % (sys.version_info[0], sys.version_info[1],
                              "t" if "t" in getattr(sys, "abiflags", "") else "")


def _enter_venv(venv, sites, in_artifact):
    """Make this process look like it runs from the venv: sys.executable
    (what children, multiprocessing and re-exec use) and sys.prefix are the
    venv's, and its site-packages is processed as site.py would (which adds
    the bundle). The caller puts its bin/ first on PATH, as an activated
    venv does. VIRTUAL_ENV is not set: tools such as poetry and uv read it
    as "the project's environment" and would install into, or run from,
    the bundle's."""
    sys.executable = os.path.join(venv, "bin", "python")
    sys.prefix = sys.exec_prefix = venv
    config = sys.modules.get("sysconfig")
    if config is not None:  # imported by an interpreter .pth: forget its paths
        for attr, value in (("_CONFIG_VARS", None), ("_CONFIG_VARS_INITIALIZED", False)):
            if hasattr(config, attr):
                setattr(config, attr, value)
    import site  # imported at start-up, unless python -S

    # What site.py does with the venv's site-packages in a child, done
    # directly: add it, then what its _pyzap_bundle.pth adds (each site as
    # a site dir, its own .pth files processed; then the paths into the
    # artifact), without listing it, reading the .pth and executing its
    # lines, and with one set of known paths instead of a stat of every
    # sys.path entry per site (a warm start is 0.1 ms shorter).
    known = set(sys.path)
    site_packages = os.path.join(venv, "lib", _venv_lib(), "site-packages")
    if site_packages not in known:
        sys.path.append(site_packages)
        known.add(site_packages)
    for path in sites:
        site.addsitedir(path, known)
    for path in in_artifact:
        if path not in sys.path:
            sys.path.append(path)


def _zipped_pth(loader, boot, artifact):
    """The .pth files of a zipped site, which site.py cannot read: processed
    in the bootstrap's process only. (The extracted site's are processed by
    site.addsitedir, here and in the venv's children; boot lists them too,
    and they are checked.)"""
    known = set(sys.path)
    for spec in boot["pth"]:
        if spec.startswith("zip:"):
            _process_pth(loader, spec, artifact, boot.get("site_zip"), None, known)
        else:
            _check_pth_spec(spec, artifact)


_TOOLS_USAGE = """usage: PYZAP_TOOLS=1 %s venv DEST

venv DEST   write the bundle's environment as a virtual environment at DEST
            (a symlink to a sibling directory named by content), for programs
            that embed Python (mod_wsgi python-home, uwsgi home) and deploy
            scripts: the same content keeps the same directory; other
            content is written beside it and DEST is switched atomically."""


def _tools(artifact, boot, sites, base):
    """PYZAP_TOOLS=1: commands about the bundle instead of running it."""
    args = sys.argv[1:]
    if len(args) != 2 or args[0] != "venv" or not args[1]:
        sys.stderr.write(_TOOLS_USAGE % sys.argv[0] + "\n")
        raise SystemExit(2)
    if base is None:
        _fail("cannot write a venv: this Python has no executable of its own (sys.executable)")
    print(_stable_venv(artifact, boot, sites, base, os.path.abspath(args[1])))


def _stable_venv(artifact, boot, sites, base, dest):
    """Write `.<name>-<content id>/` beside `dest`, a complete venv with the
    bundle copied into its site-packages (independent of the cache), and
    point the symlink `dest` at it (renamed over, so readers see the old or
    the new one, never a mix). Scripts name `dest`, so they survive a switch."""
    import hashlib
    import shutil
    import zipfile

    parent, name = os.path.split(dest)
    if os.path.lexists(dest) and not os.path.islink(dest):
        _fail("%s exists and is not a link written by PYZAP_TOOLS=1 ... venv; "
              "remove it or choose another path" % dest)
    with zipfile.ZipFile(artifact) as zf:
        site_zip = boot.get("site_zip") or ""
        copied = {}
        for info in zf.infolist():
            n = info.filename
            if n.endswith("/") or n.startswith(("__pyzap__/", "__main__.")):
                continue
            if site_zip and n.startswith(site_zip + "/"):
                copied[n[len(site_zip) + 1:]] = info
            elif boot.get("src") == "1" and not n.startswith("site-packages/"):
                copied[n] = info
        digest = _tree_digest({n: (i.CRC, i.file_size) for n, i in copied.items()})
        content = hashlib.sha256(("%s\n%s\n%s\n%s\n" % (
            _VENV_LAYOUT, base, " ".join(os.path.basename(s) for s in sites), digest)).encode(
                "utf-8", "surrogateescape")).hexdigest()[:16]
        target = os.path.join(parent, ".%s-%s" % (name, content))
        if os.path.exists(os.path.join(target, _VENV_MARKER)):
            _point(dest, target)
            return dest
        tmp = os.path.join(parent, ".%s-tmp.%d.%s" % (name, os.getpid(), os.urandom(6).hex()))
        try:
            site_packages = os.path.join(tmp, "lib", _venv_lib(), "site-packages")
            _venv_skeleton(tmp, base)
            for site in sites:  # the target's own tree first: its files win
                for dirpath, dirnames, filenames in os.walk(site):
                    rel = os.path.relpath(dirpath, site)
                    into = os.path.normpath(os.path.join(site_packages, rel))
                    _make_dirs(into, 0o755)
                    for f in filenames:
                        dst = os.path.join(into, f)
                        # The marker is the cache's, under either name (the
                        # background flush may be renaming it meanwhile).
                        if (dirpath == site and (f == _MARKER or f.startswith(_MARKER + "."))) \
                                or os.path.lexists(dst):
                            continue
                        src = os.path.join(dirpath, f)
                        with open(src, "rb") as s_in, _create_file(
                                dst, 0o755 if os.stat(src).st_mode & 0o111 else 0o644) as s_out:
                            shutil.copyfileobj(s_in, s_out)
            for rel, info in sorted(copied.items()):
                path = os.path.join(site_packages, *rel.split("/"))
                _make_dirs(os.path.dirname(path), 0o755)
                mode = 0o755 if (info.external_attr >> 16) & 0o111 else 0o644
                with zf.open(info) as src, _create_file(path, mode) as dst:
                    shutil.copyfileobj(src, dst)
            _write_scripts(os.path.join(tmp, "bin"), [site_packages],
                           os.path.join(dest, "bin", "python"))
            with _create_file(os.path.join(tmp, _VENV_MARKER), 0o644) as f:
                f.write(("pyzap-venv %s\nartifact=%s\n" % (_VENV_LAYOUT, artifact)).encode(
                    "utf-8", "surrogateescape"))
            # Readable by the users a server switches to, whatever the umask.
            os.chmod(tmp, 0o755)
            _sync_filesystem(tmp)
            try:
                os.rename(tmp, target)
                tmp = None
            except OSError:
                if not os.path.exists(os.path.join(target, _VENV_MARKER)):
                    raise
        except OSError as e:
            _fail("cannot write the venv %s: %s (%s)" % (dest, e, _write_hint(e)))
        finally:
            if tmp is not None:
                _rmtree(tmp)
    _point(dest, target)
    return dest


def _point(dest, target):
    """Make the symlink `dest` name `target` (relative: the pair can move),
    atomically; then remove older siblings except the one just replaced,
    which running processes may still use."""
    parent, name = os.path.split(dest)
    previous = os.path.realpath(dest) if os.path.islink(dest) else None
    link = os.path.join(parent, ".%s-link.%d" % (name, os.getpid()))
    try:
        if previous != os.path.realpath(target):
            os.symlink(os.path.basename(target), link)
            os.rename(link, dest)
            _fsync_dir(parent)
    except OSError as e:
        _fail("cannot point %s at %s: %s" % (dest, target, e))
    prefix = ".%s-" % name
    for entry in os.listdir(parent):
        path = os.path.join(parent, entry)
        if (entry.startswith(prefix) and os.path.exists(os.path.join(path, _VENV_MARKER))
                and path not in (os.path.realpath(target), previous)):
            _rmtree(path)


def _setup_without_venv(loader, boot, artifact, sites, in_artifact, target_site, target_pth):
    """sys.path for a bundle without a venv (Python embedded without an
    executable of its own, or nothing unpacked): the bundle's site dirs
    after the interpreter's kept entries, then its .pth files. With
    several targets, `sites` is the target's own tree, then the shared one,
    and `target_pth` lists the own tree's .pth files."""
    known = set(sys.path)
    for entry in sites + in_artifact:
        if entry not in known:
            known.add(entry)
            sys.path.append(entry)
    site_zip = boot.get("site_zip")
    shared = sites[-1] if sites else None
    for spec in boot["pth"]:
        _process_pth(loader, spec, artifact, site_zip, shared, known)
    for spec in target_pth:
        _process_pth(loader, spec, artifact, target_site, sites[0] if sites else None, known)


def _check_pth_spec(spec, artifact):
    kind, _, rel = spec.partition(":")
    if rel.startswith("/") or ".." in rel.split("/"):
        # A .pth file's lines run as code: only the bundle's own files.
        _fail("bad pth entry %r in __pyzap__/boot of %s: outside the bundle" % (spec, artifact))
    return kind, rel


def _process_pth(loader, spec, artifact, site_zip, extracted, known):
    """Process one bundle .pth file like site.addpackage(); return new paths.

    `spec` is zip:<path relative to the zipped site dir> or
    extract:<path relative to the extracted site dir>.
    """
    kind, rel = _check_pth_spec(spec, artifact)
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


def _run_data_script(name, sites, venv, artifact):
    """entry_kind=data_script: a script a wheel ships in .data/scripts/
    (awscli's `aws`), or a program (a binary). A Python script (`#!python`,
    which installers rewrite) runs in this process, as its venv copy would;
    anything else is exec'd, its own first line deciding how."""
    for site in sites:
        path = os.path.join(site, _SCRIPTS_DIR, name)
        try:
            with open(path, "rb") as f:
                first = f.readline()
                source = f.read() if first.rstrip() in (b"#!python", b"#!pythonw") else None
            break
        except OSError:
            continue
    else:
        _fail("script %r not found in %s" % (name, artifact))
    shown = os.path.join(venv, "bin", name) if venv else path
    if source is None:
        try:
            os.execv(shown if venv else path, [shown] + sys.argv[1:])
        except OSError as e:
            _fail("cannot run %s from %s: %s" % (name, artifact, e))
    # The first line stays a (comment) line: tracebacks keep line numbers.
    _run_source(b"#\n" + source, shown, __file__=shown, __spec__=None, __loader__=None,
                __package__=None, __cached__=None)


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
    if sys.version_info < (3, 8):
        # This file stays parseable by Python 2.7, so that it gets here.
        _fail("%s needs Python 3.8 or later; %s is Python %s"
              % (artifact, sys.executable or "this interpreter", sys.version.split()[0]))
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
    script_name = boot.get("entry_name", "")
    if kind == "data_script":
        if not script_name or "/" in script_name or script_name.startswith("."):
            _fail("bad entry point in %s: kind %r, script %r" % (artifact, kind, script_name))
    elif kind not in ("function", "module", "script") or (kind != "script" and not module) \
            or (kind == "function" and not function) or module == "__main__":
        _fail("bad entry point in %s: kind %r, module %r, function %r"
              % (artifact, kind, module, function))

    if boot.get("native") == "1" and not boot["target"]:
        _check_native(boot, artifact)

    # The trees to unpack, the target's own first: (key, prefix in the
    # artifact, tree digest, key suffix).
    trees = []
    target_site = None
    target_pth = ()
    shared = (boot.get("extract_hash", ""), _EXTRACT_PREFIX, boot.get("extract_digest"), "")
    if boot["target"]:
        fields = _pick_target(boot, artifact)
        name = fields[0]
        target_site = fields[4] if fields[4] != "-" else None
        target_pth = [p.partition(" ")[2] for p in boot["target_pth"]
                      if p.partition(" ")[0] == name]
        trees.append((fields[5] if fields[5] != "-" else "",
                      "__pyzap__/targets/%s/extract/" % name,
                      next((d.partition(" ")[2] for d in boot["target_digest"]
                            if d.partition(" ")[0] == name), None), ""))
        # The shared tree holds bytecode for the targets that had a
        # compiler at build time; each interpreter version keeps its own
        # copy, so one without bytecode compiles into its copy only.
        shared = shared[:3] + ((sys.implementation.cache_tag or "").replace("-", ""),)
    trees.append(shared)
    sites = []
    for extract_hash, extract_prefix, digest, suffix in trees:
        if not extract_hash:
            continue
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
        sites.append(_extracted_dir(artifact, extract_hash + suffix, extract_prefix,
                                    boot.get("no_compile") != "1", digest, _toc(loader)))
    extracted = sites[0] if sites else None
    if sites and (boot.get("native") == "1" or boot["target"]) and _noexec(extracted):
        _fail("the cache %s is on a file system mounted noexec, so the bundle's native "
              "code cannot be loaded; set PYZAP_ROOT to a directory on a file system "
              "that allows executables" % os.path.dirname(os.path.dirname(extracted)))
    in_artifact = [os.path.join(artifact, s) for s in (target_site, boot.get("site_zip")) if s]
    if boot.get("src") == "1":
        in_artifact.append(artifact)
    base = _base_interpreter() if sites else None
    venv = None
    if base is not None:
        venv = _venv_dir(os.path.dirname(os.path.dirname(extracted)), base, sites, in_artifact)
    _flush_later()

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

    # Entries a parent pyzap process of an older layout exported for its own
    # bundle: they are in the PYZAP_SITE we inherited, and would leak its
    # packages into us.
    parent = set(os.environ.get("PYZAP_SITE", "").split(os.pathsep)) - set(sites)
    parent.discard("")
    kept, from_site = _interpreter_path(archive, artifact, parent)
    inherit = _flag("PYZAP_INHERIT_PATH")
    if venv is not None and sys.prefix == venv:
        # Started by the venv's own python (a child re-running the
        # artifact): site.py has already set the bundle up from the venv.
        sys.path[:] = kept + [p for p in from_site if p not in kept]
        _zipped_pth(loader, boot, artifact)
    else:
        sys.path[:] = kept
        if not inherit:
            _forget_site_modules(from_site)
        if venv is not None:
            _enter_venv(venv, sites, in_artifact)
            _zipped_pth(loader, boot, artifact)
        else:
            _setup_without_venv(loader, boot, artifact, sites, in_artifact, target_site,
                                target_pth)
        if inherit:
            sys.path.extend(p for p in from_site if p not in sys.path)
    ours = [p for p in sys.path if p not in kept]
    zipped_sites = [s for s in (target_site, boot.get("site_zip")) if s]
    if zipped_sites:
        sys.meta_path.append(_ZipSiteMetadata(loader, artifact, zipped_sites))
    if venv is not None:
        bindir = os.path.join(venv, "bin")
        path = os.environ.get("PATH", os.defpath)
        if path.split(os.pathsep)[0] != bindir:
            os.environ["PATH"] = bindir + (os.pathsep + path if path else "")
    os.environ["PYZAP_ARTIFACT"] = artifact
    os.environ["PYZAP_SITE"] = os.pathsep.join(ours)

    entry = override or ("%s:%s" % (module, function) if kind == "function"
                         else module if kind == "module"
                         else "script %s" % script_name if kind == "data_script"
                         else "__pyzap__/main.py")
    if _flag("PYZAP_TOOLS"):
        _tools(artifact, boot, sites, base)
    elif _flag("PYZAP_INTERPRETER"):
        _interpreter(artifact, entry)
    elif kind == "function":
        # __main__ as for a console script in a venv: a script file (the
        # artifact) without a spec, so tools that restart the program
        # (Django's autoreloader, multiprocessing's spawn) run the artifact
        # again, not `python -m __main__`.
        _new_main(__file__=artifact, __spec__=None, __loader__=None, __package__=None,
                  __cached__=None, __builtins__=__builtins__)
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
    elif kind == "data_script":
        _run_data_script(script_name, sites, venv, artifact)
    else:
        _run_script(loader, artifact)


if __name__ == "__main__":
    _main()
