#!/usr/bin/env bash
# Installs the dts-gate binary for the composite action (action.yml, step "install").
#
# Everything comes from the environment so tests can run it without GitHub:
#   RUNNER_OS, RUNNER_ARCH        platform (Linux|macOS, X64|ARM64); uname is used when unset
#   RUNNER_TOOL_CACHE             where verified release archives are kept between runs
#   RUNNER_TEMP                   per-job scratch space: downloads, source builds, and the binary
#                                 the gate step runs
#   GITHUB_ACTION_PATH            the action's own checkout: source tree and checksum list
#   DTS_GATE_CHECKSUM_FILE        test hook: another checksum list. Ignored when GITHUB_ACTIONS is
#                                 true, so a variable inherited from the job cannot replace the
#                                 committed list (action.yml also blanks it)
#   INPUT_VERSION                 release to install (default: the version in $GITHUB_ACTION_PATH/Cargo.toml)
#   INPUT_DOWNLOAD_URL            base URL; the asset is fetched from <base>/v<version>/<asset>
#   INPUT_BUILD_FROM_SOURCE       true: skip the download and build the action's source
#   GITHUB_OUTPUT                 optional; receives path=, version=, source=
#
# Integrity rule: an archive is used only if its SHA-256 equals the entry committed in the
# checksum list at the ref being run. Without an entry we build from source instead of trusting
# whatever the server returns.
#
# The tool cache is shared state (on a self-hosted runner any earlier job could have written it),
# so nothing in it vouches for itself: it keeps the archive, and every use copies that archive into
# a fresh directory under RUNNER_TEMP, checks the copy against the committed hash, and extracts
# and runs the binary from there. Files are written into the cache through a temporary file and a
# rename, never through a symlink, so concurrent jobs never see a partial file and never fail on
# each other.
#
# Written for bash 3.2 as well, because that is /bin/bash on macOS runners.
set -euo pipefail

readonly DEFAULT_DOWNLOAD_URL="https://github.com/dts-gate/dts-gate/releases/download"
readonly TOOL=dts-gate

on_github() { [ "${GITHUB_ACTIONS:-}" = "true" ]; }

# Messages contain input values (version, download-url, paths), so every line printed is made
# one line: on GitHub a newline in a value would otherwise start a workflow command of its own.
# Annotation text is escaped exactly as the runner unescapes it (% first, then CR and LF); a plain
# log line shows CR and LF as \r and \n.
escape_data() {
  local s=$*
  s=${s//%/%25}
  s=${s//$'\r'/%0D}
  s=${s//$'\n'/%0A}
  printf '%s' "$s"
}

one_line() {
  local s=$*
  s=${s//$'\r'/\\r}
  s=${s//$'\n'/\\n}
  printf '%s' "$s"
}

log() { printf '%s install: %s\n' "$TOOL" "$(one_line "$*")"; }

# annotate <level> <message>: a workflow command on GitHub, a plain line elsewhere.
annotate() {
  local level=$1
  shift
  if on_github; then
    printf '::%s title=%s install::%s\n' "$level" "$TOOL" "$(escape_data "$*")"
  else
    printf '%s install: %s: %s\n' "$TOOL" "$level" "$(one_line "$*")"
  fi
}

notice() { annotate notice "$@"; }

warn() { annotate warning "$@" >&2; }

die() {
  annotate error "$@" >&2
  exit 1
}

require_var() {
  # Indirect expansion keeps this bash 3.2-compatible (no namerefs).
  if [ -z "${!1:-}" ]; then
    die "$1 is not set: $2"
  fi
}

# Accepts the same spellings as @actions/core getBooleanInput.
parse_bool() {
  case "$2" in
    true | True | TRUE) echo true ;;
    false | False | FALSE | '') echo false ;;
    *) die "input $1 must be true or false, got '$2'" ;;
  esac
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | awk '{print $1}'
  else
    die "neither sha256sum nor shasum is installed: install coreutils or perl's shasum so downloads can be verified"
  fi
}

# Rust target triple for the runner, or empty when no release asset exists for it.
target_for() {
  local os=$1 arch=$2
  case "$os/$arch" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    *) echo '' ;;
  esac
}

detect_os() {
  case "$(uname -s)" in
    Linux) echo Linux ;;
    Darwin) echo macOS ;;
    *) uname -s ;;
  esac
}

