#!/bin/sh
# Install what the build needs on Debian 12 if it is missing (we run as root there).
set -e
need=""
command -v cc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v gcc >/dev/null 2>&1 || need="$need gcc" # the in-tree TD firmware (guest/) is built with gcc
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v ninja >/dev/null 2>&1 || need="$need ninja-build"
command -v make >/dev/null 2>&1 || need="$need make"
[ -x /usr/bin/python3 ] || need="$need python3"
[ -f /usr/include/openssl/evp.h ] || need="$need libssl-dev"
[ -f /usr/share/ovmf/OVMF.fd ] || need="$need ovmf" # the reference TD firmware the tests use
if [ -n "${TDXEMU_SANITIZERS:-}" ]; then
	# gcc ships libasan/libubsan/libtsan; clang and its runtimes are for the libFuzzer targets
	dpkg -s libasan8 >/dev/null 2>&1 || need="$need libasan8"
	dpkg -s libubsan1 >/dev/null 2>&1 || need="$need libubsan1"
	dpkg -s libtsan2 >/dev/null 2>&1 || need="$need libtsan2"
	command -v clang >/dev/null 2>&1 || need="$need clang"
	dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || need="$need libclang-rt-14-dev"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "tdxemu: missing build dependencies:$need" >&2
	echo "tdxemu: run as root, or: sudo apt-get install -y$need" >&2
	exit 1
fi
echo "tdxemu: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $need >/dev/null
