#!/usr/bin/env bash
# Times `soc2-operator scan` (the full binary and the offline build) against kube-score v1.20.0
# and against only parsing the same YAML (hack/yamlfloor: the block reader scan tries first, a
# yaml.v3 node tree, and the sigs.k8s.io/yaml round trip; the floor is the fastest of the three),
# as whole processes (wall time from bash's clock, peak RSS from /usr/bin/time -v; see measure),
# on ../shared/corpus and on renamed copies of it grown to about 3k, 12k and 20k objects.
#
#   hack/scan-bench.sh [ROUNDS]        (default 5 rounds; each round runs every tool once per size)
#   IDLE=3 hack/scan-bench.sh [ROUNDS] (every run after 3 s with nothing running: "cold" memory)
#   FORMATS="json sarif" hack/scan-bench.sh [ROUNDS]
#                                      (also times the offline build writing each of these outputs
#                                      on the largest size: -o json, sarif, junit, yaml,
#                                      policyreport or wide; "all" is every one)
#   STREAM=1 hack/scan-bench.sh [ROUNDS]
#                                      (also times the offline build reading the largest size
#                                      as one stream: piped in, as after `helm template`, and
#                                      as one file named by itself; and as one List, as
#                                      `kubectl get -A -o json` and `-o yaml` write a
#                                      cluster's objects)
#
# Back to back (IDLE unset), a run takes memory the run before it has just freed; with IDLE=3
# every run takes memory as a CI job does, after the machine has been idle. The difference is
# large on a virtual machine that hands freed memory back to its host (virtio-balloon free page
# reporting: page_reporting_order=11 on this one's kernel command line, reported about 2 s after
# it is freed): memory the host took back costs a fault in the host on first touch, 1.6-2.3 ms
# per MiB with 2 MiB pages here against 0.07 ms for memory just freed by another process
# (hack/coldmem; README, "Cold memory"). Back to back, the offline build runs right after the
# full binary has freed ~100 MiB of huge pages and gets them warm, while the full binary runs
# after the parse-only floors: the order alone made the full binary about 0.05 s slower at 3k
# (0.216 s against 0.157-0.172 s back to back beside the offline build only). Compare tools
# cold, or within one back-to-back run.
#
# Each figure is the median of the rounds with the minimum and maximum beside it: the machine is
# shared, so compare tools within one run, not across runs. Copies are made in a temporary
# directory: every file of the corpus again, with each object's metadata.name suffixed -cN (so
# that the copies are distinct objects), until the target number of documents is reached.
set -euo pipefail
export LC_NUMERIC=C # $EPOCHREALTIME with a decimal point
cd "$(dirname "$0")/.."

ROUNDS=${1:-5}
CORPUS=${CORPUS:-../shared/corpus}
SIZES=${SIZES:-"3000 12000 20000"}
IDLE=${IDLE:-0} # seconds with nothing running before each timed run (see above)
FORMATS=${FORMATS:-} # output formats to time on the largest size (see above)
STREAM=${STREAM:-0} # 1: time the largest size as one stream too (see above)
[ "$FORMATS" = all ] && FORMATS="table wide json sarif junit yaml policyreport"
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/soc2-operator
KUBE_SCORE=$CACHE/kube-score/kube-score
[ -x /usr/bin/time ] || { echo "scan-bench: /usr/bin/time is needed (Debian: apt-get install time)" >&2; exit 1; }

if [ ! -x "$KUBE_SCORE" ]; then
  echo "scan-bench: installing kube-score v1.20.0 into $CACHE/kube-score" >&2
  GOBIN=$CACHE/kube-score go install github.com/zegl/kube-score/cmd/kube-score@v1.20.0
fi
make build build-offline >/dev/null
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/yamlfloor" ./hack/yamlfloor
BIN=bin/soc2-operator
OFFLINE=bin/offline/soc2-operator # make build-offline: scan, checks and version only

# manifests DIR: the manifest files under DIR (what kube-score is given), sorted.
manifests() { find "$1" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) ! -name 'kustomization.y*ml' | sort; }

mapfile -t FILES < <(manifests "$CORPUS")

# CONCAT: the awk program that writes files as one stream, each after a `---` line, as `helm
# template` and `kustomize build` write them (kube-score's stdin, and STREAM=1).
CONCAT='FNR == 1 { print "---" } { print }'

# docs FILE: the number of YAML documents in FILE (what a copy adds).
docs() { awk 'BEGIN{n=1} /^---/{n++} END{print n}' "$1"; }