detect_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo X64 ;;
    aarch64 | arm64) echo ARM64 ;;
    *) uname -m ;;
  esac
}

# The release this ref ships: the package version of the source next to this script, so a
# download and a source build of the same ref give the same program.
source_version() {
  local manifest="$1/Cargo.toml"
  [ -f "$manifest" ] || die "no Cargo.toml at $manifest: GITHUB_ACTION_PATH must point at the dts-gate checkout (or set input version)"
  awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[[:space:]]*=/ {
      sub(/^version[[:space:]]*=[[:space:]]*"/, ""); sub(/".*$/, ""); print; exit
    }
  ' "$manifest"
}

# Prints the committed SHA-256 for exactly this asset name (never a prefix match: a list that
# also names "<asset>.sig" must not yield two hashes). Empty when there is no entry.
expected_sha256() {
  local file=$1 asset=$2 found
  [ -f "$file" ] || die "checksum list $file does not exist: set DTS_GATE_CHECKSUM_FILE or restore action/checksums.txt"
  found=$(awk -v name="$asset" '
    /^[[:space:]]*(#|$)/ { next }
    $2 == name || $2 == ("*" name) { print tolower($1) }
  ' "$file" | sort -u)
  case "$found" in
    '') echo '' ;;
    *[!0-9a-f]*) die "checksum list $file has more than one or a malformed entry for $asset: fix the list so it has exactly one 64-hex-digit SHA-256 per asset" ;;
    *)
      [ "${#found}" -eq 64 ] || die "checksum list $file has a malformed entry for $asset (expected 64 hex digits, got '${found}')"
      echo "$found"
      ;;
  esac
}

# https always; plain http only to loopback, which is what the tests' local server uses. The
# host part is checked whole: no userinfo (http://127.0.0.1:x@evil.example would go to
# evil.example), nothing but a host name or address and an optional port, and no whitespace or
# control characters anywhere (the URL is logged and handed to curl).
check_url() {
  local url=$1 scheme rest authority host port inner
  case "$url" in
    *[[:space:][:cntrl:]]*) die "download-url must not contain whitespace or control characters, got '$url'" ;;
    https://*) scheme=https rest=${url#https://} ;;
    http://*) scheme=http rest=${url#http://} ;;
    *) die "download-url must start with https:// (plain http is allowed only for 127.0.0.1, localhost or [::1]), got '$url'" ;;
  esac
  authority=${rest%%[/?#]*}
  case "$authority" in
    *@*) die "download-url must not contain a user name or password (user@host), got '$url'" ;;
    '') die "download-url has no host, got '$url'" ;;
  esac
  case "$authority" in
    \[*\]) host=$authority port='' ;;
    \[*\]:*) host=${authority%:*} port=${authority##*:} ;;
    *:*) host=${authority%%:*} port=${authority#*:} ;;
    *) host=$authority port='' ;;
  esac
  case "$host" in
    \[*\])
      inner=${host#[}
      inner=${inner%]}
      case "$inner" in '' | *[!0-9A-Fa-f:.]*) die "download-url has an invalid host '$host'" ;; esac
      ;;
    *[!A-Za-z0-9.-]*) die "download-url has an invalid host '$host' (only letters, digits, '.' and '-', or an [IPv6] address)" ;;
  esac
  case "$port" in
    *[!0-9]*) die "download-url has an invalid port '$port'" ;;
  esac
  if [ "$scheme" = http ]; then
    case "$host" in
      127.0.0.1 | localhost | '[::1]') ;;
      *) die "download-url must start with https:// (plain http is allowed only for 127.0.0.1, localhost or [::1]), got '$url'" ;;
    esac
  fi
}

# A release version: digits and dots, optionally a pre-release or build suffix. It becomes part of
# a URL, a file name and a step output, so nothing else is accepted.
check_version() {
  case "$1" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "input version must look like 1.2.3 (optionally with a v in front), got '$1'" ;;
  esac
  case "$1" in
    *[!0-9A-Za-z.+-]*) die "input version must look like 1.2.3 (optionally with a v in front), got '$1'" ;;
  esac
}

