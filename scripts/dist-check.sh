#!/bin/sh
# make dist-check: every artifact in dist/ installed into a clean place and proven there: its
# checksum, every tool's --version, and the demo's pipeline (parse -> map -> validate -> batch
# -> post into spira-mock, reached by the host name localhost) storing its runs; the static
# binary alone in an empty chroot (no /etc, no libc). What could not be checked is named on
# stderr, and the script says so at the end.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
tmp=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
RUN=
MOCKCMD=
tools="spira-parse spira-map spira-validate spira-batch spira-post spira-inspect spira-ids spira-cases spira-mock"
checked=0
unchecked=""
fail() { echo "make dist-check: FAILED: $*" >&2; exit 1; }
skip() { echo "make dist-check: NOT checked: $*" >&2; unchecked="$unchecked
  $*"; }
ok() { echo "make dist-check: ok: $*" >&2; checked=$((checked + 1)); }

# spira-mock from $1 on a free loopback port; sets $port.
start_mock() {
  "$@" --listen 127.0.0.1:0 --test-cases 1-2000 --check-answers > "$tmp/mock.out" 2>&1 &
  mock_pid=$!
  i=0
  until grep -q '^listening on ' "$tmp/mock.out" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -gt 100 ] && fail "spira-mock did not start: $(cat "$tmp/mock.out")"
    sleep 0.05
  done
  port=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$tmp/mock.out")
}

stop_mock() { kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; mock_pid=; }

# A Unix path as cmd.exe under wine names it (wine maps / to drive Z:).
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }

# Under wine, the Windows binary in folder $1 gets a stand-in for bcryptprimitives.dll, which
# wine 8 lacks (packaging/wine/bcryptprimitives.c; never shipped). Fails when it cannot be built.
wine_ready() {
  [ -f "$tmp/bcryptprimitives.dll" ] || x86_64-w64-mingw32-gcc -O2 -shared -o "$tmp/bcryptprimitives.dll" \
    packaging/wine/bcryptprimitives.c -ladvapi32 || fail "the stand-in bcryptprimitives.dll for wine"
  cp "$tmp/bcryptprimitives.dll" "$1/"
}
can_wine() { command -v wine > /dev/null && command -v x86_64-w64-mingw32-gcc > /dev/null; }
export WINEDEBUG=-all

# Every tool of folder $2 answers --version with its name, under wine: $1 names the copy.
win_versions() {
  v=$(wine "$2/spira-pipe.exe" --version) || fail "$1: spira-pipe.exe --version"
  case "$v" in "spira-pipe "*) ;; *) fail "$1: spira-pipe.exe --version said: $v" ;; esac
  for t in $tools; do
    v=$(wine cmd /c "$(winpath "$2/$t.cmd")" --version) || fail "$1: $t.cmd --version"
    case "$v" in "$t "*) ;; *) fail "$1: $t.cmd --version said: $v" ;; esac
  done
}

# The demo's pipeline with the tools of $BIN (each by its name, or `spira-pipe TOOL` when
# $MULTI is set) into a fresh spira-mock; every result must come back as a created line.
tool() {
  # shellcheck disable=SC2086
  if [ -n "${WIN:-}" ]; then
    if [ -n "$MULTI" ]; then wine "$BIN/spira-pipe.exe" "$@"; else t=$1; shift; wine cmd /c "$(winpath "$BIN/spira-$t.cmd")" "$@"; fi
  elif [ -n "$MULTI" ]; then $RUN "$BIN/spira-pipe" "$@"; else t=$1; shift; $RUN "$BIN/spira-$t" "$@"; fi
}
pipeline() {
  what=$1
  # shellcheck disable=SC2086
  start_mock ${MOCKCMD:-$BIN/spira-mock}
  export SPIRA_URL="http://localhost:$port" SPIRA_USERNAME=demo SPIRA_PROJECT_ID=1
  export SPIRA_API_KEY='{00000000-DEMO-KEY0-0000-000000000000}'
  tool parse "$REPORTS" > "$tmp/results.jsonl"
  tool map --default-test-case 1 "$tmp/results.jsonl" > "$tmp/runs.jsonl"
  tool validate "$tmp/runs.jsonl" | tool batch --size 7 > "$tmp/batches.jsonl"
  tool post "$tmp/batches.jsonl" > "$tmp/created.jsonl" 2> "$tmp/post.err" || fail "$what: spira-post: $(cat "$tmp/post.err")"
  n=$(wc -l < "$tmp/results.jsonl"); c=$(wc -l < "$tmp/created.jsonl")
  [ "$n" -gt 0 ] && [ "$n" = "$c" ] || fail "$what: $n results but $c runs stored"
  stop_mock
  ok "$what: the pipeline stored $c runs through http://localhost"
}

