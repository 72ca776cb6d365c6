#!/usr/bin/env bash
# The step of action.yml: installs spira-pipe and puts its tools on PATH (through GITHUB_PATH),
# and writes its version and folder to GITHUB_OUTPUT. From a release archive downloaded with its
# checksum verified (the default), a local archive or folder (SPIRA_PIPE_ARCHIVE), or a wheel
# (SPIRA_PIPE_WHEEL). Every failure says what failed and exits non-zero.
set -euo pipefail
say() { echo "spira-pipe action: $*" >&2; }
die() { say "$*"; exit 1; }
dest="${RUNNER_TEMP:-/tmp}/spira-pipe"
rm -rf "$dest" && mkdir -p "$dest"
case "${SPIRA_PIPE_OS:-Linux}/${SPIRA_PIPE_ARCH:-X64}" in
  Linux/X64) target=x86_64-unknown-linux-musl ext=tar.gz ;;
  Linux/ARM64) target=aarch64-unknown-linux-musl ext=tar.gz ;;
  Windows/X64) target=x86_64-pc-windows-gnu ext=zip ;;
  macOS/X64) target=x86_64-apple-darwin ext=tar.gz ;;
  macOS/ARM64) target=aarch64-apple-darwin ext=tar.gz ;;
  *) die "no build for ${SPIRA_PIPE_OS:-?} ${SPIRA_PIPE_ARCH:-?}" ;;
esac
unpack() {
  case "$1" in
    *.zip) unzip -q "$1" -d "$dest" ;;
    *) tar -xzf "$1" -C "$dest" ;;
  esac
  bin=$(find "$dest" -mindepth 2 -maxdepth 2 -type d -name bin | head -n 1)
  [ -n "$bin" ] || die "no bin/ folder in $1"
}
verify() {
  local file=$1 sum=$2
  local want got
  want=$(cut -d ' ' -f 1 < "$sum")
  got=$(sha256sum "$file" | cut -d ' ' -f 1)
  [ "$want" = "$got" ] || die "$file: checksum $got, but $sum says $want"
}
if [ -n "${SPIRA_PIPE_WHEEL:-}" ]; then
  [ -f "$SPIRA_PIPE_WHEEL" ] || die "no wheel at $SPIRA_PIPE_WHEEL"
  python3 -m venv "$dest/venv" || die "python3 -m venv failed"
  bin="$dest/venv/bin"
  [ -d "$bin" ] || bin="$dest/venv/Scripts"   # a venv on Windows
  "$bin/python" -m pip install -q --no-index "$SPIRA_PIPE_WHEEL" || die "pip install $SPIRA_PIPE_WHEEL failed"
elif [ -n "${SPIRA_PIPE_ARCHIVE:-}" ]; then
  if [ -d "$SPIRA_PIPE_ARCHIVE" ]; then
    bin="$SPIRA_PIPE_ARCHIVE/bin"
    [ -d "$bin" ] || die "no bin/ folder in $SPIRA_PIPE_ARCHIVE"
  else
    [ -f "$SPIRA_PIPE_ARCHIVE" ] || die "no archive at $SPIRA_PIPE_ARCHIVE"
    if [ -f "$SPIRA_PIPE_ARCHIVE.sha256" ]; then verify "$SPIRA_PIPE_ARCHIVE" "$SPIRA_PIPE_ARCHIVE.sha256"; fi
    unpack "$SPIRA_PIPE_ARCHIVE"
  fi
else
  version=${SPIRA_PIPE_VERSION:-${SPIRA_PIPE_ACTION_REF:-}}
  version=${version#v}
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "no version to install: give 'version' (the action is used at '${SPIRA_PIPE_ACTION_REF:-}', not a version tag)"
  repo=${SPIRA_PIPE_REPOSITORY:-spira-pipe/spira-pipe}
  name="spira-pipe-$version-$target.$ext"
  base="https://github.com/$repo/releases/download/v$version"
  curl -fsSL --retry 3 -o "$dest/$name" "$base/$name" || die "cannot download $base/$name"
  curl -fsSL --retry 3 -o "$dest/$name.sha256" "$base/$name.sha256" || die "cannot download $base/$name.sha256"
  verify "$dest/$name" "$dest/$name.sha256"
  unpack "$dest/$name"
fi
v=$("$bin/spira-pipe" --version) || die "$bin/spira-pipe does not run"
echo "$bin" >> "${GITHUB_PATH:?GITHUB_PATH is not set: not a GitHub Actions step}"
{ echo "version=$v"; echo "bin=$bin"; } >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
say "installed $v into $bin"