# grow DIR TARGET: the corpus (copy 1, as it is), then renamed copies, to about TARGET documents.
grow() {
  local dir=$1 target=$2 n=0 c=0
  while [ "$n" -lt "$target" ]; do
    c=$((c + 1))
    for f in "${FILES[@]}"; do
      [ "$n" -ge "$target" ] && break
      local out=$dir/c$c/${f#"$CORPUS"/}
      mkdir -p "$(dirname "$out")"
      if [ "$c" -eq 1 ]; then
        cp "$f" "$out"
      else
        sed -E "s/^(  name: *[\"']?)([A-Za-z0-9][A-Za-z0-9.-]*)/\1\2-c$c/" "$f" >"$out"
      fi
      n=$((n + $(docs "$f")))
    done
  done
}

DIRS=("$CORPUS")
for s in $SIZES; do
  grow "$TMP/size-$s" "$s"
  DIRS+=("$TMP/size-$s")
done

# measure NAME CMD...: one run; appends "wall_s rss_kb" to $TMP/NAME. The wall time is bash's
# clock (microseconds) around the run: /usr/bin/time -v gives it in hundredths of a second, too
# coarse for runs of 50-200 ms (a floor of 0.06 s against 0.07 s moved a ratio by a sixth). It
# includes starting /usr/bin/time (about a millisecond), the same for every tool.
measure() {
  local name=$1; shift
  [ "$IDLE" = 0 ] || sleep "$IDLE"
  local t0=$EPOCHREALTIME
  /usr/bin/time -v -o "$TMP/time.txt" "$@" >/dev/null 2>"$TMP/stderr.txt" || true
  local t1=$EPOCHREALTIME
  awk -F': ' -v t0="$t0" -v t1="$t1" '/Maximum resident/{r=$2} END{printf "%.4f %d\n", t1-t0, r}' "$TMP/time.txt" >>"$TMP/$name"
}

# summary NAME: median (min-max) of wall seconds and of peak RSS MiB.
summary() {
  sort -n -k1 "$TMP/$1" | awk '{w[NR]=$1} END{printf "%.3f s (%.3f-%.3f)", w[int((NR+1)/2)], w[1], w[NR]}'
  printf ", "
  sort -n -k2 "$TMP/$1" | awk '{r[NR]=$2/1024} END{printf "%.0f MiB (%.0f-%.0f)", r[int((NR+1)/2)], r[1], r[NR]}'
}

if [ "$IDLE" = 0 ]; then echo "Back to back (IDLE=0), medians of $ROUNDS rounds:"; else echo "Cold: each run after ${IDLE} s idle, medians of $ROUNDS rounds:"; fi
printf "| objects | soc2-operator scan | scan, offline build | kube-score 1.20.0 | parse only: block | parse only: v3node | parse only: sigs.k8s.io/yaml | kube-score / scan (offline) | scan / floor (offline) |\n"
printf "|---|---|---|---|---|---|---|---|---|\n"
for d in "${DIRS[@]}"; do
  key=$(echo "$d" | tr '/.' '__')
  objects=$({ "$BIN" scan -f "$d" -o json --fail-on none 2>/dev/null || true; } | jq .summary.objects)
  mapfile -t files < <(manifests "$d")
  # kube-score takes its files as arguments. Past the kernel's limit on a command line (ARG_MAX,
  # 2 MiB here, for the arguments, their pointers and the environment: about 18,000 files of
  # these copies) the command would not start ("Argument list too long") and the run would time
  # nothing: kube-score then reads the same files as one stream on stdin (`kube-score score -`,
  # as after `helm template`), each file after a `---`. At 3k both ways score the same objects
  # with the same findings, in about the same time (3.14-3.24 s from arguments, 2.92-3.12 s
  # from stdin, 3 alternated runs).
  ks=("$KUBE_SCORE" score "${files[@]}")
  ksvia=""
  argbytes=$(($(printf '%s\0' "$KUBE_SCORE" score "${files[@]}" | wc -c) + 8 * (${#files[@]} + 3) + $(env | wc -c)))
  if [ "$argbytes" -gt $(($(getconf ARG_MAX) - 65536)) ]; then
    printf '%s\0' "${files[@]}" >"$TMP/files$key"
    ks=(sh -c 'xargs -0 awk "$2" <"$1" | "$0" score -' "$KUBE_SCORE" "$TMP/files$key" "$CONCAT")
    ksvia=" (stdin)"
  fi
  for _ in $(seq "$ROUNDS"); do
    measure "scan$key" "$BIN" scan -f "$d" --fail-on none
    measure "off$key" "$OFFLINE" scan -f "$d" --fail-on none
    measure "ks$key" "${ks[@]}"
    measure "block$key" "$TMP/yamlfloor" -mode block "$d"
    measure "v3$key" "$TMP/yamlfloor" -mode v3node "$d"
    measure "sigs$key" "$TMP/yamlfloor" -mode sigs "$d"
  done
  med() { sort -n -k1 "$TMP/$1" | awk '{w[NR]=$1} END{print w[int((NR+1)/2)]}'; }
  floor=$(printf "%s\n%s\n%s\n" "$(med "block$key")" "$(med "v3$key")" "$(med "sigs$key")" | sort -n | head -1)
  printf "| %s | %s | %s | %s | %s | %s | %s | %.1f (%.1f) | %.2f (%.2f) |\n" "$objects" "$(summary "scan$key")" "$(summary "off$key")" "$(summary "ks$key")$ksvia" \
    "$(summary "block$key")" "$(summary "v3$key")" "$(summary "sigs$key")" \
    "$(echo "$(med "ks$key") / $(med "scan$key")" | bc -l)" "$(echo "$(med "ks$key") / $(med "off$key")" | bc -l)" \
    "$(echo "$(med "scan$key") / $floor" | bc -l)" "$(echo "$(med "off$key") / $floor" | bc -l)"
done

# The outputs, on the largest size: each is written as it is made (README, How fast), so that
# the time and memory of a scan stay near those of the summary table whatever the format.
if [ -n "$FORMATS" ]; then
  d=${DIRS[${#DIRS[@]}-1]}
  echo
  echo "Outputs of the offline build on $d, medians of $ROUNDS rounds:"
  printf "| -o | wall | peak RSS | output |\n|---|---|---|---|\n"
  for f in $FORMATS; do
    for _ in $(seq "$ROUNDS"); do
      measure "fmt$f" "$OFFLINE" scan -f "$d" --fail-on none -o "$f"
    done
    size=$({ "$OFFLINE" scan -f "$d" --fail-on none -o "$f" 2>/dev/null || true; } | wc -c)
    printf "| %s | %s | %.2f MB |\n" "$f" "$(summary "fmt$f" | sed 's/, / | /')" "$(echo "$size / 1000000" | bc -l)"
  done
fi

# timeStream KEY FILE TITLE: the offline build reading FILE piped in and named, ROUNDS times.
timeStream() {
  local key=$1 file=$2 title=$3
  echo
  echo "$title ($(($(wc -c <"$file") / 1000000)) MB), offline build, medians of $ROUNDS rounds:"
  printf "| read | wall | peak RSS |\n|---|---|---|\n"
  for _ in $(seq "$ROUNDS"); do
    measure "${key}piped" sh -c 'cat "$1" | "$0" scan - --fail-on none' "$OFFLINE" "$file"
    measure "${key}named" "$OFFLINE" scan -f "$file" --fail-on none
  done
  printf "| piped in (cat FILE \\| scan -) | %s |\n" "$(summary "${key}piped" | sed 's/, / | /')"
  printf "| named (scan -f FILE) | %s |\n" "$(summary "${key}named" | sed 's/, / | /')"
}

# One stream, on the largest size: every file after a `---` line, as `helm template` or
# `kustomize build` writes them. Standard input and a file of 1 MiB or more named by itself are
# read a chunk at a time and their documents decoded on every core as they are read (README,
# How fast).
if [ "$STREAM" = 1 ]; then
  d=${DIRS[${#DIRS[@]}-1]}
  stream=$TMP/stream.yaml
  manifests "$d" | tr '\n' '\0' | xargs -0 awk "$CONCAT" >"$stream"
  timeStream stream "$stream" "$d as one stream"
  # The same objects as `kubectl get -A -o json` and `-o yaml` write a cluster's: one List
  # (hack/kubectllist), read item by item as it arrives (readJSONStream, yamlList).
  go run ./hack/kubectllist "$d" >"$TMP/list.json"
  timeStream list "$TMP/list.json" "$d as one kubectl List of JSON"
  go run ./hack/kubectllist -yaml "$d" >"$TMP/list.yaml"
  timeStream yamllist "$TMP/list.yaml" "$d as one kubectl List of YAML"
fi
