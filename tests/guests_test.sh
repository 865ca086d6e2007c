#!/bin/bash
# make check-guests: real guests nobody on the team wrote, unmodified, as TDs on tdxemu.
#  1. Debian trixie's OVMF to the UEFI shell (split irqchip, 1 GiB, 2 vCPUs).
#  2. Debian trixie's Linux kernel through that OVMF (-kernel/-initrd, 2 vCPUs) to the shell of tdxemu's
#     initramfs; the shell gets commands over the serial console, the kernel's TDX line, the
#     tdx_guest driver's TDREPORT (MRTD = `tdxemu measure` of the firmware, RTMR0-2 extended by
#     the measured boot, RTMR0-3 = the replay of the TD event log) and a clean power-off are checked.
# Usage: tests/guests_test.sh BUILD_DIR. Each boot is bounded (GUEST_TIMEOUT seconds).
set -u
B=${1:?usage: guests_test.sh BUILD_DIR}
BIN=$B/tdxemu
T=${GUEST_TIMEOUT:-240}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; [ -n "${3:-}" ] && tail -c 3000 "$3" | sed 's/^/    /'; fail=$((fail + 1)); }

for f in "$BIN" "$B/qemu-system-x86_64" "$B/ovmf-trixie/OVMF.fd" "$B/linux-trixie/vmlinuz" "$B/linux-trixie/initrd.gz"; do
	[ -e "$f" ] || { echo "FAIL setup: no $f ('make qemu' builds and fetches it)"; exit 1; }
done
ovmf=$B/ovmf-trixie/OVMF.fd

# wait_for FILE PATTERN PID: until PATTERN is in FILE, PID ended, or T seconds passed.
wait_for() {
	for _ in $(seq 1 $((T * 4))); do
		grep -aq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -aq -- "$2" "$1"; return; }
		sleep 0.25
	done
	return 1
}

# 1. OVMF to the UEFI shell
start=$(date +%s.%N)
"$BIN" run -accel tcg -object tdx-guest,id=tdx0 -machine q35,confidential-guest-support=tdx0,kernel-irqchip=split \
	-bios "$ovmf" -m 1G -smp 2 -nographic -nodefaults -serial stdio >"$tmp/ovmf.log" 2>&1 </dev/null &
qpid=$!
if wait_for "$tmp/ovmf.log" 'Shell>' $qpid && grep -aq 'UEFI Interactive Shell' "$tmp/ovmf.log"; then
	ok "ovmf-trixie-td-uefi-shell ($(since $start) s, 2 vCPUs, 1 GiB)"
else
	bad ovmf-trixie-td-uefi-shell "no UEFI shell within $T s" "$tmp/ovmf.log"
fi
kill $qpid 2>/dev/null; wait $qpid 2>/dev/null

# 2. Linux to the initramfs shell, commands over the serial console, then power-off
mkfifo "$tmp/in"
start=$(date +%s.%N)
"$BIN" run --linux <"$tmp/in" >"$tmp/linux.log" 2>&1 &
qpid=$!
exec 3>"$tmp/in"
if wait_for "$tmp/linux.log" 'tdxemu-init: shell ready' $qpid; then
	boot=$(since $start)
	printf 'echo "shell says $((6 * 7))"; poweroff -f\n' >&3
	wait_for "$tmp/linux.log" 'reboot: Power down' $qpid
fi
exec 3>&-
for _ in $(seq 1 40); do kill -0 $qpid 2>/dev/null || break; sleep 0.25; done
kill $qpid 2>/dev/null; wait $qpid; rc=$?
log=$tmp/linux.log
check() { # NAME PATTERN
	if grep -aqE -- "$2" "$log"; then ok "linux-td: $1"; else bad "linux-td: $1" "no line /$2/" "$log"; fi
}
check "kernel sees TDX" 'Memory Encryption Features active: Intel TDX'
check "tdx_guest CPU flag" '^tdxemu-init: cpu flag tdx_guest'
check "2 vCPUs up (ACPI mailbox wake-up through OVMF)" '^tdxemu-init: kernel .*, 2 CPUs,'
check "TDREPORT from the tdx_guest driver" '^tdreport: MRTD +[0-9a-f]{96}'
check "initramfs shell runs commands from the serial console" '^shell says 42'
check "clean power-off" 'reboot: Power down'
[ "$rc" = 0 ] && ok "linux-td: QEMU exit status 0" || bad "linux-td: QEMU exit status" "$rc" "$log"
want=$("$BIN" measure -bios "$ovmf" -m 1G | awk '$1 == "MRTD" { print $2 }')
got=$(grep -a '^tdreport: MRTD' "$log" | awk '{ print $3 }' | tr -d '\r')
if [ -n "$want" ] && [ "$want" = "$got" ]; then ok "linux-td: TDREPORT MRTD = tdxemu measure of OVMF.fd ($want)"; else
	bad "linux-td: MRTD" "TDREPORT says '$got', tdxemu measure says '$want'"; fi
zero=$(printf '0%.0s' $(seq 1 96))
for r in 0 1 2; do
	v=$(grep -a "^tdreport: RTMR$r " "$log" | awk '{ print $3 }' | tr -d '\r')
	if [ -n "$v" ] && [ "$v" != "$zero" ]; then ok "linux-td: RTMR$r extended by the measured boot"; else
		bad "linux-td: RTMR$r" "'$v'"; fi
done
for r in 0 1 2 3; do
	check "RTMR$r = replay of the TD event log (ACPI CCEL)" "^tdreport: RTMR$r replayed from [0-9]+ events of the TD event log: matches the TDREPORT"
done
[ -n "${boot:-}" ] && echo "     (Linux TD to its initramfs shell in $boot s)"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