download() {
  local url=$1 out=$2 proto
  case "$url" in
    https://*) proto='=https' ;;
    *) proto='=http' ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    if [ "$proto" = '=https' ]; then
      curl --proto "$proto" --proto-redir "$proto" --tlsv1.2 -fsSL --retry 3 --connect-timeout 20 -o "$out" "$url"
    else
      curl --proto "$proto" --proto-redir "$proto" -fsSL --retry 3 --connect-timeout 20 -o "$out" "$url"
    fi
  elif command -v wget >/dev/null 2>&1; then
    # wget cannot pin redirects to https; the SHA-256 check below is what guarantees integrity.
    wget -q -O "$out" "$url"
  else
    die "neither curl nor wget is installed: install one of them, or set build-from-source: true"
  fi
}

set_output() {
  case "$2" in
    *[$'\r\n']*) die "refusing to write output $1: its value contains a line break" ;;
  esac
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

finish() {
  local bin=$1 how=$2 reported
  reported=$("$bin" --version 2>&1) || die "the installed binary $bin does not run ('$reported'): it may be for another platform; try build-from-source: true"
  set_output path "$bin"
  set_output version "$VERSION"
  set_output source "$how"
  log "${reported:-$TOOL $VERSION} ready at $bin (via $how) in ${SECONDS}s"
}

