// swift-tools-version: 6.0
// Coverage-guided fuzzing of Backprop's file readers with libFuzzer: one executable per
// reader. Build and run one with `Fuzz/run.sh <reader> [runs]` (see the README's
// "Reliability" section); the corpus lives in ../Tests/FuzzCorpus/<reader>/ and is
// replayed by `make test`.
import Foundation
import PackageDescription

/// The identity SwiftPM gives the package at "..": its directory's name, lowercased,
/// which differs between checkouts.
let backprop = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let readers = ["idx", "csv", "npy", "safetensors", "architecture"]

let package = Package(
    name: "BackpropFuzz",
    platforms: [.macOS(.v13)],
    products: readers.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    ] + readers.map { reader in
        .executableTarget(
            name: "fuzz-\(reader)",
            dependencies: ["FuzzSupport", .product(name: "Backprop", package: backprop)])
    },
    swiftLanguageModes: [.v6]
)
