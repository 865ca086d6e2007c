#!/bin/bash
# make check-guests: real guests nobody on the team wrote, unmodified, as TDs on tdxemu.
#  1. Debian trixie's OVMF to the UEFI shell (split irqchip, 1 GiB, 2 vCPUs), on the serial port
#     and on a virtio console (OVMF's virtio DMA goes through shared bounce buffers: MapGPA).
#  1b. Debian 12's own OVMF (/usr/share/ovmf/OVMF.fd, package ovmf): its TDVMCALLs pass RBP, so
#     with Linux's KVM (CONFIG_FLAGS.NO_RBP_MOD) the module refuses them and the launch log says
#     why; on a KVM that leaves NO_RBP_MOD clear (--kvm-param no_rbp_mod=N, TDX 1.0-era KVM) it
#     reaches the UEFI shell, with 1 vCPU and 512 MiB and with 4 vCPUs and 4 GiB.
#  2. Debian trixie's Linux kernel through that OVMF (-kernel/-initrd, 2 vCPUs) to the shell of tdxemu's
#     initramfs; the shell gets commands over the serial console, the kernel's TDX line, the
#     tdx_guest driver's TDREPORT (MRTD = `tdxemu measure` of the firmware, RTMR0-2 extended by
#     the measured boot, RTMR0-3 = the replay of the TD event log), a virtio console both ways
#     (SWIOTLB bounce buffers in shared memory), a TD quote through configfs-tsm from a stand-in
#     QGS and a clean power-off are checked.
#  3. The same kernel with 4 vCPUs and 2 GiB to /init and power-off, reading a virtio disk (its
#     SHA-256 against the image's) and writing a line into it, and pinging a stand-in peer
#     (tests/fake_net.py) through a virtio NIC.
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

# map_gpa_check NAME LOG: the TDXEMU_STATS line says the guest made pages shared with MapGPA.
map_gpa_check() {
	local n
	n=$(sed -n 's/^tdxemu: stats: .*, \([0-9]*\) MapGPA (\([0-9]*\) pages made shared)$/\1 \2/p' "$2")
	if [ -n "$n" ] && [ "${n%% *}" -gt 0 ] && [ "${n##* }" -gt 0 ]; then
		ok "$1: shared buffers through MapGPA (${n%% *} calls, ${n##* } pages made shared)"
	else
		bad "$1: MapGPA" "no MapGPA that made pages shared in the stats line ('$n')" "$2"
	fi
}

# 1. OVMF to the UEFI shell, on the serial port and on a virtio console
start=$(date +%s.%N)
TDXEMU_STATS=1 "$BIN" run -accel tcg -object tdx-guest,id=tdx0 \
	-machine q35,confidential-guest-support=tdx0,kernel-irqchip=split -bios "$ovmf" -m 1G -smp 2 \
	-nographic -nodefaults -serial stdio -device virtio-serial-pci \
	-chardev file,id=vc0,path="$tmp/ovmf-virtio.out" -device virtconsole,chardev=vc0 \
	>"$tmp/ovmf.log" 2>&1 </dev/null &
qpid=$!
if wait_for "$tmp/ovmf.log" 'Shell>' $qpid && grep -aq 'UEFI Interactive Shell' "$tmp/ovmf.log"; then
	ok "ovmf-trixie-td-uefi-shell ($(since $start) s, 2 vCPUs, 1 GiB)"
else
	bad ovmf-trixie-td-uefi-shell "no UEFI shell within $T s" "$tmp/ovmf.log"
fi
if wait_for "$tmp/ovmf-virtio.out" 'Shell>' $qpid; then ok "ovmf-trixie-td: UEFI shell on the virtio console"; else
	bad "ovmf-trixie-td: virtio console" "no 'Shell>' on it" "$tmp/ovmf-virtio.out"; fi
kill -INT $qpid 2>/dev/null; wait $qpid 2>/dev/null
map_gpa_check ovmf-trixie-td "$tmp/ovmf.log"

