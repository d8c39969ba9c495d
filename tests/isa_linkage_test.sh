#!/bin/sh
# The files under kernels/x86 and kernels/arm are each built with their own ISA flags (kernels/CMakeLists.txt).
# A function they define with vague linkage (an inline function or template instance not inlined: nm types W, V
# and u) is merged by the linker with other files' copies, and one copy serves every caller: an AVX-512 build of
# a helper could then run on a CPU that has AVX2 alone. Their shared helpers have internal linkage for this
# reason; this test fails, naming them, if any such definition is in this build's ISA objects.
# usage: isa_linkage_test.sh NM OBJECT...
nm=$1
shift
found=0
for object in "$@"; do
  case $object in */x86/* | */arm/*) ;; *) continue ;; esac
  # DW.ref.__gxx_personality_v0: the exception personality's address (data, no instructions).
  merged=$("$nm" -C --defined-only "$object" | awk '$2 ~ /^[WVu]$/' | grep -v ' DW\.ref\.__gxx_personality_v0$')
  if [ -n "$merged" ]; then
    echo "$object defines symbols the linker merges across files:"
    echo "$merged" | sed 's/^/  /'
    found=1
  fi
  checked=$((checked + 1))
done
echo "${checked:-0} ISA object files checked"
[ "${checked:-0}" -gt 0 ] || { echo "no ISA object files given"; exit 1; }
exit $found
