#!/usr/bin/env bash
# Cargo runner: qemu-run.sh MACHINE CPU ELF — runs ELF under QEMU with semihosting, decodes its
# defmt output with defmt-print and exits with the firmware's exit code (124 on a hang).
set -uo pipefail
machine=$1 cpu=$2 elf=$3
timeout 20 qemu-system-arm -machine "$machine" -cpu "$cpu" -nographic -monitor none \
  -serial none -semihosting-config enable=on,target=native -kernel "$elf" </dev/null \
  | defmt-print -e "$elf"
exit "${PIPESTATUS[0]}"