# 1b. Debian 12's OVMF: refused under Linux's KVM, the UEFI shell under no_rbp_mod=N
bw=/usr/share/ovmf/OVMF.fd
if [ -r "$bw" ]; then
	for mode in default no_rbp_mod=N; do
		kp=(); [ $mode = default ] || kp=(--kvm-param $mode)
		"$BIN" run "${kp[@]}" -accel tcg -object tdx-guest,id=tdx0 \
			-machine q35,confidential-guest-support=tdx0,kernel-irqchip=split -bios "$bw" -m 512M -smp 1 \
			-nographic -nodefaults -serial stdio >"$tmp/bw-$mode.log" 2>&1 </dev/null &
		qpid=$!
		if [ $mode = default ]; then
			pat='TDG.VP.VMCALL refused by the TDX module: status 0xc000010000000001, RCX \(GPR_SELECT\) 0x[0-9a-f]+: RBP is selected'
			if wait_for "$tmp/bw-$mode.log" 'RBP is selected' $qpid && grep -aqE "$pat" "$tmp/bw-$mode.log"; then
				ok "ovmf-bookworm-td: refused under Linux's KVM (NO_RBP_MOD), the reason logged"
			else
				bad "ovmf-bookworm-td: refusal" "no line /$pat/" "$tmp/bw-$mode.log"
			fi
		elif wait_for "$tmp/bw-$mode.log" 'Shell>' $qpid && grep -aq 'UEFI Interactive Shell' "$tmp/bw-$mode.log"; then
			ok "ovmf-bookworm-td-uefi-shell with KVM no_rbp_mod=N (1 vCPU, 512 MiB)"
		else
			bad ovmf-bookworm-td-uefi-shell "no UEFI shell within $T s" "$tmp/bw-$mode.log"
		fi
		kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
	done
	# 4 vCPUs, 4 GiB: its APs accept the memory below 4 GiB with the BSP, then spin in the
	# mailbox loop (no PAUSE) while the BSP polls devices
	start=$(date +%s.%N)
	"$BIN" run --kvm-param no_rbp_mod=N -accel tcg -object tdx-guest,id=tdx0 \
		-machine q35,confidential-guest-support=tdx0,kernel-irqchip=split -bios "$bw" -m 4G -smp 4 \
		-nographic -nodefaults -serial stdio >"$tmp/bw-smp.log" 2>&1 </dev/null &
	qpid=$!
	if wait_for "$tmp/bw-smp.log" 'Shell>' $qpid && grep -aq 'UEFI Interactive Shell' "$tmp/bw-smp.log"; then
		ok "ovmf-bookworm-td-uefi-shell with KVM no_rbp_mod=N (4 vCPUs, 4 GiB, $(since $start) s)"
	else
		bad ovmf-bookworm-td-smp "no UEFI shell within $T s" "$tmp/bw-smp.log"
	fi
	kill $qpid 2>/dev/null; wait $qpid 2>/dev/null
else
	bad ovmf-bookworm "no $bw (Debian package ovmf)"
fi

# 2. Linux to the initramfs shell, commands over the serial console, a line each way over a
# virtio console (QEMU's pipe chardev: vc.in to the guest, vc.out from it), then power-off
mkfifo "$tmp/in" "$tmp/vc.in" "$tmp/vc.out"
cat "$tmp/vc.out" >"$tmp/virtio.log" &
exec 4<>"$tmp/vc.in"
token="ping-$$-$RANDOM"
start=$(date +%s.%N)
# ... and a TD quote through configfs-tsm from a stand-in quote generation service
python3 "$(dirname "$0")/fake_qgs.py" "$tmp/qgs.sock" "$tmp/qgs.log" &
for _ in $(seq 1 40); do [ -S "$tmp/qgs.sock" ] && break; sleep 0.1; done
TDXEMU_STATS=1 "$BIN" run --linux -device virtio-serial-pci -chardev pipe,id=vc0,path="$tmp/vc" \
	-device virtconsole,chardev=vc0 \
	-object '{"qom-type":"tdx-guest","id":"tdxq","quote-generation-socket":{"type":"unix","path":"'"$tmp/qgs.sock"'"}}' \
	-machine confidential-guest-support=tdxq -append "console=ttyS0 panic=-1 tdxemu.quote" \
	<"$tmp/in" >"$tmp/linux.log" 2>&1 &
qpid=$!
exec 3>"$tmp/in"
if wait_for "$tmp/linux.log" 'tdxemu-init: shell ready' $qpid; then
	boot=$(since $start)
	# The port is opened before the notice, so the host's line cannot arrive before the reader.
	printf 'exec 7<>/dev/hvc0; echo "virtio $((40 + 2)) listening"; read -t 60 x <&7; echo "virtio console got: $x" >&7; echo "shell says $((6 * 7))"; poweroff -f\n' >&3
	wait_for "$tmp/linux.log" 'virtio 42 listening' $qpid && echo "$token" >&4
	wait_for "$tmp/linux.log" 'reboot: Power down' $qpid
fi
exec 3>&- 4>&-
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
check "SWIOTLB bounce buffers for device DMA" 'PCI-DMA: Using software bounce buffering for IO \(SWIOTLB\)'
if grep -aq "virtio console got: $token" "$tmp/virtio.log"; then
	ok "linux-td: virtio console both ways (host line '$token' read by the guest and sent back)"
