#!/usr/bin/env bash
# Vendor the wall page's chart library (uPlot) from the npm registry into pipeline/wall/static/vendor/.
#
# The wall page is served by the worker and must work on a screen with no internet, so the library is committed,
# not loaded from a CDN. This script is how those files came to be: `npm pack` fetches the pinned release (npm
# checks the registry's integrity hash), and the files we ship are copied out of it with their sha256 recorded in
# the README next to them (tests/pipeline/wall/test_vendor.py checks the committed files against it).
#
# Usage: scripts/vendor_wall_js.sh [VERSION]     (make vendor-js)
set -euo pipefail

VERSION="${1:-1.6.32}"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/pipeline/wall/static/vendor"
FILES=(dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE)

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "uplot@$VERSION" >/dev/null)
tarball="$(ls "$work"/uplot-*.tgz)"
integrity="$(cd "$work" && npm view "uplot@$VERSION" dist.integrity 2>/dev/null)"
tar -xzf "$tarball" -C "$work"

mkdir -p "$DEST"
rows=""
for file in "${FILES[@]}"; do
  name="$(basename "$file")"
  cp "$work/package/$file" "$DEST/$name"
  sum="$(sha256sum "$DEST/$name" | cut -d' ' -f1)"
  rows+="| \`$name\` | \`$file\` | \`$sum\` |"$'\n'
done

cat >"$DEST/README.md" <<README
# Vendored: uPlot $VERSION

The wall page's charts use [uPlot](https://github.com/leeoniya/uPlot) (MIT, by Leon Sorokin; licence in
\`LICENSE\`), a small, maintained canvas chart library for time series. It is committed here, not loaded from a CDN,
because a wall screen may be offline. Written by \`scripts/vendor_wall_js.sh\` (\`make vendor-js\`) from the npm
package \`uplot@$VERSION\` (registry integrity \`$integrity\`); do not edit these files by hand.

version: $VERSION

| file | from the package | sha256 |
|---|---|---|
${rows%$'\n'}

To upgrade: \`make vendor-js UPLOT_VERSION=x.y.z\`, look at the wall page (\`luister run\`, then open the printed wall
URL), and commit the files together with this README. The test suite checks the files' sha256 against this table.
README
echo "vendored uplot@$VERSION into $DEST"
