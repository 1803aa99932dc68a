import Checkers
import VigilConfig

/// The machine the daemon (or `vigil -t`) runs on, as validation asks about it: `LocalEnvironment`'s answers,
/// and PCRE2's word on each HTTP check's `regex`.
public struct HostEnvironment: ValidationEnvironment {
    let local = LocalEnvironment()

    public init() {}

    public func interfaceExists(_ name: String) -> Bool? { local.interfaceExists(name) }
    public func program(_ name: String) -> ProgramStatus { local.program(name) }
    public func userExists(_ name: String) -> Bool? { local.userExists(name) }
    public func kernelHasIPVS() -> Bool? { local.kernelHasIPVS() }

    public func patternError(_ pattern: String, options: UInt32) -> String? {
        switch BodyPattern.compile(pattern, options: options) {
        case .success: nil
        case .failure(let error): "\(error)"
        }
    }
}
