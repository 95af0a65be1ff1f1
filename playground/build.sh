#!/bin/sh
# Builds the playground: one self-contained page, target/playground/index.html
# (or $PVM_PLAYGROUND_OUT). Open it from disk; nothing is fetched.
#
#   playground/build.sh             # the page
#   playground/build.sh --pkg-only  # only the module and its glue; prints their folder
#
# It needs, and gets when missing:
#   * the Rust target wasm32-unknown-unknown (`rustup target add`), and
#   * wasm-bindgen-cli at exactly the version of the wasm-bindgen crate the
#     playground is built with (`cargo install`, a few minutes, once).
# Exit status 77: one of those could not be had (offline, no rustup); the
# message says which. Any other failure is an error.
set -eu
cd "$(dirname "$0")/.."
# Its own target folder: the wasm build shares nothing with the native one.
TARGET_DIR=${CARGO_TARGET_DIR:-target/wasm}
OUT=${PVM_PLAYGROUND_OUT:-target/playground/index.html}
PKG="$TARGET_DIR/playground-pkg"
VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' playground/Cargo.toml)
[ -n "$VERSION" ] || { echo "error: no exact wasm-bindgen version in playground/Cargo.toml" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "== rustup target add wasm32-unknown-unknown" >&2
  rustup target add wasm32-unknown-unknown >&2 || {
    echo "skipped: the wasm32-unknown-unknown target could not be installed (rustup target add failed)" >&2
    exit 77
  }
fi

BINDGEN=wasm-bindgen
if ! "$BINDGEN" --version 2>/dev/null | grep -q " $VERSION\$"; then
  BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
  if ! "$BINDGEN" --version 2>/dev/null | grep -q " $VERSION\$"; then
    echo "== cargo install wasm-bindgen-cli --version =$VERSION --locked" >&2
    # --locked first; if the registry lacks one of the locked versions
    # (a mirror lagging behind crates.io), with freshly resolved ones.
    cargo install -q wasm-bindgen-cli --version "=$VERSION" --locked >&2 \
      || cargo install -q wasm-bindgen-cli --version "=$VERSION" >&2 || {
      echo "skipped: wasm-bindgen-cli $VERSION could not be installed (cargo install failed)" >&2
      exit 77
    }
  fi
fi

echo "== building pvm for wasm32-unknown-unknown (compiler, verifier, interpreter, the JIT's listings; no container)" >&2
# strip=false: wasm-bindgen reads the module's target_features section, which stripping removes.
# opt-level "s": the page carries the module, and the interpreter is not what is measured here.
cargo build -q --release --target wasm32-unknown-unknown -p pvm-playground --lib --target-dir "$TARGET_DIR" \
  --config profile.release.strip=false --config 'profile.release.opt-level="s"'
"$BINDGEN" --target no-modules --no-typescript --remove-name-section --remove-producers-section --out-dir "$PKG" \
  "$TARGET_DIR/wasm32-unknown-unknown/release/pvm_playground.wasm"

if [ "${1:-}" = "--pkg-only" ]; then
  echo "$PKG"
  exit 0
fi
mkdir -p "$(dirname "$OUT")"
cargo run -q -p pvm-playground --bin pvm-playground-pack -- "$PKG" "$OUT"
