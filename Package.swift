// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
        .executable(name: "vigil-bench", targets: ["vigil-bench"]),
        .executable(name: "vigil-flood", targets: ["vigil-flood"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure: keepalived.conf from bytes to a validated model.
        .target(name: "VigilConfig"),
        // Pure: the Internet checksum, MD5 and HMAC-MD5, one of each for every target.
        .target(name: "Checksums"),
        // Pure: the VRRP codec (with AH authentication) and the virtual router state machine.
        .target(name: "VRRP", dependencies: ["VigilConfig", "Checksums"]),
        // Pure: BFD (RFC 5880/5881): the Control packet codec and the asynchronous-mode session state machine.
        .target(name: "BFD", dependencies: ["VRRP"]),
        // Pure: health-check state machines, real-server pools and quorum, load-balancer state and its nftables
        // form, and the codecs checkers read hostile replies with (HTTP, DNS, MD5).
        .target(name: "HealthCheck", dependencies: ["VigilConfig"]),
        // I/O: the checkers' probes (TCP, HTTP/HTTPS, SMTP, UDP, DNS, ICMP, scripts) on the event loop, and the
        // kernel load balancer backends.
        .target(name: "Checkers", dependencies: ["HealthCheck", "LinuxNet", "CLinux", "VigilConfig", "Checksums"]),
        // C declarations Glibc lacks (netlink, packet sockets) and wrappers for their macros.
        .target(name: "CLinux"),
        // I/O: the event loop, raw VRRP sockets, rtnetlink, gratuitous ARP and neighbour advertisements.
        .target(name: "LinuxNet", dependencies: ["CLinux", "VigilConfig", "Checksums"]),
        // The processes: supervisor and VRRP service, wiring the state machines to the I/O.
        .target(
            name: "Daemon",
            dependencies: [
                "VigilConfig", "VRRP", "BFD", "LinuxNet", "CLinux", "HealthCheck", "Checkers",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilConfig", "Daemon", "LinuxNet", "NetworkLab", "CLinux", "HealthCheck", "Checkers",
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
        // The lab's advert flooder (hostile-traffic tests, flood benchmark).
        .executableTarget(name: "vigil-flood", dependencies: ["CLinux", "Checksums"]),
        // Test-only: lab requirements, package paths.
        .target(name: "VigilTestSupport", dependencies: ["NetworkLab"]),
        .testTarget(name: "VigilConfigTests", dependencies: ["VigilConfig"]),
        .testTarget(name: "VRRPTests", dependencies: ["VRRP", "VigilConfig", "Checksums"]),
        .testTarget(name: "LinuxNetTests", dependencies: ["LinuxNet", "VigilConfig"]),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "Daemon", "VigilConfig", "VRRP", "BFD", "LinuxNet", "Checksums", "CLinux", "HealthCheck", "Checkers",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "BFDTests", dependencies: ["BFD", "VRRP"]),
        .testTarget(name: "HealthCheckTests", dependencies: ["HealthCheck", "VigilConfig"]),
        .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"]),
        .testTarget(
            name: "LabTests",
            dependencies: ["VigilConfig", "VigilTestSupport", "HealthCheck"],
            exclude: ["Fixtures"]
        ),
    ]
)

// libFuzzer targets, built only by scripts/fuzz (which sets VIGIL_FUZZ and -sanitize=fuzzer,address): each is a
// shared library exporting LLVMFuzzerTestOneInput, with libFuzzer's driver linked in; scripts/fuzz links a program
// around it. (An executable target cannot hold libFuzzer's main: SwiftPM points main at the module's own.)
if Context.environment["VIGIL_FUZZ"] != nil {
    package.targets += [
        .target(name: "FuzzConfig", dependencies: ["VigilConfig"], path: "Fuzz/config"),
        .target(name: "FuzzAdvert", dependencies: ["VRRP", "VigilConfig"], path: "Fuzz/advert"),
        .target(name: "FuzzNetlink", dependencies: ["LinuxNet"], path: "Fuzz/netlink"),
        .target(name: "FuzzHTTP", dependencies: ["HealthCheck", "Checksums"], path: "Fuzz/http"),
    ]
    package.products += [
        .library(name: "fuzz-config", type: .dynamic, targets: ["FuzzConfig"]),
        .library(name: "fuzz-advert", type: .dynamic, targets: ["FuzzAdvert"]),
        .library(name: "fuzz-netlink", type: .dynamic, targets: ["FuzzNetlink"]),
        .library(name: "fuzz-http", type: .dynamic, targets: ["FuzzHTTP"]),
    ]
}
