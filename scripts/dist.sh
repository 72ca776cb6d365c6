#!/bin/sh
# make dist: the release archives a Linux machine can build, into dist/:
#   spira-pipe-VERSION-TARGET.tar.gz and its .sha256, for each of $DIST_TARGETS (default: the
#   native static musl target), holding bin/ (spira-pipe, static and stripped, and the nine
#   tools as hard links to it: called by a tool's name it is that tool, so the archive holds
#   one binary), README.md, LICENSE, man/ and completions/;
#   for Windows (x86_64-pc-windows-gnu) spira-pipe-VERSION-TARGET.zip: bin/spira-pipe.exe, and
#   per tool a .cmd launcher (cmd, PowerShell) and a sh launcher (Git Bash) of it;
#   the Python wheel of each target (maturin, pyproject.toml), tagged manylinux2014 and
#   musllinux_1_1 on Linux, win_amd64 on Windows: spira-pipe, and the nine as launchers of it;
#   the npm packages (dist/npm/): spira-pipe (launchers in JavaScript) and one platform package
#   per target holding the binary, picked by npm through optionalDependencies, os and cpu.
# What a target needs is installed here (rustup's target, Debian's musl-tools or mingw-w64);
# what cannot be had stops the script with a message saying so. An archive over 15 MB stops it
# too.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
targets=${DIST_TARGETS:-x86_64-unknown-linux-musl}
tools="spira-parse spira-map spira-validate spira-batch spira-post spira-inspect spira-ids spira-cases spira-mock"
need() { echo "make dist: $1" >&2; exit 2; }
# launchers DIR unix|windows: a launcher per tool in DIR that runs spira-pipe (beside it) as that
# tool: a sh script for Unix (and Git Bash), and for Windows a .cmd (cmd, PowerShell) as well.
launchers() {
  for b in $tools; do
    sub=${b#spira-}
    case "$2" in windows) bin=spira-pipe.exe ;; *) bin=spira-pipe ;; esac
    printf '#!/bin/sh\n# %s: spira-pipe under this name.\nexec "$(dirname "$0")/%s" %s "$@"\n' "$b" "$bin" "$sub" > "$1/$b"
    chmod +x "$1/$b"
    if [ "$2" = windows ]; then
      printf '@echo off\r\nrem %s: spira-pipe under this name.\r\n"%%~dp0%s" %s %%*\r\nexit /b %%ERRORLEVEL%%\r\n' "$b" "$bin" "$sub" > "$1/$b.cmd"
    fi
  done
}
mkdir -p dist
for t in $targets; do
  rustup target list --installed 2>/dev/null | grep -qx "$t" || rustup target add "$t" \
    || need "the Rust target $t cannot be installed (rustup target add $t)"
  case "$t" in
    *-linux-musl)
      command -v musl-gcc >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq musl-tools >/dev/null 2>&1 || true; }
      command -v musl-gcc >/dev/null 2>&1 || need "musl-gcc is needed for $t (Debian: apt-get install musl-tools)" ;;
    x86_64-pc-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1; apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null 2>&1 || true; }
      command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need "x86_64-w64-mingw32-gcc is needed for $t (Debian: apt-get install gcc-mingw-w64-x86-64)" ;;
  esac
  echo "== $t: cargo build --release"
  case "$t" in
    x86_64-unknown-linux-* | x86_64-pc-windows-gnu)
      cargo build --release --locked --target "$t" --no-default-features --bin spira-pipe ;;
    *)
      # Another machine's target: zig is the C cross compiler (mimalloc, ring).
      venv=target/dist-venv
      [ -x "$venv/bin/cargo-zigbuild" ] || { [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"; "$venv/bin/pip" install -q cargo-zigbuild; } \
        || need "cargo-zigbuild cannot be installed from PyPI (pip install cargo-zigbuild)"
      PATH="$root/$venv/bin:$PATH" "$venv/bin/cargo-zigbuild" zigbuild --release --locked --target "$t" --no-default-features --bin spira-pipe ;;
  esac
  stage="dist/spira-pipe-$version-$t"
  rm -rf "$stage" && mkdir -p "$stage/bin"
  # Another machine's binaries with its binutils' strip (Debian: binutils-aarch64-linux-gnu).
  strip=strip exe=spira-pipe
  case "$t" in
    aarch64-*) strip=aarch64-linux-gnu-strip
      command -v "$strip" > /dev/null || { apt-get install -y -qq binutils-aarch64-linux-gnu > /dev/null 2>&1 || true; }
      command -v "$strip" > /dev/null || need "$strip is needed for $t (Debian: binutils-aarch64-linux-gnu)" ;;
    *-windows-gnu) strip=x86_64-w64-mingw32-strip exe=spira-pipe.exe ;;
  esac
  "$strip" -o "$stage/bin/$exe" "target/$t/release/$exe"
  case "$t" in
    *-windows-*) launchers "$stage/bin" windows ;;
    # Called by a tool's name the binary is that tool: a hard link per tool, one binary stored.
    *) for b in $tools; do ln "$stage/bin/spira-pipe" "$stage/bin/$b"; done ;;
  esac
  # Man pages and completions from the clap definitions, made by the first build that runs
  # here (the same for every target).
  if [ ! -f target/dist-docs/man/spira-post.1 ] && "$stage/bin/spira-pipe" --version > /dev/null 2>&1; then
    rm -rf target/dist-docs && mkdir -p target/dist-docs/man target/dist-docs/completions/bash \
      target/dist-docs/completions/zsh target/dist-docs/completions/fish
    for b in $tools; do
      "$stage/bin/$b" --generate man > "target/dist-docs/man/$b.1"
      "$stage/bin/$b" --generate bash > "target/dist-docs/completions/bash/$b"
      "$stage/bin/$b" --generate zsh > "target/dist-docs/completions/zsh/_$b"
      "$stage/bin/$b" --generate fish > "target/dist-docs/completions/fish/$b.fish"
    done
  fi
  [ -f target/dist-docs/man/spira-post.1 ] || need "the man pages are made by a build that runs here: put a native target first in DIST_TARGETS"
  cp -r target/dist-docs/man target/dist-docs/completions "$stage/"
  cp README.md LICENSE "$stage/"
  case "$t" in *-windows-*) ext=zip ;; *) ext=tar.gz ;; esac
  archive="spira-pipe-$version-$t.$ext"
  rm -f "dist/$archive"
  case "$ext" in
    zip) command -v zip > /dev/null || need "zip is needed for the Windows archive (Debian: apt-get install zip)"
      (cd dist && zip -qr -9 "$archive" "spira-pipe-$version-$t") ;;
    *) (cd dist && tar -czf "$archive" "spira-pipe-$version-$t") ;;
  esac
  (cd dist && sha256sum "$archive" > "$archive.sha256")
  size=$(wc -c < "dist/$archive")
  [ "$size" -le 15728640 ] || need "dist/$archive is $size bytes, over the 15 MB an archive may take" 
  if [ "$t" = x86_64-unknown-linux-musl ]; then
    # The container image's context (Containerfile): the binary and a link per tool.
    rm -rf target/image && mkdir -p target/image/bin && cp "$stage/bin/spira-pipe" target/image/bin/
    for b in $tools; do ln -s spira-pipe "target/image/bin/$b"; done
  fi
  rm -rf "$stage"
  echo "   dist/$archive ($(du -h "dist/$archive" | cut -f1))"
  # The wheel, from the same build (maturin's cargo build finds it done), with the launchers of
  # this target as its scripts (pyproject.toml's data folder).
  case "$t" in
    *-linux-musl) compat="--compatibility manylinux2014 musllinux_1_1" kind=unix ;;
    *-windows-gnu) compat=" " kind=windows ;;
    *) compat= ;;
  esac
  if [ -n "$compat" ]; then
    rm -rf target/wheel-data && mkdir -p target/wheel-data/scripts
    launchers target/wheel-data/scripts "$kind"
    venv=target/dist-venv
    [ -x "$venv/bin/maturin" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "maturin>=1.5,<2"; } \
      || need "maturin cannot be installed from PyPI (pip install maturin)"
    # shellcheck disable=SC2086
    zig=
    case "$t" in x86_64-*) ;; *) zig=--zig; PATH="$root/$venv/bin:$PATH"; export PATH ;; esac
    # shellcheck disable=SC2086
    "$venv/bin/maturin" build --release --locked --target "$t" $zig $compat --out dist 2>&1 | tail -n 1
  fi
  # The npm platform package of this target: the binary, chosen by npm through os and cpu.
  case "$t" in
    x86_64-unknown-linux-musl) plat=linux-x64 os=linux cpu=x64 exe=spira-pipe ;;
    aarch64-unknown-linux-musl) plat=linux-arm64 os=linux cpu=arm64 exe=spira-pipe ;;
    x86_64-pc-windows-gnu) plat=win32-x64 os=win32 cpu=x64 ;;
    *) plat= ;;
  esac
  if [ -n "$plat" ]; then
    command -v npm > /dev/null || need "npm is needed for the npm packages"
    p="target/npm/$plat"
    rm -rf "$p" && mkdir -p "$p/bin" dist/npm
    "$strip" -o "$p/bin/$exe" "target/$t/release/$exe"
    cp LICENSE "$p/"
    sed -e "s/@VERSION@/$version/g" -e "s/@PLATFORM@/$plat/g" -e "s/@OS@/$os/g" -e "s/@CPU@/$cpu/g" \
      packaging/npm/platform/package.json > "$p/package.json"
    (cd dist/npm && npm pack --silent "../../$p" > /dev/null)
    echo "   dist/npm/spira-pipe-$plat-$version.tgz"
  fi
done
# The npm package everyone installs: the launchers, and the platform packages as optional
# dependencies.
if command -v npm > /dev/null; then
  p=target/npm/spira-pipe
  rm -rf "$p" && mkdir -p "$p" dist/npm && cp -r packaging/npm/spira-pipe/bin "$p/" && cp README.md LICENSE "$p/"
  sed "s/@VERSION@/$version/g" packaging/npm/spira-pipe/package.json > "$p/package.json"
  (cd dist/npm && npm pack --silent "../../$p" > /dev/null)
  echo "   dist/npm/spira-pipe-$version.tgz"
fi
