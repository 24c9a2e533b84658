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
    // MPI, loaded at run time only under mpirun: the only targets that touch it.
    .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: linuxOnly))]),
    .target(name: "DistributedTraining", dependencies: ["CMPI", "Training"]),
    // `import Backprop`: every module above in one import (and `BLAS`, for its thread count).
    .target(name: "Backprop", dependencies: ["Kernels", "Tensors", "NeuralNetworks", "Training", "Datasets", "ModelFiles"]),
    // The command-line tool; its executable is `backprop`.
    .executableTarget(
        name: "BackpropCLI",
        dependencies: [
            "Kernels", "Tensors", "NeuralNetworks", "Training", "Datasets", "ModelFiles", "CZlib", "DistributedTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]
    ),
]

// MARK: - Examples

// One small program per idea of the notes, each printing its claim and checking it
// (`swift run -c release example-housing-neuron`); the end-to-end tests run them.
let examples: [Target] = [
    // The flags and the verdict every example shares.
    .target(name: "ExampleSupport", dependencies: ["Backprop"], path: "Examples/Support"),
    .executableTarget(name: "example-housing-neuron", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/HousingNeuron"),
    .executableTarget(name: "example-logistic-neuron", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/LogisticNeuron"),
    .executableTarget(name: "example-vectorisation", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/Vectorisation"),
    .executableTarget(name: "example-delta-recursion", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/DeltaRecursion"),
    .executableTarget(name: "example-symmetry", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/Symmetry"),
    .executableTarget(name: "example-identity-collapse", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/IdentityCollapse"),
    .executableTarget(name: "example-gradient-descent", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/GradientDescent"),
    .executableTarget(name: "example-l2-regularisation", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/L2Regularisation"),
    .executableTarget(name: "example-parameter-sharing", dependencies: ["Backprop", "ExampleSupport"], path: "Examples/ParameterSharing"),
]

// MARK: - Tests

/// Test code compiled without optimisation: it compiles in a fraction of the time, and
/// what the tests time-critically run is the library, which stays optimised.
let testSettings: [SwiftSetting] = [.unsafeFlags(["-Onone"])]

let tests: [Target] = [
    .testTarget(name: "KernelsTests", dependencies: ["Kernels"], swiftSettings: testSettings),
    .testTarget(name: "TensorsTests", dependencies: ["Tensors"], swiftSettings: testSettings),
    .testTarget(name: "NeuralNetworksTests", dependencies: ["NeuralNetworks"], swiftSettings: testSettings),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "Kernels"], swiftSettings: testSettings),
    .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensors"], swiftSettings: testSettings),
    .testTarget(
        name: "ModelFilesTests", dependencies: ["ModelFiles", "NeuralNetworks", "Tensors", "Datasets", "Training"],
        resources: [.copy("Fixtures")], swiftSettings: testSettings),
    // Runs the built `backprop` and the examples, found beside the test bundle (`swift test`
    // and `swift build --build-tests` build every executable first). It imports none of
    // them, so it compiles alongside the library instead of waiting for all of it.
    // It names ArgumentParser (which it does not import) only so that the build compiles
    // that package first: otherwise it was scheduled last, and the command-line tool's
    // compile, which waits for it, ran alone on one core at the end. Clean test builds on
    // a 2-core machine, alternated: 241 and 214 s without this, 211 and 209 s with it.
    .testTarget(
        name: "EndToEndTests", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
        exclude: ["Goldens"], swiftSettings: testSettings),
    .testTarget(name: "BackpropTests", dependencies: ["Backprop"], swiftSettings: testSettings),
]

// MARK: - Dependencies

var dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
]
// `make docs` only (docs/build-site.sh sets BACKPROP_DOCS=1): the DocC plugin, which turns
// the catalogue in Sources/Backprop/Backprop.docc into a static site. Other builds neither
// fetch nor compile it.
if Context.environment["BACKPROP_DOCS"] != nil {
    dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v13)],
    products: products,
    dependencies: dependencies,
    targets: targets + examples + tests,
    swiftLanguageModes: [.v6]
)