REPORTS="$root/fixtures/demo/TEST-com.example.CalculatorTest.xml"
archives=$(ls dist/*.tar.gz 2>/dev/null || true)
[ -n "$archives" ] || skip "no archive in dist/ (make dist)"
for a in $archives; do
  name=$(basename "$a" .tar.gz)
  (cd dist && sha256sum -c "$name.tar.gz.sha256" > /dev/null) || fail "$a: checksum"
  size=$(wc -c < "$a"); [ "$size" -le 15728640 ] || fail "$a: $size bytes, over 15 MB"
  ok "$a: checksum; $((size / 1024)) KiB"
  mkdir -p "$tmp/$name" && tar -xzf "$a" -C "$tmp/$name"
  dir="$tmp/$name/$name"
  for f in README.md LICENSE man/spira-post.1 completions/bash/spira-parse bin/spira-pipe; do
    [ -e "$dir/$f" ] || fail "$a: $f missing"
  done
  case "$name" in
    *x86_64-unknown-linux-*) RUN= ;;
    *aarch64-unknown-linux-*)
      if command -v qemu-aarch64 > /dev/null; then RUN=qemu-aarch64; else
        skip "$a: an aarch64 build: qemu-user is not installed (Debian: apt-get install qemu-user)"; continue; fi ;;
    *) skip "$a: built for another machine"; continue ;;
  esac
  for t in spira-pipe $tools; do
    # shellcheck disable=SC2086
    v=$($RUN "$dir/bin/$t" --version) || fail "$a: $t --version"
    case "$v" in "$t "*) ;; *) fail "$a: $t --version said: $v" ;; esac
  done
  # shellcheck disable=SC2086
  ok "$a: every tool answers --version ($($RUN "$dir/bin/spira-pipe" --version))${RUN:+, under $RUN}"
  if [ -n "$RUN" ]; then
    MOCKCMD="$RUN $dir/bin/spira-mock"
    BIN="$dir/bin" MULTI= pipeline "$a (each tool, under $RUN)"
    MOCKCMD= RUN=
    continue
  fi
  if readelf -d "$dir/bin/spira-pipe" 2>/dev/null | grep -q NEEDED; then
    fail "$a: spira-pipe links a shared library: $(readelf -d "$dir/bin/spira-pipe" | grep NEEDED)"
  fi
  ok "$a: no shared library needed (readelf -d lists no NEEDED)"
  MOCKCMD=
  BIN="$dir/bin" MULTI= pipeline "$a (each tool)"
  BIN="$dir/bin" MULTI=1 pipeline "$a (spira-pipe TOOL)"
  # The static binary alone in an empty directory, under chroot: no /etc, no libc, no shell.
  if [ "$(id -u)" = 0 ] && command -v chroot > /dev/null; then
    jail="$tmp/jail"
    mkdir -p "$jail" && cp "$dir/bin/spira-pipe" "$jail/" && cp "$REPORTS" "$jail/report.xml"
    start_mock "$dir/bin/spira-mock"
    export SPIRA_URL="http://localhost:$port"
    chroot "$jail" /spira-pipe parse /report.xml > "$tmp/results.jsonl"
    chroot "$jail" /spira-pipe map --default-test-case 1 < "$tmp/results.jsonl" > "$tmp/runs.jsonl"
    chroot "$jail" /spira-pipe batch < "$tmp/runs.jsonl" > "$tmp/batches.jsonl"
    chroot "$jail" /spira-pipe post < "$tmp/batches.jsonl" > "$tmp/created.jsonl" 2> "$tmp/post.err" \
      || fail "chroot: spira-post: $(cat "$tmp/post.err")"
    n=$(wc -l < "$tmp/results.jsonl"); c=$(wc -l < "$tmp/created.jsonl")
    [ "$n" -gt 0 ] && [ "$n" = "$c" ] || fail "chroot: $n results but $c runs stored"
    stop_mock
    ok "$a: spira-pipe alone in an empty chroot stored $c runs through http://localhost"
  else
    skip "$a: the empty chroot (needs root and chroot)"
  fi
done
# The Windows archive: its contents, and under wine every tool by its .cmd launcher and the
# pipeline into spira-mock (itself the Windows build, under wine), by each launcher and by
# spira-pipe.exe TOOL.
zips=$(ls dist/*-windows-*.zip 2>/dev/null || true)
[ -n "$zips" ] || skip "no Windows archive in dist/ (DIST_TARGETS=x86_64-pc-windows-gnu make dist)"
for a in $zips; do
  name=$(basename "$a" .zip)
  (cd dist && sha256sum -c "$name.zip.sha256" > /dev/null) || fail "$a: checksum"
  size=$(wc -c < "$a"); [ "$size" -le 15728640 ] || fail "$a: $size bytes, over 15 MB"
  ok "$a: checksum; $((size / 1024)) KiB"
  mkdir -p "$tmp/$name" && unzip -q "$a" -d "$tmp/$name"
  dir="$tmp/$name/$name"
  for f in README.md LICENSE man/spira-post.1 completions/bash/spira-parse bin/spira-pipe.exe bin/spira-parse.cmd bin/spira-parse; do
    [ -e "$dir/$f" ] || fail "$a: $f missing"
  done
  if command -v x86_64-w64-mingw32-objdump > /dev/null; then
    dlls=$(x86_64-w64-mingw32-objdump -p "$dir/bin/spira-pipe.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
    for d in $dlls; do
      case "$d" in
        kernel32.dll | ntdll.dll | advapi32.dll | ws2_32.dll | msvcrt.dll | bcrypt.dll | bcryptprimitives.dll | userenv.dll | api-ms-win-*) ;;
        *) fail "$a: spira-pipe.exe needs $d, which Windows does not ship" ;;
      esac
    done
    ok "$a: spira-pipe.exe needs only DLLs Windows ships ($(echo $dlls | tr ' ' ','))"
  else
    skip "$a: its DLL imports (needs x86_64-w64-mingw32-objdump)"
  fi
  if ! can_wine; then
    skip "$a: run under wine (needs wine and mingw-w64; Debian: apt-get install wine64 gcc-mingw-w64-x86-64)"; continue
  fi
  wine_ready "$dir/bin"
  win_versions "$a" "$dir/bin"
  ok "$a: under wine, spira-pipe.exe and every tool's .cmd launcher answer --version ($(wine "$dir/bin/spira-pipe.exe" --version))"
  MOCKCMD="wine $dir/bin/spira-pipe.exe mock"
  WIN=1 BIN="$dir/bin" MULTI= pipeline "$a (each tool's .cmd, under wine)"
  WIN=1 BIN="$dir/bin" MULTI=1 pipeline "$a (spira-pipe.exe TOOL, under wine)"
  MOCKCMD=
done
wheels=$(ls dist/*.whl 2>/dev/null || true)
[ -n "$wheels" ] || skip "no Python wheel in dist/ (make dist)"
for w in $wheels; do
  case "$w" in
    *win_amd64*)
      # pip installs it for Windows into a folder (--platform), and its tools run under wine.
      wt="$tmp/wheel-win"
      rm -rf "$wt" && python3 -m pip install -q --disable-pip-version-check --target "$wt" --platform win_amd64 \
        --only-binary=:all: --no-index --no-deps "$w" 2> "$tmp/pip.err" || fail "$w: pip install --platform win_amd64: $(cat "$tmp/pip.err")"
      [ -f "$wt/bin/spira-pipe.exe" ] && [ -f "$wt/bin/spira-post.cmd" ] || fail "$w: no spira-pipe.exe and launchers in its scripts"
      if ! can_wine; then skip "$w: run under wine (needs wine and mingw-w64)"; continue; fi
      wine_ready "$wt/bin"
      win_versions "$w" "$wt/bin"
      ok "$w: pip installs it for win_amd64; under wine every tool answers --version"
      MOCKCMD="wine $wt/bin/spira-pipe.exe mock"
      WIN=1 BIN="$wt/bin" MULTI= pipeline "$w (each tool's .cmd from its scripts, under wine)"
      MOCKCMD=
      continue ;;
    *x86_64*) ;;
    *) skip "$w: built for another machine"; continue ;;
  esac
  venv="$tmp/venv"
  rm -rf "$venv" && python3 -m venv "$venv" || fail "python3 -m venv"
  "$venv/bin/pip" install -q --no-index "$w" || fail "$w: pip install --no-index"
  for t in spira-pipe $tools; do
    v=$("$venv/bin/$t" --version) || fail "$w: $t --version"
    case "$v" in "$t "*) ;; *) fail "$w: $t --version said: $v" ;; esac
  done
  ok "$w: installed into a fresh venv with pip --no-index; every tool answers --version"
  BIN="$venv/bin" MULTI= pipeline "$w (each tool, from the venv)"
done
main=$(ls dist/npm/spira-pipe-[0-9]*.tgz 2>/dev/null | head -n 1 || true)
platform=$(ls dist/npm/spira-pipe-linux-x64-*.tgz 2>/dev/null | head -n 1 || true)
if [ -n "$main" ] && [ -n "$platform" ] && command -v npm > /dev/null; then
  app="$tmp/npm-app"
  mkdir -p "$app" && (cd "$app" && echo '{"name": "check", "version": "1.0.0", "private": true}' > package.json \
    && npm install --offline --no-audit --no-fund --silent "$root/$platform" "$root/$main" > "$tmp/npm.log" 2>&1) \
    || fail "npm install --offline: $(cat "$tmp/npm.log")"
  for t in spira-pipe $tools; do
    v=$("$app/node_modules/.bin/$t" --version) || fail "npm: $t --version"
    case "$v" in "$t "*) ;; *) fail "npm: $t --version said: $v" ;; esac
  done
  ok "$main with $platform: installed offline into an empty folder; every tool answers --version"
  MOCKCMD="$app/node_modules/@spira-pipe/linux-x64/bin/spira-pipe mock"
  BIN="$app/node_modules/.bin" MULTI= pipeline "$main (each tool, from node_modules/.bin)"
  MOCKCMD=
else
  skip "the npm packages (need dist/npm/spira-pipe-*.tgz, its linux-x64 package, and npm)"
fi
# The Windows npm package: npm refuses it on Linux (its os and cpu are win32 and x64), and
# forced into a folder, its binary runs under wine.
winpkg=$(ls dist/npm/spira-pipe-win32-x64-*.tgz 2>/dev/null | head -n 1 || true)
if [ -n "$main" ] && [ -n "$winpkg" ] && command -v npm > /dev/null; then
  app="$tmp/npm-win"
  mkdir -p "$app" && echo '{"name": "check", "version": "1.0.0", "private": true}' > "$app/package.json"
  if (cd "$app" && npm install --offline --no-audit --no-fund "$root/$winpkg" > "$tmp/npm.log" 2>&1); then
    fail "npm installed $winpkg on Linux: its os and cpu do not hold it back"
  fi
  grep -q EBADPLATFORM "$tmp/npm.log" || fail "npm install $winpkg on Linux: $(cat "$tmp/npm.log")"
  (cd "$app" && npm install --offline --no-audit --no-fund --silent --force "$root/$winpkg" "$root/$main" > "$tmp/npm.log" 2>&1) \
    || fail "npm install --offline --force: $(cat "$tmp/npm.log")"
  exe="$app/node_modules/@spira-pipe/win32-x64/bin/spira-pipe.exe"
  [ -f "$exe" ] || fail "npm --os=win32: no $exe"
  if can_wine; then
    wine_ready "$(dirname "$exe")"
    v=$(wine "$exe" --version) || fail "npm win32: spira-pipe.exe --version"
    case "$v" in "spira-pipe "*) ;; *) fail "npm win32: spira-pipe.exe --version said: $v" ;; esac
    ok "$winpkg: npm refuses it on Linux (EBADPLATFORM); forced in, its spira-pipe.exe runs under wine ($v)"
  else
    skip "$winpkg: run under wine (needs wine and mingw-w64)"
  fi
elif [ -n "$winpkg" ]; then
  skip "$winpkg: needs the main npm package and npm"
fi
# The action and the workflows against GitHub's schemas (check-jsonschema's built-in ones), and
# the action's steps run by scripts/action-harness.py with the archive as its input.
venv=target/dist-venv
[ -x "$venv/bin/check-jsonschema" ] || { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; "$venv/bin/pip" install -q check-jsonschema > /dev/null 2>&1; } || true
if [ -x "$venv/bin/check-jsonschema" ]; then
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml > /dev/null || fail "action.yml does not match GitHub's schema"
  "$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml > /dev/null || fail "a workflow does not match GitHub's schema"
  ok "action.yml and .github/workflows/*.yml match GitHub's schemas (check-jsonschema)"
  a=$(ls dist/*x86_64-unknown-linux-*.tar.gz 2>/dev/null | head -n 1 || true)
  if [ -n "$a" ]; then
    INPUT_ARCHIVE="$root/$a" "$venv/bin/python" scripts/action-harness.py . > "$tmp/action.out" || fail "the action's steps"
    added=$(sed -n 2p "$tmp/action.out")
    case "$(sed -n 1p "$tmp/action.out")" in *'"version": "spira-pipe '*) ;; *) fail "the action's outputs: $(cat "$tmp/action.out")" ;; esac
    [ -x "$added/spira-parse" ] || fail "the action put $added on PATH, without spira-parse in it"
    MOCKCMD=
    BIN="$added" MULTI= pipeline "the action (archive input, tools from the PATH it added)"
  else
    skip "the action's steps: no archive to install from"
  fi
else
  skip "action.yml and the workflows: check-jsonschema could not be installed"
fi
# The image: built with podman, saved, its layer unpacked and its binary run from there (podman
# cannot run containers here), in a chroot of the layer: no shell, no libc, no /etc.
if command -v podman > /dev/null && [ -x target/image/bin/spira-pipe ] && [ "$(id -u)" = 0 ]; then
  podman build -q -f Containerfile -t spira-pipe:dist-check target/image > /dev/null || fail "podman build"
  img="$tmp/image" && mkdir -p "$img/rootfs"
  podman save -q --format docker-archive -o "$img/image.tar" spira-pipe:dist-check || fail "podman save"
  podman rmi -f spira-pipe:dist-check > /dev/null 2>&1 || true
  (cd "$img" && tar -xf image.tar)
  for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$img/manifest.json"); do
    tar -xf "$img/$layer" -C "$img/rootfs"
  done
  entry=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))[0]; print(" ".join(json.load(open(sys.argv[2] + "/" + m["Config"]))["config"]["Entrypoint"]))' "$img/manifest.json" "$img")
  [ "$entry" = /usr/local/bin/spira-pipe ] || fail "the image's entrypoint is '$entry'"
  [ -z "$(ls "$img/rootfs" | grep -v '^usr$')" ] || fail "the image holds more than /usr/local/bin: $(ls "$img/rootfs")"
  for t in spira-pipe $tools; do
    v=$(chroot "$img/rootfs" "/usr/local/bin/$t" --version) || fail "image: $t --version"
    case "$v" in "$t "*) ;; *) fail "image: $t --version said: $v" ;; esac
  done
  cp "$REPORTS" "$img/rootfs/report.xml"
  start_mock chroot "$img/rootfs" /usr/local/bin/spira-mock
  export SPIRA_URL="http://localhost:$port"
  chroot "$img/rootfs" /usr/local/bin/spira-parse /report.xml > "$tmp/results.jsonl"
  chroot "$img/rootfs" /usr/local/bin/spira-map --default-test-case 1 < "$tmp/results.jsonl" \
    | chroot "$img/rootfs" /usr/local/bin/spira-batch | chroot "$img/rootfs" /usr/local/bin/spira-post > "$tmp/created.jsonl" \
    || fail "image: the pipeline"
  stop_mock
  [ "$(wc -l < "$tmp/created.jsonl")" = "$(wc -l < "$tmp/results.jsonl")" ] || fail "image: not every run stored"
  ok "the image (podman build FROM scratch): only /usr/local/bin, entrypoint spira-pipe; every tool and the pipeline run from its unpacked layer"
elif command -v podman > /dev/null; then
  skip "the container image: needs make dist's target/image and root"
else
  skip "the container image (Containerfile): podman is not installed here (Debian: apt-get install podman)"
fi
echo "make dist-check: $checked checks passed"
if [ -n "$unchecked" ]; then echo "make dist-check: NOT checked:$unchecked" >&2; fi
