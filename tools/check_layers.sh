#!/bin/sh
# Layers call one way down: vmm -> kvm -> host -> (SEAMCALL) -> module -> platform.
# kvm includes host headers only (host.h brings the platform's public API with it).
# host never includes module headers and the module never includes host headers;
# the platform includes neither.
cd "$(dirname "$0")/.." || exit 1
bad=0
check() { # dir pattern why
	if grep -rnE "$2" "src/$1" --include='*.[ch]'; then
		echo "layering: src/$1 must not include $3" >&2
		bad=1
	fi
}
check platform '#include "(module|host|kvm|vmm)/' "upper layers"
check platform '#include "(module|module_internal|host|sim)\.h"' "upper layers"
check module '#include "(host|kvm|vmm)/' "host/kvm/vmm headers"
check module '#include "(host|sim|cli)\.h"' "host/vmm headers"
check host '#include "(module|kvm|vmm)/' "module/kvm/vmm headers (talk to the module through SEAMCALL)"
check host '#include "(module|module_internal|sim|cli)\.h"' "module/vmm headers"
check host '#include "kvm(_uapi|_internal)?\.h"' "kvm headers (the kvm layer sits above the host)"
check kvm '#include "(module|vmm|platform)/' "module/vmm/platform headers (kvm talks to the host only)"
check kvm '#include "(module|module_internal|td|tdvps|sept|sim|cli|td_build|plat_internal)\.h"' "module/vmm headers"
[ $bad = 0 ] && echo "layering: ok"
exit $bad
