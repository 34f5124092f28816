#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages named on the command line when missing: as root through apt-get
# (after one 'apt-get update', since fresh machines have empty package lists); otherwise print
# the exact command to run and fail.
set -u
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "cutover: missing Debian packages:$missing" >&2
	echo "cutover: run as root: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "cutover: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2 || exit 1
