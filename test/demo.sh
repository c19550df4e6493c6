#!/usr/bin/env bash
# make demo: a real migration on embedded defaults, no cloud account needed.
# It generates a sample tree, starts the bundled US3 emulator on loopback,
# migrates the tree into it through a SQLite catalog, verifies every object,
# then runs again to show that nothing is copied twice.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${FERRY_DEMO_DIR:-$(mktemp -d -t ferry-demo.XXXXXX)}
mkdir -p "$work"
src=$work/source
echo "demo workspace: $work"

if [ ! -d "$src" ]; then
  echo "generating sample tree (2,000 small files, 3 large ones, odd names) in $src"
  mkdir -p "$src/photos/2024" "$src/logs" "$src/odd names/ünïcødé" "$src/big"
  for i in $(seq -w 1 1500); do head -c $((RANDOM % 16384 + 1)) /dev/urandom > "$src/photos/2024/img_$i.jpg"; done
  for i in $(seq -w 1 500); do echo "log line $i $(date)" > "$src/logs/app-$i.log"; done
  : > "$src/odd names/empty file"
  echo "percent" > "$src/odd names/100% done + #1.txt"
  echo "unicode" > "$src/odd names/ünïcødé/日本語.txt"
  for n in 1 2 3; do head -c $((40 << 20)) /dev/urandom > "$src/big/video-$n.bin"; done
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export US3_PUBLIC_KEY=demo-public-key US3_PRIVATE_KEY=demo-private-key US3_ENDPOINT=http://127.0.0.1:$port
./bin/us3emu --addr 127.0.0.1:$port --root "$work/us3" --bucket demo > "$work/us3emu.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/_us3emu/stats" >/dev/null 2>&1 && break; sleep 0.1; done

cat="$work/catalog.db"
echo; echo "== ferry migrate run --from $src --to us3://demo/backup --catalog $cat"
./bin/ferry migrate run --from "$src" --to us3://demo/backup --catalog "$cat"
echo; echo "== ferry catalog stats $cat"
./bin/ferry catalog stats "$cat"
echo; echo "== second run: nothing changed, nothing copied"
./bin/ferry migrate run --from "$src" --to us3://demo/backup --catalog "$cat"
echo; echo "== ferry ls us3://demo/backup"
./bin/ferry ls us3://demo/backup
if [ "$(id -u)" = 0 ] || command -v fusermount3 >/dev/null; then
  mnt=$work/mnt; mkdir -p "$mnt"
  echo; echo "== ferry mount us3://demo/backup $mnt, then diff -r against the source"
  ./bin/ferry mount us3://demo/backup "$mnt" &
  fuse=$!
  for _ in $(seq 100); do mountpoint -q "$mnt" && break; sleep 0.1; done
  if diff -r "$src" "$mnt"; then echo "every byte at the destination equals the source"; else echo "DIFFERENCES FOUND"; fi
  kill -TERM $fuse; wait $fuse || true
fi
echo; echo "demo done: the emulator kept the objects under $work/us3"
