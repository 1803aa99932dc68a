/// A BFD Control packet (RFC 5880 4.1), without authentication (Vigil, like keepalived 2.2.7, authenticates none).
///
/// ```
///  | vers(3) diag(5) | sta(2) P F C A D M | detect mult | length |
///  | my discriminator | your discriminator |
///  | desired min TX (µs) | required min RX (µs) | required min echo RX (µs) |
/// ```
public struct ControlPacket: Hashable, Sendable {
    public static let version: UInt8 = 1
    public static let length = 24

    public var diagnostic: SessionDiagnostic
    public var state: SessionState
    public var poll = false
    public var final = false
    public var controlPlaneIndependent = false
    public var demand = false
    public var detectMultiplier: UInt8
    public var myDiscriminator: UInt32
    public var yourDiscriminator: UInt32
    /// Microseconds, as the wire carries them.
    public var desiredMinTX: UInt32
    public var requiredMinRX: UInt32
    public var requiredMinEchoRX: UInt32 = 0

    public init(
        diagnostic: SessionDiagnostic, state: SessionState, detectMultiplier: UInt8, myDiscriminator: UInt32,
        yourDiscriminator: UInt32, desiredMinTX: UInt32, requiredMinRX: UInt32
    ) {
        self.diagnostic = diagnostic
        self.state = state
        self.detectMultiplier = detectMultiplier
        self.myDiscriminator = myDiscriminator
        self.yourDiscriminator = yourDiscriminator
        self.desiredMinTX = desiredMinTX
        self.requiredMinRX = requiredMinRX
    }

    public var encoded: [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.length)
        bytes.append(Self.version << 5 | diagnostic.rawValue & 0x1f)
        var flags = state.rawValue << 6
        if poll { flags |= 0x20 }
        if final { flags |= 0x10 }
        if controlPlaneIndependent { flags |= 0x08 }
        if demand { flags |= 0x02 }
        bytes.append(flags)
        bytes.append(detectMultiplier)
        bytes.append(UInt8(Self.length))
        for word in [myDiscriminator, yourDiscriminator, desiredMinTX, requiredMinRX, requiredMinEchoRX] {
            bytes += [UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)]
        }
        return bytes
    }

    /// Why a received packet is dropped (RFC 5880 6.8.6's first checks, and what Vigil cannot accept).
    public enum Rejection: String, Error, Hashable, Sendable, CaseIterable {
        case truncated = "shorter than 24 bytes or than its length field"
        case badVersion = "not BFD version 1"
        case zeroMultiplier = "detect multiplier 0"
        case multipoint = "multipoint bit set"
        case zeroDiscriminator = "my discriminator 0"
        case authentication = "authentication present (Vigil configures none)"
    }

    /// Decodes and checks a packet as RFC 5880 6.8.6 requires before a session is looked up.
    public init(decoding bytes: some Collection<UInt8>) throws(Rejection) {
        let bytes = Array(bytes)
        guard bytes.count >= Self.length else { throw .truncated }
        guard bytes[0] >> 5 == Self.version else { throw .badVersion }
        let length = Int(bytes[3])
        let authenticated = bytes[1] & 0x04 != 0
        guard length >= (authenticated ? 26 : Self.length), length <= bytes.count else { throw .truncated }
        guard bytes[2] != 0 else { throw .zeroMultiplier }
        guard bytes[1] & 0x01 == 0 else { throw .multipoint }
        func word(_ offset: Int) -> UInt32 {
            UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
                | UInt32(bytes[offset + 3])
        }
        guard word(4) != 0 else { throw .zeroDiscriminator }
        guard !authenticated else { throw .authentication }
        diagnostic = SessionDiagnostic(rawValue: bytes[0] & 0x1f) ?? .reserved
        state = SessionState(rawValue: bytes[1] >> 6)!
        poll = bytes[1] & 0x20 != 0
        final = bytes[1] & 0x10 != 0
        controlPlaneIndependent = bytes[1] & 0x08 != 0
        demand = bytes[1] & 0x02 != 0
        detectMultiplier = bytes[2]
        myDiscriminator = word(4)
        yourDiscriminator = word(8)
        desiredMinTX = word(12)
        requiredMinRX = word(16)
        requiredMinEchoRX = word(20)
    }
}

/// A session's state (RFC 5880 4.1), as the wire numbers them.
public enum SessionState: UInt8, Hashable, Sendable, CustomStringConvertible {
    case adminDown = 0
    case down = 1
    case initializing = 2
    case up = 3

    public var description: String {
        switch self {
        case .adminDown: "AdminDown"
        case .down: "Down"
        case .initializing: "Init"
        case .up: "Up"
        }
    }
}

/// Why a session last went down (RFC 5880 4.1 "Diag").
public enum SessionDiagnostic: UInt8, Hashable, Sendable, CustomStringConvertible {
    case none = 0
    case controlDetectionTimeExpired = 1
    case echoFunctionFailed = 2
    case neighborSignaledSessionDown = 3
    case forwardingPlaneReset = 4
    case pathDown = 5
    case concatenatedPathDown = 6
    case administrativelyDown = 7
    case reverseConcatenatedPathDown = 8
    /// 9-31: reserved; carried as this.
    case reserved = 31

    public var description: String {
        switch self {
        case .none: "No Diagnostic"
        case .controlDetectionTimeExpired: "Control Detection Time Expired"
        case .echoFunctionFailed: "Echo Function Failed"
        case .neighborSignaledSessionDown: "Neighbor Signaled Session Down"
        case .forwardingPlaneReset: "Forwarding Plane Reset"
        case .pathDown: "Path Down"
        case .concatenatedPathDown: "Concatenated Path Down"
        case .administrativelyDown: "Administratively Down"
        case .reverseConcatenatedPathDown: "Reverse Concatenated Path Down"
        case .reserved: "Reserved"
        }
    }
}