build_from_source() {
  local why=$1 src=$GITHUB_ACTION_PATH target_dir have
  have=$(source_version "$src")
  notice "building dts-gate $have from the action's source with cargo build --release --locked ($why); this takes a minute or two"
  if [ "$have" != "$VERSION" ]; then
    warn "version $VERSION was requested but the source at this ref is version $have: the source build installs $have"
  fi
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed but a source build is needed ($why): install Rust (https://rustup.rs) before this step, or use a released version"
  [ -f "$src/Cargo.lock" ] || die "no Cargo.lock in $src: a --locked source build needs the committed lock file"
  # Outside the source tree: with uses: ./ that tree is the user's workspace.
  target_dir="$RUNNER_TEMP/dts-gate-source/target"
  mkdir -p "$target_dir"
  # The subshell keeps cargo's cwd in the source tree, so its rust-toolchain file (if any) applies.
  (cd "$src" && cargo build --release --locked --target-dir "$target_dir") >&2 ||
    die "cargo build --release --locked failed in $src (see the cargo output above)"
  VERSION=$have
  finish "$target_dir/release/$TOOL" source
}

# Is any of these paths a symbolic link? (Paths that do not exist are not.)
any_symlink() {
  local p
  for p in "$@"; do
    if [ -L "$p" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# Stores the verified archive $1 as the cache entry $2: copied to a temporary file next to it,
# then renamed over it. rename(2) replaces a symlink rather than following it and is atomic
# within a directory, so concurrent jobs (even with the cache on another file system than
# RUNNER_TEMP) each see either the old or the new complete file. Failing to cache is not fatal.
store_in_cache() {
  local src=$1 dest=$2 dir tmp
  dir=$(dirname "$dest")
  tmp=$(mktemp "$dir/.$TOOL-cache.XXXXXX") || {
    warn "could not write to the tool cache at $dir; continuing without caching"
    return 0
  }
  if cp "$src" "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$dest"; then
    return 0
  fi
  rm -f "$tmp"
  warn "could not store $dest in the tool cache; continuing without caching"
}

main() {
  SECONDS=0
  require_var GITHUB_ACTION_PATH "it must point at the dts-gate checkout (the runner sets it for actions)"
  require_var RUNNER_TEMP "it must name a writable scratch directory"

  local os arch target want_source checksum_file asset base url expected actual cache_root cache_dir cache_file work listing link use_cache
  os=${RUNNER_OS:-$(detect_os)}
  arch=${RUNNER_ARCH:-$(detect_arch)}
  [ "$os" != Windows ] || die "Windows runners are not supported yet: use a Linux or macOS runner, or run the Docker image"
  want_source=$(parse_bool build-from-source "${INPUT_BUILD_FROM_SOURCE:-}")
  VERSION=${INPUT_VERSION:-}
  VERSION=${VERSION#v}
  if [ -z "$VERSION" ]; then
    VERSION=$(source_version "$GITHUB_ACTION_PATH")
    [ -n "$VERSION" ] || die "could not read the package version from $GITHUB_ACTION_PATH/Cargo.toml: set input version"
  fi
  check_version "$VERSION"

  if [ "$want_source" = true ]; then
    build_from_source "build-from-source is true"
    return
  fi

  target=$(target_for "$os" "$arch")
  if [ -z "$target" ]; then
    build_from_source "no release asset for $os/$arch"
    return
  fi
  asset="$TOOL-$VERSION-$target.tar.gz"
  checksum_file=$GITHUB_ACTION_PATH/action/checksums.txt
  if [ -n "${DTS_GATE_CHECKSUM_FILE:-}" ]; then
    if on_github; then
      warn "ignoring DTS_GATE_CHECKSUM_FILE: on GitHub only the committed action/checksums.txt of the action's ref is trusted"
    else
      checksum_file=$DTS_GATE_CHECKSUM_FILE
    fi
  fi
  expected=$(expected_sha256 "$checksum_file" "$asset")
  if [ -z "$expected" ]; then
    build_from_source "the checksum list at this ref has no entry for $asset"
    return
  fi

  # This job's own directory: the archive is checked and the binary extracted and run only here.
  work=$(mktemp -d "$RUNNER_TEMP/$TOOL-install.XXXXXX")

  # Tool-cache layout: <tool>/<version>/<target>/<asset>. Only the archive is kept; it proves
  # nothing by being there and is checked against the committed hash on every use.
  require_var RUNNER_TOOL_CACHE "it must name the directory where tools are cached"
  cache_root="$RUNNER_TOOL_CACHE/$TOOL/$VERSION"
  cache_dir="$cache_root/$target"
  cache_file="$cache_dir/$asset"
  use_cache=true
  if link=$(any_symlink "$RUNNER_TOOL_CACHE/$TOOL" "$cache_root" "$cache_dir" "$cache_file"); then
    warn "refusing to use the tool cache: $link is a symbolic link (someone else may control where it points); installing without the cache"
    use_cache=false
  fi

  actual=''
  if [ "$use_cache" = true ] && [ -f "$cache_file" ]; then
    # Copy first, then hash the copy: what is verified is exactly what gets extracted.
    if cp "$cache_file" "$work/$asset" 2>/dev/null; then
      actual=$(sha256_of "$work/$asset")
    fi
    if [ "$actual" = "$expected" ]; then
      extract_and_finish "$work" "$asset" cache
      return
    fi
    rm -f "$work/$asset"
    warn "cached $cache_file does not match the committed checksum; downloading it again"
  fi

  base=${INPUT_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}
  base=${base%/}
  check_url "$base"
  url="$base/v$VERSION/$asset"
  log "downloading $url"
  download "$url" "$work/$asset" ||
    die "could not download $url: check download-url (a mirror must serve <base>/v<version>/<asset>) and the network, or set build-from-source: true"

  actual=$(sha256_of "$work/$asset")
  if [ "$actual" != "$expected" ]; then
    rm -rf "$work"
    die "checksum mismatch for $asset: expected $expected (action/checksums.txt at this ref), got $actual; refusing to install it. The download or the mirror at $base is not the published release: check download-url, or report it if it is the default"
  fi

  if [ "$use_cache" = true ]; then
    if ! mkdir -p "$cache_dir" 2>/dev/null; then
      warn "could not create the tool cache directory $cache_dir; continuing without caching"
    elif link=$(any_symlink "$RUNNER_TOOL_CACHE/$TOOL" "$cache_root" "$cache_dir"); then
      warn "not caching: $link became a symbolic link"
    else
      store_in_cache "$work/$asset" "$cache_file"
    fi
  fi
  extract_and_finish "$work" "$asset" download
}

# Extracts the verified archive $1/$2 in place and reports the binary in it as installed via $3.
extract_and_finish() {
  local work=$1 asset=$2 how=$3 listing
  listing=$(tar -tzf "$work/$asset") || die "$asset is not a readable .tar.gz"
  case "$listing" in
    "$TOOL" | "./$TOOL") ;;
    *) die "$asset should contain only the file $TOOL, it lists: $(echo "$listing" | tr '\n' ' ')" ;;
  esac
  tar -xzf "$work/$asset" -C "$work"
  rm -f "$work/$asset"
  [ -f "$work/$TOOL" ] && [ ! -L "$work/$TOOL" ] || die "$asset did not yield a regular file $TOOL"
  chmod 0755 "$work/$TOOL"
  finish "$work/$TOOL" "$how"
}

main "$@"
