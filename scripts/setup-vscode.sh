#!/usr/bin/env bash
# Installs what the real-VS-Code integration tests need, outside the project's
# dependencies (see ../shared/docs/VSCODE-TESTS.md). Idempotent; safe to re-run.
#   - Debian chromium (both routes drive it with playwright-core)
#   - code-server 4.100.3 (VS Code 1.100's Node extension host, route N) into
#     .vscode-test/code-server/ (override with REFSCOPE_CODE_SERVER_DIR)
# usage: bash scripts/setup-vscode.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.100.3
DIR="${REFSCOPE_CODE_SERVER_DIR:-$PWD/.vscode-test/code-server}"
BIN="$DIR/node_modules/code-server/out/node/entry.js"

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
command -v python3 >/dev/null 2>&1 || need+=(python3)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-vscode: missing system packages (${need[*]}); install them as root" >&2
    exit 1
  fi
  echo "setup-vscode: apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

installed=""
if [ -f "$DIR/node_modules/code-server/package.json" ]; then
  installed=$(node -p "require('$DIR/node_modules/code-server/package.json').version" 2>/dev/null || true)
fi
if [ "$installed" = "$VERSION" ] && [ -f "$BIN" ]; then
  echo "setup-vscode: code-server $VERSION already in $DIR"
  exit 0
fi

mkdir -p "$DIR"
cat > "$DIR/package.json" <<JSON
{
  "name": "refscope-code-server",
  "private": true,
  "description": "code-server for Refscope's route-N integration tests (not a project dependency)",
  "allowScripts": { "code-server": true, "argon2": true, "@playwright/browser-chromium": false }
}
JSON

# code-server's nested @vscode/ripgrep looks in its cache in os.tmpdir() before
# downloading from GitHub: hand it Debian's rg in the archive it expects.
TMP=$(node -p "require('os').tmpdir()")
CACHE="$TMP/vscode-ripgrep-cache-1.15.11"
TARBALL="$CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$TARBALL" ]; then
  mkdir -p "$CACHE"
  stage=$(mktemp -d)
  cp "$(command -v rg)" "$stage/rg"
  tar -czf "$TARBALL" -C "$stage" rg
  rm -rf "$stage"
fi

echo "setup-vscode: npm install code-server@$VERSION into $DIR (builds native modules; takes a few minutes)"
npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr \
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  npm install --prefix "$DIR" --no-audit --no-fund --no-save "code-server@$VERSION"
[ -f "$BIN" ] || { echo "setup-vscode: $BIN missing after install" >&2; exit 1; }
echo "setup-vscode: code-server $VERSION ready in $DIR"
