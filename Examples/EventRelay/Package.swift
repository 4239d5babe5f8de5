// swift-tools-version: 6.2
import PackageDescription

// An example service built on ConductorGRPC: its own package, depending on the library by path,
// as an application would depend on it by URL (see README.md).
let package = Package(
    name: "event-relay",
    dependencies: [
        // `name:` pins the identity: a path dependency is otherwise named after its folder, which is
        // whatever the clone happens to be called (CI clones into a folder of its own).
        .package(name: "conductor-grpc-swift", path: "../.."),
        // No traits: the default ones pull in swift-configuration, which this example does not use
        // and which would lengthen every clean build (CI builds the example from a fresh clone).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "EventRelay",
            dependencies: [
                .product(name: "ConductorGRPC", package: "conductor-grpc-swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: [
                .swiftLanguageMode(.v6),
                .enableUpcomingFeature("ExistentialAny"),
            ]
        ),
    ]
)
