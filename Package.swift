// swift-tools-version: 6.2
import PackageDescription

let strictSwift: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    // An async function runs on its caller's executor unless it says `@concurrent`: a call's path
    // through the client (about ten nested async functions) then makes no executor switch of its
    // own, where it made 16. Measured with callgrind at 64 in flight: 640 instructions per call
    // fewer, and 2,900 fewer on `loopExecutor`, where every switch looks the task's executor
    // preference up under its status lock.
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "conductor-grpc-swift",
    // Linux only: the C event loop is epoll and eventfd (see docs/architecture.md, "Platforms").
    products: [
        .library(name: "ConductorGRPC", targets: ["ConductorGRPC"]),
        .library(name: "BridgeResilience", targets: ["BridgeResilience"]),
        // ConductorConfiguration(config:) from swift-configuration's ConfigReader: a product of its own,
        // so that services without swift-configuration do not link it (nor the Foundation it brings).
        .library(name: "ConductorGRPCConfigReader", targets: ["ConductorGRPCConfigReader"]),
        .executable(name: "conductor-smoke", targets: ["conductor-smoke"]),
        .executable(name: "conductor-bench", targets: ["conductor-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // No traits: a ConfigReader needs none (the default JSON trait, YAML, Reloading would add code and packages).
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.0.0", traits: []),
    ],
    targets: [
        // System libraries (Debian: libnghttp2-dev, libssl-dev, libprotobuf-c-dev, zlib1g-dev, libsqlite3-dev,
        // libyajl-dev; libcurl4-openssl-dev gives CRESTShim its headers).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CProtobufC", pkgConfig: "libprotobuf-c", providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CYajl", pkgConfig: "yajl", providers: [.apt(["libyajl-dev"])]),

        // C: the event loop that owns sockets and nghttp2 sessions.
        .target(
            name: "CNGHTTP2Shim",
            dependencies: ["CNGHTTP2", "COpenSSL"],
            linkerSettings: [.linkedLibrary("pthread")]
        ),
        // C: the REST transport's loop, libcurl's multi interface on a thread of its own. libcurl
        // (libcurl4-openssl-dev for its headers) is loaded at run time, not linked: see curl_api.h.
        .target(name: "CRESTShim", linkerSettings: [.linkedLibrary("pthread"), .linkedLibrary("dl")]),
        // C: protobuf-c code generated from Protos/ by Scripts/generate-protos.sh (committed).
        .target(name: "CConductorProto", dependencies: ["CProtobufC"]),

        // A pthread-mutex-guarded value, shared by the Swift modules (ThreadSanitizer-visible).
        .target(name: "LockedState", swiftSettings: strictSwift),
        .target(
            name: "GRPCWire",
            dependencies: ["CNGHTTP2Shim", "CZlib", "LockedState"],
            swiftSettings: strictSwift
        ),
        .target(name: "BridgeResilience", dependencies: ["LockedState"], swiftSettings: strictSwift),
        .target(
            name: "ConductorGRPC",
            dependencies: [
                "GRPCWire", "CConductorProto", "CSQLite", "CRESTShim", "CYajl", "BridgeResilience", "LockedState",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
        .target(
            name: "ConductorGRPCConfigReader",
            dependencies: ["ConductorGRPC", .product(name: "Configuration", package: "swift-configuration")],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "conductor-smoke",
            dependencies: [
                "ConductorGRPC",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSwift
        ),
        .executableTarget(
            name: "conductor-bench",
            dependencies: ["ConductorGRPC"],
            swiftSettings: strictSwift
        ),
        // A test fixture: a process that fills or delivers an outbox, for the kill -9 test.
        .executableTarget(name: "conductor-outbox-drill", dependencies: ["ConductorGRPC"], swiftSettings: strictSwift),
        // Fuzz target: libFuzzer with Scripts/fuzz.sh; a corpus replayer in normal builds.
        .executableTarget(name: "conductor-fuzz", dependencies: ["GRPCWire", "ConductorGRPC", "CNGHTTP2"], swiftSettings: strictSwift),

        .testTarget(name: "GRPCWireTests", dependencies: ["GRPCWire"], swiftSettings: strictSwift),
        .testTarget(name: "BridgeResilienceTests", dependencies: ["BridgeResilience", "LockedState"], swiftSettings: strictSwift),
        .testTarget(
            name: "ConductorGRPCTests",
            dependencies: [
                "ConductorGRPC", "ConductorGRPCConfigReader", "GRPCWire", "LockedState",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSwift
        ),
    ]
)
