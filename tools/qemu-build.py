#!/usr/bin/python3
"""Build tdxemu's engine: Debian trixie's QEMU, TCG only, with our patch series, linked
against tdxemu's static libraries.

  tools/qemu-build.py --build BUILD [--jobs N] [--refresh] [--source-only]

The source comes through apt with a private configuration under BUILD/qemu-cache/apt (own
sources.list, lists and cache: the system's apt setup is read, never changed). Whatever
version trixie serves is used; Debian's patches are applied by dpkg-source, ours
(qemu/patches/series) on top. Work is cached per source version in
BUILD/qemu-cache/<version>/: the unpacked source (orig/), the patched tree QEMU builds
from (src/), the meson build directory (build/) and KEY, the series hash that src/ holds.
A different series only rewrites the files whose content changed, so ninja recompiles
what the patches touch, not all of QEMU. The result is linked as BUILD/qemu-system-x86_64.
"""
import argparse
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCH_DIR = os.path.join(ROOT, "qemu", "patches")
SUITE = "trixie"
# meson >= 1.5 is what QEMU 10 needs; bookworm has 1.0, bookworm-backports has newer.
MESON_MIN = (1, 5)
MESON_SUITE = "bookworm-backports"
TARGET = "qemu-system-x86_64"
# TCG only, no device back ends we do not use; the +ds tarball has no firmware blobs.
CONFIGURE = [
    "--python=/usr/bin/python3", "--target-list=x86_64-softmmu", "--enable-tcg",
    "--disable-kvm", "--disable-docs", "--disable-werror", "--without-default-features",
    "--disable-fdt", "--disable-slirp", "--disable-pixman", "--disable-vnc", "--disable-sdl",
    "--disable-gtk", "--disable-curses", "--disable-spice", "--disable-opengl",
    "--disable-xen", "--disable-tools", "--disable-guest-agent", "--disable-capstone",
    "--audio-drv-list=", "--disable-install-blobs", "-Dtdxemu=enabled",
]
# Libraries of ours QEMU links, top layer first (static link order).
TDXEMU_LIBS = ["tdx_vmm", "tdx_kvm", "tdx_host", "tdx_module", "tdx_platform", "tdx_abi"]


class BuildError(Exception):
    pass


START = time.monotonic()


def log(msg):
    print("qemu-build: [%5.1fs] %s" % (time.monotonic() - START, msg), file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, quiet=False):
    """Run a command; on failure raise with its output tail so the reason is visible."""
    res = subprocess.run(cmd, cwd=cwd, env=env, text=True,
                         stdout=subprocess.PIPE if quiet else None,
                         stderr=subprocess.STDOUT if quiet else None)
    if res.returncode != 0:
        tail = "\n".join((res.stdout or "").splitlines()[-30:])
        raise BuildError("'%s' failed (exit %d)%s" % (" ".join(cmd[:3]) + (" ..." if len(cmd) > 3 else ""),
                                                      res.returncode, ":\n" + tail if tail else ""))
    return res.stdout or ""


# --- the Debian archive the system already uses ---------------------------------------------

def _one_line_sources(path):
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.split("#", 1)[0].split()
        if len(line) < 4 or line[0] != "deb":
            continue
        opts, rest = {}, line[1:]
        if rest[0].startswith("["):
            while rest:
                tok = rest.pop(0)
                for kv in tok.strip("[]").split():
                    if "=" in kv:
                        opts[kv.split("=", 1)[0]] = kv.split("=", 1)[1]
                if tok.endswith("]"):
                    break
        if len(rest) >= 3:
            yield rest[0], [rest[1]], rest[2:], opts.get("signed-by")


def _deb822_sources(path):
    stanzas = open(path, encoding="utf-8", errors="replace").read().split("\n\n")
    for st in stanzas:
        fields = {}
        for line in st.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"])[0] == "no":
            continue
        for uri in fields.get("uris", []):
            keyring = (fields.get("signed-by") or [None])[0]
            # Signed-By may hold an inline key block instead of a path: let apt's defaults act
            yield uri, fields.get("suites", []), fields.get("components", []), \
                keyring if keyring and keyring.startswith("/") else None


