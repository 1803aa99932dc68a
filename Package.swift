// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-bench", targets: ["vigil-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure: keepalived.conf from bytes to a validated model.
        .target(name: "VigilConfig"),
        // Pure: the VRRP codec and the virtual router state machine.
        .target(name: "VRRP", dependencies: ["VigilConfig"]),
        // C declarations Glibc lacks (netlink, packet sockets) and wrappers for their macros.
        .target(name: "CLinux"),
        // I/O: the event loop, raw VRRP sockets, rtnetlink, gratuitous ARP and neighbour advertisements.
        .target(name: "LinuxNet", dependencies: ["CLinux", "VigilConfig"]),
        // The processes: supervisor and VRRP service, wiring the state machines to the I/O.
        .target(
            name: "Daemon",
            dependencies: [
                "VigilConfig", "VRRP", "LinuxNet", "CLinux", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilConfig", "Daemon", "NetworkLab", "CLinux",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Network-namespace labs: for `vigil lab` and the lab tests.
        .target(name: "NetworkLab", dependencies: ["CLinux"]),
        // The benchmark beside keepalived.
        .executableTarget(
            name: "vigil-bench",
            dependencies: ["NetworkLab", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Test-only: lab requirements, package paths.
        .target(name: "VigilTestSupport", dependencies: ["NetworkLab"]),
        .testTarget(name: "VigilConfigTests", dependencies: ["VigilConfig"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "VigilConfig"]),
        .testTarget(name: "LinuxNetTests", dependencies: ["LinuxNet", "VigilConfig"]),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon"]),
        .testTarget(
            name: "LabTests",
            dependencies: ["VigilConfig", "VigilTestSupport"],
            exclude: ["Fixtures"]
        ),
    ]
)
