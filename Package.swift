// swift-tools-version: 6.0
import PackageDescription

// MARK: - Public API

let products: [Product] = [
    .library(name: "Backprop", targets: ["Tensors", "NeuralNetworks"]),
    .executable(name: "backprop", targets: ["backprop"]),
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
    .target(name: "Kernels", dependencies: ["CBLAS"]),
    .target(name: "Tensors", dependencies: ["Kernels"]),
    .target(name: "NeuralNetworks", dependencies: ["Tensors"]),
    .executableTarget(
        name: "backprop",
        dependencies: [
            "Kernels", "Tensors", "NeuralNetworks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),

    // MARK: - Tests

    .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks"]),
    .testTarget(name: "EndToEndTests", dependencies: []),
]

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v13)],
    products: products,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