def find_archive():
    """The mirror serving this system's own Debian suite (main), and its keyring."""
    codename = ""
    for line in open("/etc/os-release"):
        if line.startswith("VERSION_CODENAME="):
            codename = line.split("=", 1)[1].strip().strip('"')
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
        + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        if not os.path.isfile(path):
            continue
        entries = _deb822_sources(path) if path.endswith(".sources") else _one_line_sources(path)
        for uri, suites, comps, keyring in entries:
            if codename in suites and "main" in comps:
                return uri.rstrip("/"), keyring
    raise BuildError("no 'deb' line for Debian %s main in /etc/apt/sources.list*: cannot derive "
                     "the archive to fetch QEMU from (set TDXEMU_DEBIAN_MIRROR=URI)" % (codename or "?"))


# --- private apt --------------------------------------------------------------------------------

class Apt:
    def __init__(self, top, need_meson):
        self.top = top
        for d in ("lists/partial", "cache/archives/partial", "parts", "prefs"):
            os.makedirs(os.path.join(top, d), exist_ok=True)
        mirror = os.environ.get("TDXEMU_DEBIAN_MIRROR")
        keyring = None
        if not mirror:
            mirror, keyring = find_archive()
        opt = "[signed-by=%s] " % keyring if keyring else ""
        arch = subprocess.run(["dpkg", "--print-architecture"], text=True,
                              stdout=subprocess.PIPE).stdout.strip() or "amd64"
        lines = ["deb-src %s%s %s main" % (opt, mirror, SUITE),
                 # trixie's binary packages: its OVMF (the TD firmware the engine's tests boot)
                 "deb [arch=%s%s] %s %s main" % (arch, " signed-by=" + keyring if keyring else "", mirror, SUITE)]
        if need_meson:
            lines.append("deb [arch=%s%s] %s %s main" % (arch, " signed-by=" + keyring if keyring else "",
                                                         mirror, MESON_SUITE))
        self.sources = os.path.join(top, "sources.list")
        text = "\n".join(lines) + "\n"
        if not os.path.exists(self.sources) or open(self.sources).read() != text:
            with open(self.sources, "w") as f:
                f.write(text)
            for old in glob.glob(os.path.join(top, "lists", "*_*")) + [os.path.join(top, "UPDATED")]:
                if os.path.isfile(old):
                    os.unlink(old)      # lists of another mirror or suite set
        self.opts = [
            "-o", "Dir::Etc::SourceList=" + self.sources,
            "-o", "Dir::Etc::SourceParts=" + os.path.join(top, "parts"),
            "-o", "Dir::Etc::Preferences=" + os.path.join(top, "prefs", "none"),
            "-o", "Dir::Etc::PreferencesParts=" + os.path.join(top, "prefs"),
            "-o", "Dir::State::Lists=" + os.path.join(top, "lists"),
            "-o", "Dir::Cache=" + os.path.join(top, "cache"),
        ]
        if os.getuid() == 0:
            # apt would drop to _apt for downloads, which may not write into our build dir
            self.opts += ["-o", "APT::Sandbox::User=root"]

    def update(self, refresh):
        # apt dates list files by the archive's Last-Modified, so keep our own stamp
        stamp = os.path.join(self.top, "UPDATED")
        lists = glob.glob(os.path.join(self.top, "lists", "*Sources*"))
        fresh = lists and os.path.isfile(stamp) and time.time() - os.path.getmtime(stamp) < 6 * 3600
        if fresh and not refresh:
            return
        log("apt-get update (private lists in %s)" % self.top)
        try:
            run(["apt-get", "-q"] + self.opts + ["update"], quiet=True)
            with open(stamp, "w"):
                pass
        except BuildError as e:
            if not lists:
                raise BuildError("cannot fetch Debian %s's package lists: %s" % (SUITE, e))
            log("warning: apt-get update failed, using the lists from before")

    def source_version(self):
        """Version (without epoch) of the qemu source trixie serves, from the .dsc apt would fetch."""
        out = run(["apt-get", "-q"] + self.opts + ["source", "--print-uris", "qemu/" + SUITE], quiet=True)
        m = re.search(r"'\S+\.dsc' qemu_(\S+)\.dsc ", out)
        if not m:
            raise BuildError("apt did not name a qemu .dsc for %s:\n%s" % (SUITE, out[-2000:]))
        return m.group(1)

    def fetch_source(self, dest):
        os.makedirs(dest, exist_ok=True)
        run(["apt-get", "-q"] + self.opts + ["source", "--download-only", "qemu/" + SUITE],
            cwd=dest, quiet=True)
        dsc = glob.glob(os.path.join(dest, "qemu_*.dsc"))
        if len(dsc) != 1:
            raise BuildError("expected one qemu .dsc in %s, found %d" % (dest, len(dsc)))
        return dsc[0]

    def deb_name(self, pkg):
        """The file name of the .deb `apt-get download pkg` would fetch now."""
        out = run(["apt-get", "-q"] + self.opts + ["download", "--print-uris", pkg], quiet=True)
        m = re.search(r"^'\S+' (\S+\.deb) ", out, re.M)
        if not m:
            raise BuildError("apt names no .deb for %s:\n%s" % (pkg, out[-1000:]))
        return m.group(1)

    def fetch_deb(self, pkg, dest):
        os.makedirs(dest, exist_ok=True)
        run(["apt-get", "-q"] + self.opts + ["download", pkg], cwd=dest, quiet=True)
        debs = glob.glob(os.path.join(dest, pkg.split("/")[0] + "_*.deb"))
        if len(debs) != 1:
            raise BuildError("expected one %s .deb in %s, found %d" % (pkg, dest, len(debs)))
        return debs[0]


