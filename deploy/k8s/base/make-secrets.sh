#!/bin/sh
# make-secrets.sh writes the files the base's secretGenerator reads into
# secrets/ (next to this script), mode 0600, and never overwrites one that
# exists: random admin, cluster and metrics tokens and the master's secret
# key (32 random bytes, base64), which encrypts job credentials in its
# database. Keep a copy of secret-key: without it the database's stored
# credentials cannot be read.
set -eu
dir=$(dirname "$0")/secrets
mkdir -p "$dir"
umask 077
for name in admin-token cluster-token metrics-token; do
  [ -e "$dir/$name" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$dir/$name"
done
[ -e "$dir/secret-key" ] || head -c 32 /dev/urandom | base64 > "$dir/secret-key"
echo "secrets in $dir"
