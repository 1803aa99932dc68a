/// What Vigil does with one keyword of keepalived's grammar. Every keyword the schema accepts has exactly one
/// (`KeywordInventory`); the configuration builder reports the ones Vigil does not act on at every use, so a file
/// never passes `vigil -t` in silence and then runs differently from keepalived.
public enum KeywordSupport: Sendable, Hashable {
    /// Vigil acts on the keyword as keepalived does; the text names the code that does.
    case works(String)
    /// Vigil acts on the keyword except in the case `except` names, which the validator warns about where it
    /// applies (it knows the values and the machine: the load balancer backend, a firewall-mark entry).
    case worksExcept(String, except: String)
    /// Vigil acts on part of it; the text says what it does instead of the rest. A warning at every use.
    case partial(String)
    /// Vigil does not act on it yet; the text says what Vigil does instead. A warning at every use.
    case notYet(String)
    /// Running without it would be wrong in a way that hurts, so what holds the keyword does not run; the text
    /// says what is left out. A warning at every use.
    case refused(String)
    /// The keyword has no bearing on how Vigil runs (a keepalived-internal tuning, a cosmetic); the text says why
    /// and what Vigil does. A note at every use, which does not change `-t`'s exit code.
    case notApplicable(String)

    /// Whether a use of the keyword is reported as a warning (it changes what runs).
    public var warns: Bool {
        switch self {
        case .partial, .notYet, .refused: true
        case .works, .worksExcept, .notApplicable: false
        }
    }

    /// The state as docs/COMPATIBILITY.md names it.
    public var state: String {
        switch self {
        case .works: "works"
        case .worksExcept: "works, except as noted (warned)"
        case .partial: "partial"
        case .notYet: "not yet"
        case .refused: "not yet (refused)"
        case .notApplicable: "does not apply"
        }
    }

    /// The explanation, as the docs and the diagnostics give it.
    public var detail: String {
        switch self {
        case .works(let text), .partial(let text), .notYet(let text), .refused(let text), .notApplicable(let text):
            text
        case .worksExcept(let works, let except): "\(works); except: \(except)"
        }
    }

    /// The diagnostic a use of the keyword gets, if any.
    func diagnostic(for keyword: String, at location: SourceLocation) -> Diagnostic? {
        switch self {
        case .works, .worksExcept:
            return nil
        case .partial(let text):
            return Diagnostic(.warning, .notSupported, at: location, "`\(keyword)` is only partly supported: \(text)")
        case .notYet(let text):
            return Diagnostic(.warning, .notSupported, at: location, "`\(keyword)` is not supported yet: \(text)")
        case .refused(let text):
            return Diagnostic(.warning, .notSupported, at: location, "`\(keyword)` is not supported: \(text)")
        case .notApplicable(let text):
            return Diagnostic(.note, .notApplicable, at: location, "`\(keyword)` has no effect in Vigil: \(text)")
        }
    }
}