# --- build tools --------------------------------------------------------------------------------

def meson_version(env):
    res = subprocess.run(["/usr/bin/python3", "-c", "import mesonbuild.coredata as c; print(c.version)"],
                         env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if res.returncode != 0:
        return None
    return tuple(int(x) for x in re.findall(r"\d+", res.stdout)[:2])


def ensure_meson(apt, cache, env):
    """Debian's meson for /usr/bin/python3, or bookworm-backports' one unpacked under cache."""
    v = meson_version(env)
    if v and v >= MESON_MIN:
        return
    prefix = os.path.join(cache, "meson")
    pyp = os.path.join(prefix, "usr", "lib", "python3", "dist-packages")
    env["PATH"] = os.path.join(prefix, "usr", "bin") + os.pathsep + env["PATH"]
    env["PYTHONPATH"] = pyp + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    v = meson_version(env)
    if v and v >= MESON_MIN:
        return
    log("meson >= %d.%d not found: fetching %s's meson" % (MESON_MIN + (MESON_SUITE,)))
    deb = apt.fetch_deb("meson/" + MESON_SUITE, os.path.join(cache, "debs"))
    shutil.rmtree(prefix, ignore_errors=True)
    run(["dpkg-deb", "-x", deb, prefix])
    v = meson_version(env)
    if not v or v < MESON_MIN:
        raise BuildError("%s has meson %s, QEMU needs >= %d.%d" % ((os.path.basename(deb), v) + MESON_MIN))


def ensure_host_packages():
    """QEMU's own build dependencies beyond what tdxemu needs (installed when root)."""
    need = []
    if subprocess.run(["pkg-config", "--exists", "glib-2.0 >= 2.66"]).returncode != 0:
        need.append("libglib2.0-dev")
    if subprocess.run(["pkg-config", "--exists", "zlib"]).returncode != 0:
        need.append("zlib1g-dev")
    for tool, pkg in (("ninja", "ninja-build"), ("dpkg-source", "dpkg-dev"), ("patch", "patch"),
                      ("pkg-config", "pkg-config"), ("xz", "xz-utils")):
        if not shutil.which(tool):
            need.append(pkg)
    if not need:
        return
    if os.getuid() != 0:
        raise BuildError("missing build dependencies: %s (run as root, or: sudo apt-get install -y %s)"
                         % (" ".join(need), " ".join(need)))
    log("installing " + " ".join(need))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-qq"] + need, env=env,
                      stdout=subprocess.DEVNULL).returncode != 0:
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq"] + need, env=env, quiet=True)


