import LinuxNet

/// libFuzzer target: any bytes as what a NETLINK_ROUTE socket returned, through the message parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data = pointer else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = NetlinkMessage.parse(bytes[...])
    return 0
}
