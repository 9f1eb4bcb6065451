#!/usr/bin/env bash
# exports_only_pinset.sh - the shared library exports only the public API
# (STYLE.md sections 1 and 9): every defined dynamic symbol is pinset_*, and
# none is an internal pinset__* one. The linker's own markers (_init, _fini,
# _edata, _end, __bss_start) are not symbols of ours and are ignored.
set -u
lib=${PINSET_LIB_SHARED:?PINSET_LIB_SHARED: the shared libpinset.so}
[ -f "$lib" ] || { echo "FAIL: $lib not found"; exit 1; }

syms=$(nm -D --defined-only "$lib" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || { echo "FAIL: nm -D shows no defined symbol in $lib"; exit 1; }
grep -qx 'pinset_version' <<<"$syms" || { echo "FAIL: pinset_version is not exported"; exit 1; }

bad=$(grep -vE '^pinset_[a-z0-9]' <<<"$syms" | grep -vxE '_init|_fini|_edata|_end|__bss_start' || true)
if [ -n "$bad" ]; then
    echo "FAIL: $(basename "$lib") exports symbols outside the public API:"
    echo "$bad"
    echo "(internal functions are pinset__* and the build uses -fvisibility=hidden;"
    echo " only declarations marked PINSET_API may be exported)"
    exit 1
fi
echo "ok: $(wc -l <<<"$syms") exported symbols, all pinset_*"