# --- our patch series ---------------------------------------------------------------------------

def read_series():
    path = os.path.join(PATCH_DIR, "series")
    patches = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            p = os.path.join(PATCH_DIR, line)
            if not os.path.isfile(p):
                raise BuildError("qemu/patches/series names '%s', which does not exist" % line)
            patches.append(p)
    return patches


def series_key(patches):
    """What the patched tree and its configuration depend on: patches, order, configure line."""
    h = hashlib.sha256()
    for p in patches:
        h.update(os.path.basename(p).encode() + b"\0" + open(p, "rb").read() + b"\0")
    h.update("\0".join(CONFIGURE).encode())
    return h.hexdigest()[:12]


def apply_series(tree, patches, version):
    for p in patches:
        name = os.path.relpath(p, ROOT)
        dry = subprocess.run(["patch", "-p1", "-f", "--no-backup-if-mismatch", "--dry-run", "-i", p],
                             cwd=tree, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if dry.returncode != 0:
            raise BuildError("%s does not apply to QEMU %s (Debian %s's qemu source); the series "
                             "must be rebased onto it:\n%s" % (name, version, SUITE, dry.stdout.strip()))
        run(["patch", "-p1", "-f", "-s", "--no-backup-if-mismatch", "-i", p], cwd=tree)


def sync_tree(new, live):
    """Make live's content equal to new's, touching only the files that differ (keeps the
    mtimes ninja relies on, so a changed series recompiles only what it changed)."""
    changed = 0
    for dirpath, dirs, files in os.walk(new):
        rel = os.path.relpath(dirpath, new)
        ldir = os.path.join(live, rel)
        os.makedirs(ldir, exist_ok=True)
        for f in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            s, d = os.path.join(dirpath, f), os.path.join(ldir, f)
            if os.path.islink(s):
                if not (os.path.islink(d) and os.readlink(d) == os.readlink(s)):
                    _remove(d)
                    os.symlink(os.readlink(s), d)
                    changed += 1
                continue
            if os.path.isfile(d) and not os.path.islink(d) and _same(s, d):
                continue
            _remove(d)
            shutil.copy2(s, d)
            os.utime(d)   # newer than every object built from the old content
            changed += 1
    for dirpath, dirs, files in os.walk(live, topdown=False):
        rel = os.path.relpath(dirpath, live)
        for f in files + dirs:
            if not os.path.lexists(os.path.join(new, rel, f)):
                _remove(os.path.join(dirpath, f))
                changed += 1
    return changed


def _same(a, b):
    if os.path.getsize(a) != os.path.getsize(b):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def _remove(p):
    if os.path.islink(p) or os.path.isfile(p):
        os.unlink(p)
    elif os.path.isdir(p):
        shutil.rmtree(p)


# --- the build ----------------------------------------------------------------------------------

def write_pkgconfig(build):
    """tdxemu.pc: how QEMU's meson finds our static libraries and headers."""
    missing = [l for l in TDXEMU_LIBS if not os.path.isfile(os.path.join(build, "lib%s.a" % l))]
    if missing:
        raise BuildError("tdxemu libraries not built in %s (%s): run 'make build' first"
                         % (build, ", ".join("lib%s.a" % l for l in missing)))
    pcdir = os.path.join(build, "pkgconfig")
    os.makedirs(pcdir, exist_ok=True)
    text = ("Name: tdxemu\nDescription: tdxemu's TDX module, host and KVM layers\nVersion: 0\n"
            "Cflags: -I%s -I%s -I%s\nLibs: -L%s %s\nLibs.private: -lcrypto -lpthread\n"
            % (os.path.join(ROOT, "src"), os.path.join(ROOT, "src", "platform"),
               os.path.join(build, "gen"), build, " ".join("-l" + l for l in TDXEMU_LIBS)))
    path = os.path.join(pcdir, "tdxemu.pc")
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
    return pcdir


def prepare_source(apt, vdir, version, patches, key):
    """vdir/src = trixie's source + Debian's patches + our series, as described by KEY."""
    orig = os.path.join(vdir, "orig")
    if not os.path.isfile(os.path.join(orig, "configure")):
        log("fetching qemu %s from Debian %s" % (version, SUITE))
        dl = os.path.join(vdir, "dl")
        shutil.rmtree(dl, ignore_errors=True)
        dsc = apt.fetch_source(dl)
        shutil.rmtree(orig, ignore_errors=True)
        run(["dpkg-source", "--no-check", "-x", dsc, orig], quiet=True)
        shutil.rmtree(dl)
        for tarball in glob.glob(os.path.join(vdir, "qemu_*")):
            os.unlink(tarball)      # dpkg-source puts the orig tarball beside orig/
    keyfile, touchfile = os.path.join(vdir, "KEY"), os.path.join(vdir, "TOUCHED")
    src = os.path.join(vdir, "src")
    if os.path.isdir(src) and os.path.isfile(keyfile) and open(keyfile).read().strip() == key:
        return src
    log("applying qemu/patches/series (%d patches, key %s)" % (len(patches), key))
    # The series only ever touches the files its diffs name: patch copies of those.
    touched = touched_files(patches)
    tmp = os.path.join(vdir, "src.new")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for f in touched:
        if os.path.lexists(os.path.join(orig, f)):
            os.makedirs(os.path.dirname(os.path.join(tmp, f)), exist_ok=True)
            shutil.copy2(os.path.join(orig, f), os.path.join(tmp, f), follow_symlinks=False)
    try:
        apply_series(tmp, patches, version)
    except BuildError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    before = None
    if os.path.isdir(src) and os.path.isfile(keyfile) and os.path.isfile(touchfile):
        before = set(l for l in open(touchfile).read().splitlines() if l)
    for f in (keyfile, touchfile):
        if os.path.isfile(f):
            os.unlink(f)            # src is in between states until the update is done
    if not os.path.isdir(src):
        # objects built from a source tree that is gone would look newer than this one's files
        shutil.rmtree(os.path.join(vdir, "build"), ignore_errors=True)
        shutil.copytree(orig, src, symlinks=True)
        before = set()
    if before is None:
        # an interrupted update: compare everything (slow but exact)
        full = os.path.join(vdir, "src.full")
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(orig, full, symlinks=True)
        overlay(tmp, full, orig, touched)
        n = sync_tree(full, src)
        shutil.rmtree(full)
    else:
        n = overlay(tmp, src, orig, touched | before)
    shutil.rmtree(tmp)
    log("%d files of the source tree changed" % n)
    with open(touchfile, "w") as f:
        f.write("".join(t + "\n" for t in sorted(touched)))
    with open(keyfile, "w") as f:
        f.write(key + "\n")
    return src


def touched_files(patches):
    """Paths (after -p1) that the series' diffs name."""
    files = set()
    for p in patches:
        for line in open(p, encoding="utf-8", errors="replace"):
            if line.startswith(("--- ", "+++ ")):
                path = line[4:].rstrip("\n").split("\t")[0].strip()
                if path != "/dev/null" and "/" in path:
                    files.add(os.path.normpath(path.split("/", 1)[1]))
    for f in files:
        if f.startswith("..") or os.path.isabs(f):
            raise BuildError("a patch in qemu/patches names '%s', outside the source tree" % f)
    return files


def overlay(patched, live, orig, paths):
    """For each path: live gets patched's version, else orig's, else none. Only content
    changes are written (with a fresh mtime, so ninja rebuilds exactly what they feed)."""
    changed = 0
    for f in sorted(paths):
        want = os.path.join(patched, f)
        if not os.path.lexists(want):
            want = os.path.join(orig, f)
        dest = os.path.join(live, f)
        if not os.path.lexists(want):
            if os.path.lexists(dest):
                _remove(dest)
                changed += 1
            continue
        if os.path.isfile(dest) and not os.path.islink(dest) and not os.path.islink(want) \
                and _same(want, dest):
            continue
        _remove(dest)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(want, dest, follow_symlinks=False)
        if not os.path.islink(dest):
            os.utime(dest)
        changed += 1
    return changed


def configure_and_build(src, bdir, env, jobs):
    """configure once per configure line (a new line starts a clean build directory); after
    that ninja re-runs meson by itself when a patch changes a meson.build."""
    stamp = os.path.join(bdir, "CONFIGURED")
    flags = " ".join(CONFIGURE) + "\n"
    if not os.path.isfile(stamp) or open(stamp).read() != flags:
        shutil.rmtree(bdir, ignore_errors=True)
        os.makedirs(bdir)
        log("configure (TCG-only x86_64-softmmu)")
        run([os.path.join(src, "configure")] + CONFIGURE, cwd=bdir, env=env, quiet=True)
        with open(stamp, "w") as f:
            f.write(flags)
    log("ninja -j%d %s" % (jobs, TARGET))
    res = subprocess.run(["ninja", "-j%d" % jobs, TARGET], cwd=bdir, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise BuildError("ninja failed in %s:\n%s" % (bdir, "\n".join(res.stdout.splitlines()[-40:])))


def prune_versions(cache, keep):
    """Trixie moved on: drop the trees of the QEMU versions it no longer serves."""
    for d in glob.glob(os.path.join(cache, "*")):
        name = os.path.basename(d)
        if name in (keep, "apt", "meson", "debs") or name.startswith("pkg-"):
            continue        # not a QEMU tree: unpacked packages (fetch_unpacked prunes them)
        if os.path.isdir(d):
            log("removing %s from the cache (another QEMU version, or an older layout)" % name)
            shutil.rmtree(d)


def fetch_ovmf(apt, cache, build):
    """trixie's ovmf package, unpacked once per version; BUILD/ovmf-trixie/OVMF.fd points into it."""
    unpacked = fetch_unpacked(apt, cache, "ovmf/" + SUITE, "ovmf")
    out = os.path.join(build, "ovmf-trixie")
    os.makedirs(out, exist_ok=True)
    link = os.path.join(out, "OVMF.fd")
    _remove(link)
    os.symlink(os.path.relpath(os.path.join(unpacked, "usr", "share", "ovmf", "OVMF.fd"), out), link)
    log("%s -> Debian %s's %s" % (link, SUITE, os.path.basename(unpacked)))


def fetch_unpacked(apt, cache, pkg, name):
    """Package pkg (package/suite) downloaded into cache/debs and unpacked once per version into
    cache/pkg-<package>_<version>_<arch>; the .debs and trees of other versions, the packages
    the glob `name` matches, are removed."""
    debs = os.path.join(cache, "debs")
    want = apt.deb_name(pkg)
    unpacked = os.path.join(cache, "pkg-" + want[:-len(".deb")])
    if os.path.isdir(unpacked):
        return unpacked                      # this version is here already: no download
    for old in glob.glob(os.path.join(debs, name + "_*.deb")):
        os.unlink(old)                       # apt download leaves the newest one only
    deb = apt.fetch_deb(pkg, debs)
    if os.path.basename(deb) != want:
        raise BuildError("apt downloaded %s, not the %s it announced" % (os.path.basename(deb), want))
    for old in glob.glob(os.path.join(cache, "pkg-" + name + "_*")):
        if old != unpacked:
            shutil.rmtree(old, ignore_errors=True)
    if not os.path.isdir(unpacked):
        tmp = unpacked + ".new"
        shutil.rmtree(tmp, ignore_errors=True)
        run(["dpkg-deb", "-x", deb, tmp], quiet=True)
        os.rename(tmp, unpacked)
    return unpacked


def fetch_roms(apt, cache, bdir):
    """The firmware files the source package leaves out (+ds): trixie's qemu-system-data and
    ipxe-qemu, unpacked, linked into the build tree's qemu-bundle data directory, where a QEMU
    run from its build directory looks for them (-kernel's linuxboot_dma.bin, the NICs' efi-*.rom
    option ROMs; `-L help` lists it). A link whose target lies in neither package (SeaBIOS, VGA
    BIOS) is left out: TDs boot TDVF."""
    data = fetch_unpacked(apt, cache, "qemu-system-data/" + SUITE, "qemu-system-data")
    ipxe = fetch_unpacked(apt, cache, "ipxe-qemu/" + SUITE, "ipxe-qemu")
    dirs = run([os.path.join(bdir, TARGET), "-L", "help"], quiet=True).split()
    datadir = next((d for d in dirs if os.path.basename(d) == "qemu" and d.startswith(bdir)), None)
    if not datadir:
        raise BuildError("the built QEMU names no data directory in its build tree (-L help: %s)" % dirs)
    os.makedirs(datadir, exist_ok=True)
    linked = 0
    for share, name in sorted((os.path.join(root, "usr", "share", "qemu"), name) for root in (data, ipxe)
                              for name in os.listdir(os.path.join(root, "usr", "share", "qemu"))):
        path = os.path.join(share, name)
        target = path
        if os.path.islink(path):
            rel = os.readlink(path)
            if not rel.startswith("/"):
                rel = os.path.normpath(os.path.join("/usr/share/qemu", rel))
            target = next((os.path.join(root, rel.lstrip("/")) for root in (data, ipxe)
                           if os.path.isfile(os.path.join(root, rel.lstrip("/")))), None)
        if not target or not os.path.isfile(target) or not name.endswith((".rom", ".bin")):
            continue
        link = os.path.join(datadir, name)
        if os.path.lexists(link) and not os.path.islink(link):
            continue                         # the build made this one itself
        _remove(link)
        os.symlink(os.path.relpath(target, datadir), link)
        linked += 1
    log("%s: %d firmware files from Debian %s's qemu-system-data and ipxe-qemu" % (datadir, linked, SUITE))


def kernel_package(apt):
    """The linux-image-<kver> package trixie's linux-image-amd64 depends on now."""
    out = run(["apt-cache"] + apt.opts + ["depends", "linux-image-amd64/" + SUITE], quiet=True)
    m = re.search(r"Depends: (linux-image-(\S+-amd64))\s", out)
    if not m:
        raise BuildError("trixie's linux-image-amd64 names no linux-image-*-amd64 package:\n" + out[-1000:])
    return m.group(1), m.group(2)


def _stale(out, inputs):
    """out is missing or older than one of inputs (files or unpacked package trees)."""
    if not os.path.isfile(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(i) > t for i in inputs)


def _build_tdreport(out, src, hdr, build):
    """guest/linux/tdreport.c, static, against the kernel's uAPI headers and our ABI header."""
    run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(hdr, "usr", "include"),
         "-I", os.path.join(build, "gen"), src, "-o", out, "-lcrypto"], quiet=True)


