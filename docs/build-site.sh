#!/usr/bin/env bash
# Builds the documentation site (`make docs`): the DocC catalogue in
# Sources/Backprop/Backprop.docc with every public symbol of the modules `Backprop`
# re-exports, as one static site.
#
# Usage: docs/build-site.sh OUTPUT_DIR [SWIFT BUILD FLAGS...]
#
# Why not only `swift package generate-documentation`: the DocC plugin documents each
# target on its own, and `Backprop` declares no symbols itself (it `@_exported import`s
# the others). The symbol graph extractor can fold re-exported modules into one graph
# (`-experimental-allowed-reexported-modules`), but the plugin has no way to pass that
# flag; so this script extracts `Backprop`'s graph itself and hands it to the plugin,
# which then runs `docc` on the catalogue with it. The result is one module, `Backprop`,
# whose pages link to each other (``Tensor``, ``Dense``, ``fit(…)``) as a user imports
# them: `import Backprop`.
set -euo pipefail

output=${1:?usage: docs/build-site.sh OUTPUT_DIR [SWIFT BUILD FLAGS...]}
shift
flags=("$@")
swift=${SWIFT:-swift}
# The modules Backprop re-exports (Kernels only for what it names, such as `enum BLAS`;
# a module listed here but not re-exported adds nothing).
reexported=Kernels,Tensors,NeuralNetworks,Training,Datasets,ModelFiles

cd "$(dirname "$0")/.."
start=$(date +%s)
# Package.swift declares the DocC plugin only when this is set.
export BACKPROP_DOCS=1

# The modules, built with the same flags as the tests so that neither build undoes the other.
"$swift" build ${flags[@]+"${flags[@]}"} --target Backprop
bin=$("$swift" build ${flags[@]+"${flags[@]}"} --show-bin-path)
triple=$("$swift" -print-target-info | sed -n 's/.*"triple": *"\([^"]*\)".*/\1/p' | head -n 1)
sdk=()
if [ "$(uname)" = Darwin ]; then sdk=(-sdk "$(xcrun --show-sdk-path)"); fi

graphs=.build/docs/symbol-graphs
rm -rf "$graphs"
mkdir -p "$graphs"
"$swift" symbolgraph-extract -module-name Backprop -target "$triple" ${sdk[@]+"${sdk[@]}"} \
    -I "$bin/Modules" -I "$bin" \
    -Xcc -fmodule-map-file="$bin/CBLAS.build/module.modulemap" \
    -Xcc -fmodule-map-file="$bin/CKernels.build/module.modulemap" \
    -Xcc -fmodule-map-file=Sources/CZlib/module.modulemap \
    -minimum-access-level public -experimental-allowed-reexported-modules="$reexported" \
    -output-dir "$graphs"

# The plugin keeps an --additional-symbol-graph-dir given to it, and passes the other
# flags to docc: a broken symbol link or any other warning fails the build.
rm -rf "$output"
mkdir -p "$(dirname "$output")"
"$swift" package ${flags[@]+"${flags[@]}"} --allow-writing-to-directory "$(dirname "$output")" \
    generate-documentation --target Backprop --disable-indexing \
    --additional-symbol-graph-dir "$graphs" --output-path "$output" \
    --transform-for-static-hosting --warnings-as-errors

echo
echo "Documentation site: $output ($(($(date +%s) - start)) s)"
echo "It is a static site that loads its pages with JavaScript, so serve it over HTTP:"
echo "  python3 -m http.server --directory $output 8000"
echo "  then open http://localhost:8000/documentation/backprop"
