/// Splits `bytes` into its netlink attributes, in order, as (type, value) pairs.
///
/// The type has NLA_F_NESTED and NLA_F_NET_BYTEORDER masked off; the value excludes the header and padding and
/// shares indices with `bytes`, so a nested value can be passed straight back in. Each attribute must have
/// `4 <= nla_len` and fit, with its padding to 4 bytes, inside `bytes`. Error offsets are indices of `bytes`.
public func parseNetlinkAttributes(
    _ bytes: ArraySlice<UInt8>
) throws(NetlinkDecodeError) -> [(type: UInt16, value: ArraySlice<UInt8>)] {
    var attributes: [(type: UInt16, value: ArraySlice<UInt8>)] = []
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
        attributes.append((type, bytes[start + Netlink.attributeHeaderSize..<start + length]))
        offset += Netlink.align(length)
    }
    return attributes
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
