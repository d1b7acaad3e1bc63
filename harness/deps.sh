#!/usr/bin/env bash
# deps.sh PACKAGE... - install the Debian packages that are missing.
#
# As root, or with passwordless sudo, it runs apt-get. Otherwise it prints
# the exact command to run and fails, so `make` never half-works.
set -euo pipefail

if ! command -v dpkg-query >/dev/null; then
    for tool in bats gnuplot valgrind; do
        command -v "$tool" >/dev/null || {
            echo "deps: not a Debian system and '$tool' is missing;" \
                 "install: $*" >&2
            exit 1
        }
    done
    exit 0
fi

missing=()
for pkg in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "deps: missing packages; run this, then make again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
echo "deps: installed ${missing[*]}"