else
	bad "linux-td: virtio console" "no 'virtio console got: $token' from the guest" "$tmp/virtio.log"
fi
map_gpa_check linux-td "$log"
# fake_qgs.py's quote starts with "TDXEMU-TEST-QUOTE"; its log shows the REPORTDATA it got.
magic=$(printf 'TDXEMU-TEST-QUOTE\0' | od -A n -t x1 | tr -d ' \n')
check "TD quote through configfs-tsm and GetQuote from the QGS" \
	"^tdxemu-init: TD quote from tdx_guest through configfs-tsm: 130 bytes, starts ${magic}"
rd=$(printf 'tdxemu quote non' | od -A n -t x1 | tr -d ' \n')
if grep -q "^request: version 1.1 type 0 size 1048 report 1024 bytes reportdata $rd\$" "$tmp/qgs.log" 2>/dev/null; then
	ok "linux-td: the QGS got the TD's TDREPORT with the nonce written to configfs-tsm's inblob"
else
	bad "linux-td: QGS request" "no request with REPORTDATA $rd" "$tmp/qgs.log"
fi
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

# 3. SMP at the top of the range: 4 vCPUs and 2 GiB, boot to /init and power off; on the way the
# TD reads a 16 MiB virtio disk (its SHA-256 must be the image's) and writes a line into it, and
# pings a stand-in peer through a virtio NIC (QEMU's dgram netdev on unix sockets)
start=$(date +%s.%N)
head -c 16M /dev/urandom >"$tmp/disk.img"
disk_sum=$(sha256sum <"$tmp/disk.img" | cut -d' ' -f1)
python3 "$(dirname "$0")/fake_net.py" "$tmp/net-peer.sock" "$tmp/net-qemu.sock" "$tmp/net.log" &
netpid=$!
for _ in $(seq 1 40); do [ -S "$tmp/net-peer.sock" ] && break; sleep 0.1; done
timeout "$T" "$BIN" run --linux -smp 4 -m 2G -drive file="$tmp/disk.img",if=none,id=d0,format=raw \
	-device virtio-blk-pci,drive=d0 -device virtio-net-pci,netdev=n0 \
	-netdev dgram,id=n0,local.type=unix,local.path="$tmp/net-qemu.sock",remote.type=unix,remote.path="$tmp/net-peer.sock" \
	-append "console=ttyS0 panic=-1 tdxemu.blk tdxemu.net tdxemu.test" </dev/null >"$tmp/linux4.log" 2>&1
rc=$?
kill $netpid 2>/dev/null; wait $netpid 2>/dev/null
if [ $rc = 0 ] && grep -aq '^tdxemu-init: kernel .*, 4 CPUs,' "$tmp/linux4.log" && grep -aq 'smp: Brought up 1 node, 4 CPUs' "$tmp/linux4.log" &&
	grep -aq 'reboot: Power down' "$tmp/linux4.log"; then
	ok "linux-td: 4 vCPUs, 2 GiB: all 4 CPUs up, /init, clean power-off ($(since $start) s)"
else
	bad "linux-td: 4 vCPUs" "exit $rc, or no '4 CPUs' / power-off line" "$tmp/linux4.log"
fi
if grep -aq "^tdxemu-init: /dev/vda 16777216 bytes, sha256 $disk_sum" "$tmp/linux4.log"; then
	ok "linux-td: virtio disk read through shared memory (16 MiB, SHA-256 as on the host)"
else
	bad "linux-td: virtio disk read" "no '/dev/vda 16777216 bytes, sha256 $disk_sum'" "$tmp/linux4.log"
fi
if [ "$(dd if="$tmp/disk.img" bs=512 skip=2048 count=1 2>/dev/null | head -n 1)" = "tdxemu-init wrote this from the TD" ]; then
	ok "linux-td: virtio disk written by the TD (the line is in the image file at 1 MiB)"
else
	bad "linux-td: virtio disk write" "no line at 1 MiB of the image" "$tmp/linux4.log"
fi
if grep -aq '^tdxemu-init: ping 3 packets transmitted, 3 packets received' "$tmp/linux4.log" &&
	[ "$(grep -c '^icmp echo from 10.0.2.15 seq' "$tmp/net.log" 2>/dev/null)" = 3 ]; then
	ok "linux-td: virtio NIC both ways (3 pings to a stand-in peer answered, the peer saw 3 requests)"
else
	bad "linux-td: virtio NIC" "no 3 answered pings ($(cat "$tmp/net.log" 2>/dev/null | tr '\n' ';'))" "$tmp/linux4.log"
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
