/// Splits `bytes` into its netlink attributes, in order, as (type, value) pairs.
///
/// The type has NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off; the value excludes the header and padding and
/// shares indices with `bytes`, so a nested value can be passed straight back in. Each attribute must have
/// `4 <= nla_len` and fit, with its padding to 4 bytes, inside `bytes`. Error offsets are indices of `bytes`.
public func parseNetlinkAttributes(
    _ bytes: ArraySlice<UInt8>
) throws(NetlinkDecodeError) -> [(type: UInt16, value: ArraySlice<UInt8>)] {
    var attributes: [(type: UInt16, value: ArraySlice<UInt8>)] = []
    try forEachNetlinkAttribute(in: bytes) { type, value in attributes.append((type, value)) }
    return attributes
}

/// Calls `body` with each netlink attribute of `bytes`, in order, under the rules of
/// `parseNetlinkAttributes` (which is built on it). Collects nothing: the helper's request path
/// reads the few attributes it needs without building an array of tuples, whose generic metadata
/// the Swift runtime would have to instantiate at start-up.
/// - Throws: the first malformed attribute; `body` has seen every attribute before it.
public func forEachNetlinkAttribute(
    in bytes: ArraySlice<UInt8>, _ body: (UInt16, ArraySlice<UInt8>) throws(NetlinkDecodeError) -> Void
) throws(NetlinkDecodeError) {
    var offset = 0
    while offset < bytes.count {
        let start = bytes.startIndex + offset
        let remaining = bytes.count - offset
        guard remaining >= Netlink.attributeHeaderSize else {
            throw NetlinkDecodeError(.truncatedAttributeHeader, at: start)
        }
        let length = Int(bytes.hostOrderInteger(at: offset, as: UInt16.self))
        guard length >= Netlink.attributeHeaderSize, length <= remaining else {
            throw NetlinkDecodeError(.invalidAttributeLength, at: start)
        }
        guard Netlink.align(length) <= remaining else {
            throw NetlinkDecodeError(.missingPadding, at: start)
        }
        let type = bytes.hostOrderInteger(at: offset + 2, as: UInt16.self) & Netlink.NLA_TYPE_MASK
        try body(type, bytes[start + Netlink.attributeHeaderSize..<start + length])
        offset += Netlink.align(length)
    }
}

/// Decodes a kernel string attribute: up to the first NUL, invalid UTF-8 replaced rather than rejected.
func decodeNetlinkString(_ value: ArraySlice<UInt8>) -> String {
    String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
}

/// Decodes a host-order u32 attribute; throws `.invalidAttributeValue` unless `value` is exactly 4 bytes.
func decodeNetlinkUInt32(_ value: ArraySlice<UInt8>) throws(NetlinkDecodeError) -> UInt32 {
    guard value.count == MemoryLayout<UInt32>.size else {
        throw NetlinkDecodeError(.invalidAttributeValue, at: value.startIndex - Netlink.attributeHeaderSize)
    }
    return value.hostOrderInteger(at: 0)
}

/// Decodes a u8 attribute; throws `.invalidAttributeValue` unless `value` is exactly 1 byte.
func decodeNetlinkUInt8(_ value: ArraySlice<UInt8>) throws(NetlinkDecodeError) -> UInt8 {
    guard value.count == 1 else {
        throw NetlinkDecodeError(.invalidAttributeValue, at: value.startIndex - Netlink.attributeHeaderSize)
    }
    return value[value.startIndex]
}
