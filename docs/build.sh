#!/bin/sh
# Renders the book into target/book (open target/book/index.html), with the
# playground beside it (target/book/playground.html) for the chapters that
# embed it. Installs mdBook when it is missing.
# Exit status 77: mdBook, or what the playground needs, could not be had
# (offline); the message says which.
set -eu
cd "$(dirname "$0")/.."
MDBOOK_VERSION=0.5.4
MDBOOK=mdbook
if ! "$MDBOOK" --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
  MDBOOK="${CARGO_HOME:-$HOME/.cargo}/bin/mdbook"
  if ! "$MDBOOK" --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
    echo "== cargo install mdbook --version =$MDBOOK_VERSION" >&2
    cargo install -q mdbook --version "=$MDBOOK_VERSION" --locked >&2 \
      || cargo install -q mdbook --version "=$MDBOOK_VERSION" >&2 || {
      echo "skipped: mdBook $MDBOOK_VERSION could not be installed (cargo install failed)" >&2
      exit 77
    }
  fi
fi
"$MDBOOK" build docs
PVM_PLAYGROUND_OUT=target/book/playground.html playground/build.sh
echo "the book: target/book/index.html" >&2
