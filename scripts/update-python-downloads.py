#!/usr/bin/env python3
"""Write pyzap's table of python-build-standalone downloads.

`pyzap build --standalone` without `--python-dist` bundles a CPython from
this table (crates/pyzap-python/python-downloads.json): for each minor
version, the newest `install_only_stripped` build of one recent release, for
x86_64 and aarch64 Linux (glibc and musl), with the sha256 the release
publishes. pyzap checks every download against it.

Sources:
  (default)        the GitHub API: the newest releases of
                   astral-sh/python-build-standalone and their SHA256SUMS
                   asset (set GITHUB_TOKEN to raise the API's rate limit)
  --from-json FILE a JSON file listing python-build-standalone archives with
                   their sha256, in the shape of uv's
                   crates/uv-python/download-metadata.json (an object of
                   entries with name, os, arch.family, libc, major, minor,
                   patch, prerelease, variant, url, sha256)

Usage:
  scripts/update-python-downloads.py                      # from GitHub
  scripts/update-python-downloads.py --from-json FILE
  scripts/update-python-downloads.py --check              # exit 1 if stale

Only the standard library is used.
"""

import argparse
import json
import os
import re
import sys
import urllib.parse
import urllib.request

REPO = "astral-sh/python-build-standalone"
BASE_URL = f"https://github.com/{REPO}/releases/download"
TABLE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "crates",
    "pyzap-python",
    "python-downloads.json",
)
MINORS = range(8, 15)
ARCHES = ("x86_64", "aarch64")
LIBCS = ("gnu", "musl")
# The oldest glibc python-build-standalone's Linux gnu builds load on: they
# are built against a CentOS 7 sysroot (the project's documentation,
# "Running Distributions" > "Linux"). Checked when a --platform names an
# older one, before anything is downloaded.
GLIBC_FLOOR = {"x86_64": "2.17", "aarch64": "2.17"}

# cpython-3.11.16+20260814-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz
FILE_NAME = re.compile(
    r"^cpython-(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)\+(?P<release>\d+)-"
    r"(?P<arch>x86_64|aarch64)-unknown-linux-(?P<libc>gnu|musl)"
    r"-install_only_stripped\.tar\.gz$"
)


def entry(file_name, sha256):
    """A table entry for `file_name`, or None for a build pyzap does not list."""
    m = FILE_NAME.match(file_name)
    if not m:
        return None
    major, minor, patch = int(m["major"]), int(m["minor"]), int(m["patch"])
    if major != 3 or minor not in MINORS:
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise SystemExit(f"{file_name}: `{sha256}` is not a sha256 digest")
    out = {
        "version": f"{major}.{minor}.{patch}",
        "release": m["release"],
        "arch": m["arch"],
        "libc": m["libc"],
    }
    if m["libc"] == "gnu":
        out["glibc"] = GLIBC_FLOOR[m["arch"]]
    out["file"] = file_name
    out["sha256"] = sha256
    return out


def newest_per_minor(entries):
    """One entry per (minor, arch, libc): the newest patch, then release."""
    best = {}
    for e in entries:
        version = tuple(int(p) for p in e["version"].split("."))
        key = (version[:2], e["arch"], e["libc"])
        rank = (version, e["release"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, e)
    return [best[k][1] for k in sorted(best)]


def from_uv_json(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    entries = []
    for item in data.values():
        if item.get("name") != "cpython" or item.get("os") != "linux":
            continue
        if item.get("prerelease") or item.get("variant"):
            continue
        if (item.get("arch") or {}).get("variant"):
            continue
        url = item.get("url", "")
        if not url.startswith(BASE_URL + "/"):
            continue
        file_name = urllib.parse.unquote(url.rsplit("/", 1)[1])
        e = entry(file_name, item.get("sha256") or "")
        if e is None:
            continue
        if url != download_url(e):
            raise SystemExit(f"{url}: not where the table would look ({download_url(e)})")
        entries.append(e)
    return entries


def github(url):
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.github+json"})
    token = os.environ.get("GITHUB_TOKEN")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


def from_github(releases):
    """Entries of the newest `releases` releases, from their SHA256SUMS."""
    listing = json.loads(github(f"https://api.github.com/repos/{REPO}/releases?per_page={releases}"))
    entries = []
    for release in listing:
        if release.get("draft") or release.get("prerelease"):
            continue
        sums = next((a for a in release["assets"] if a["name"] == "SHA256SUMS"), None)
        if sums is None:
            print(f"release {release['tag_name']} has no SHA256SUMS; skipped", file=sys.stderr)
            continue
        text = github(sums["browser_download_url"]).decode()
        for line in text.splitlines():
            parts = line.split()
            if len(parts) != 2:
                continue
            sha256, file_name = parts[0], parts[1].lstrip("*")
            e = entry(file_name, sha256)
            if e is not None:
                entries.append(e)
    return entries


def download_url(e):
    return f"{BASE_URL}/{e['release']}/{urllib.parse.quote(e['file'])}"


def table(entries, source):
    return {
        "comment": "python-build-standalone builds pyzap bundles when --python-dist is not given. "
        "Written by scripts/update-python-downloads.py: do not edit by hand.",
        "source": source,
        "base_url": BASE_URL,
        "downloads": newest_per_minor(entries),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--from-json", metavar="FILE", help="read uv's download-metadata.json shape instead of GitHub")
    parser.add_argument("--releases", type=int, default=10, help="how many recent GitHub releases to read (default 10)")
    parser.add_argument("--output", default=TABLE, help="where to write the table (default: pyzap's)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the table differs")
    args = parser.parse_args()
    if args.from_json:
        entries = from_uv_json(args.from_json)
        source = "uv's crates/uv-python/download-metadata.json (python-build-standalone's SHA256SUMS)"
    else:
        entries = from_github(args.releases)
        source = f"SHA256SUMS of the newest {args.releases} releases of {REPO}"
    if not entries:
        raise SystemExit("no install_only_stripped Linux build found: nothing written")
    text = json.dumps(table(entries, source), indent=2) + "\n"
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            current = json.load(f)
        stale = current["downloads"] != json.loads(text)["downloads"]
        print("stale" if stale else "up to date")
        return 1 if stale else 0
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    minors = sorted({tuple(map(int, e["version"].split(".")[:2])) for e in json.loads(text)["downloads"]})
    print(f"wrote {args.output}: {len(json.loads(text)['downloads'])} builds, "
          f"CPython {', '.join(f'{a}.{b}' for a, b in minors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