def fetch_linux(apt, cache, build):
    """The Linux TD: trixie's kernel (vmlinuz, the tdx-guest/tsm/configfs modules), busybox-static
    and the kernel's uAPI headers, never installed, only unpacked; then the project's initramfs
    (guest/linux/init, tools/mk_initramfs.py) with its static TDREPORT tool. BUILD/linux-trixie/
    holds vmlinuz, initrd.gz and KVER."""
    pkg, kver = kernel_package(apt)
    kroot = fetch_unpacked(apt, cache, pkg + "/" + SUITE, "linux-image-*-amd64")
    bb = fetch_unpacked(apt, cache, "busybox-static/" + SUITE, "busybox-static")
    hdr = fetch_unpacked(apt, cache, "linux-libc-dev/" + SUITE, "linux-libc-dev")
    out = os.path.join(build, "linux-trixie")
    os.makedirs(out, exist_ok=True)
    vmlinuz = os.path.join(kroot, "boot", "vmlinuz-" + kver)
    if not os.path.isfile(vmlinuz):
        raise BuildError("%s has no boot/vmlinuz-%s" % (pkg, kver))
    tdreport = os.path.join(out, "tdreport")
    initrd = os.path.join(out, "initrd.gz")
    src = os.path.join(ROOT, "guest", "linux", "tdreport.c")
    abi = os.path.join(build, "gen", "abi_structs.h")
    init = os.path.join(ROOT, "guest", "linux", "init")
    mk = os.path.join(ROOT, "tools", "mk_initramfs.py")
    if _stale(tdreport, [src, abi, hdr]):
        _build_tdreport(tdreport, src, hdr, build)
    if _stale(initrd, [tdreport, init, mk, kroot, bb]):
        run(["/usr/bin/python3", mk, "--kernel-root", kroot, "--kver", kver,
             "--busybox", os.path.join(bb, "usr", "bin", "busybox"), "--init", init, "--tdreport", tdreport,
             "-o", initrd], quiet=True)
    link = os.path.join(out, "vmlinuz")
    _remove(link)
    os.symlink(os.path.relpath(vmlinuz, out), link)
    with open(os.path.join(out, "KVER"), "w") as f:
        f.write(kver + "\n")
    log("%s: Debian %s's kernel %s, initramfs with busybox-static and tdreport" % (out, SUITE, kver))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="tdxemu's CMake build dir")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--refresh", action="store_true", help="re-read trixie's package lists now")
    ap.add_argument("--linux", action="store_true",
                    help="also fetch Debian trixie's kernel and build the Linux TD's initramfs into BUILD/linux-trixie/")
    ap.add_argument("--ovmf", action="store_true",
                    help="also fetch Debian trixie's OVMF.fd into BUILD/ovmf-trixie/ (for the engine's tests)")
    ap.add_argument("--source-only", action="store_true",
                    help="only prepare the patched source tree and print its path")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    cache = os.path.join(build, "qemu-cache")
    env = dict(os.environ)
    try:
        patches = read_series()
        key = series_key(patches)
        pcdir = None if a.source_only else write_pkgconfig(build)   # before minutes of work
        need_meson = (meson_version(env) or (0,)) < MESON_MIN
        apt = Apt(os.path.join(cache, "apt"), need_meson)
        apt.update(a.refresh)
        version = apt.source_version()
        vdir = os.path.join(cache, version)
        os.makedirs(vdir, exist_ok=True)
        ensure_host_packages()
        src = prepare_source(apt, vdir, version, patches, key)
        if a.source_only:
            print(src)
            return 0
        ensure_meson(apt, cache, env)
        env["PKG_CONFIG_PATH"] = pcdir + \
            (os.pathsep + env["PKG_CONFIG_PATH"] if env.get("PKG_CONFIG_PATH") else "")
        bdir = os.path.join(vdir, "build")
        configure_and_build(src, bdir, env, a.jobs)
        link = os.path.join(build, TARGET)
        rel = os.path.relpath(os.path.join(bdir, TARGET), build)
        if not (os.path.islink(link) and os.readlink(link) == rel):
            _remove(link)
            os.symlink(rel, link)
        log("%s -> %s (QEMU %s, series %s)" % (link, rel, version, key))
        fetch_roms(apt, cache, bdir)
        prune_versions(cache, version)
        if a.ovmf:
            fetch_ovmf(apt, cache, build)
        if a.linux:
            fetch_linux(apt, cache, build)
    except BuildError as e:
        print("qemu-build: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
