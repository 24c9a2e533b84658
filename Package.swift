// swift-tools-version: 6.0
import PackageDescription

// MARK: - Public API

let products: [Product] = [
    .library(name: "Backprop", targets: ["Backprop", "Tensors", "NeuralNetworks", "Training", "Datasets", "ModelFiles"]),
    .executable(name: "backprop", targets: ["BackpropCLI"]),
]

// MARK: - Implementation: one target per layer of the stack (DESIGN.md), lowest first

let linuxOnly: [Platform] = [.linux]

let targets: [Target] = [
    .target(
        name: "CBLAS",
        linkerSettings: [
            .linkedFramework("Accelerate", .when(platforms: [.macOS])),
            .linkedLibrary("dl", .when(platforms: linuxOnly)),
        ]
    ),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
    .target(name: "CKernels"),
    .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"]),
    .target(name: "Tensors", dependencies: ["Kernels"]),
    .target(name: "NeuralNetworks", dependencies: ["Tensors"]),
    .target(name: "Training", dependencies: ["NeuralNetworks", "Datasets"]),
    .target(name: "Datasets", dependencies: ["Tensors", "CZlib"]),
    .target(name: "ModelFiles", dependencies: ["NeuralNetworks"]),
    // `import Backprop`: every module above in one import.
    .target(name: "Backprop", dependencies: ["Tensors", "NeuralNetworks", "Training", "Datasets", "ModelFiles"]),
    // The command-line tool; its executable is `backprop`.
    .executableTarget(
        name: "BackpropCLI",
        dependencies: [
            "Kernels", "Tensors", "NeuralNetworks", "Training", "Datasets", "ModelFiles",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),

    // MARK: - Tests

    .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "Kernels"]),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"]),
    .testTarget(
        name: "ModelFilesTests", dependencies: ["ModelFiles", "NeuralNetworks", "Tensors", "Datasets", "Training"],
        resources: [.copy("Fixtures")]),
    .testTarget(name: "EndToEndTests", dependencies: ["BackpropCLI"]),
    .testTarget(name: "BackpropTests", dependencies: ["Backprop"]),
]

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v13)],
    products: products,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `make docs`: the DocC catalogue in Sources/Backprop/Backprop.docc as a static site.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
