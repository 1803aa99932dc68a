/// A value most configurations leave empty (a notify script, the five of an instance), kept out of line: nothing
/// but a null reference while it is empty, one allocation once set. Inline, an instance's notify scripts alone
/// were 320 of its 1,128 bytes, and a real server's two 128 of 272, for every instance and real server, set or not.
@propertyWrapper
public struct OutOfLine<Value: EmptyByDefault & Sendable>: Hashable, Sendable {
    private indirect enum Box: Hashable, Sendable {
        case value(Value)
    }

    private var box: Box?

    public init(wrappedValue: Value) {
        box = wrappedValue == .empty ? nil : .value(wrappedValue)
    }

    public var wrappedValue: Value {
        get {
            guard case .value(let value) = box else { return .empty }
            return value
        }
        set { box = newValue == .empty ? nil : .value(newValue) }
    }
}

/// The reflection the configuration dump reads: the value itself.
extension OutOfLine: CustomReflectable {
    public var customMirror: Mirror { Mirror(reflecting: wrappedValue) }
}

/// A value with an empty state that most configurations keep.
public protocol EmptyByDefault: Hashable {
    static var empty: Self { get }
}

extension Optional: EmptyByDefault where Wrapped: Hashable {
    public static var empty: Self { nil }
}
