/// An open nested attribute, returned by `NetlinkMessageBuilder.beginNested(_:)` and closed by `endNested(_:)`.
public struct NetlinkNestMarker: Sendable {
    /// Offset of the nest's `struct nlattr` within the message.
    let offset: Int
}

/// Builds one netlink request: a `struct nlmsghdr`, a family header, then attributes.
///
/// Append in wire order. Every append keeps the message 4-byte aligned by zero-padding, so `nla_len` counts the
/// value without padding while the next attribute starts aligned (NLA_ALIGN). Lengths that cannot be represented
/// (an attribute over 65535 bytes) are programming errors and trap.
public struct NetlinkMessageBuilder: Sendable {
    private var bytes: [UInt8] = []

    /// Starts a message with the given header fields; `nlmsg_len` is filled in by `finish()`.
    public init(type: UInt16, flags: UInt16, sequence: UInt32) {
        bytes.appendHostOrder(UInt32(0))   // nlmsg_len
        bytes.appendHostOrder(type)
        bytes.appendHostOrder(flags)
        bytes.appendHostOrder(sequence)
        bytes.appendHostOrder(UInt32(0))   // nlmsg_pid: 0 addresses the kernel
    }

    /// Appends a `struct ifinfomsg` (linux/rtnetlink.h): family, pad, type, index, flags, change.
    ///
    /// `change` selects which bits of `flags` the kernel applies; 0 leaves the link's flags alone.
    public mutating func appendInterfaceInfo(
        index: Int32, flags: UInt32 = 0, change: UInt32 = 0, family: UInt8 = 0, deviceType: UInt16 = 0
    ) {
        bytes.append(family)
        bytes.append(0)   // __ifi_pad
        bytes.appendHostOrder(deviceType)
        bytes.appendHostOrder(index)
        bytes.appendHostOrder(flags)
        bytes.appendHostOrder(change)
    }

    /// Appends an attribute carrying `value` verbatim, zero-padded to the next 4-byte boundary.
    public mutating func appendAttribute(_ type: UInt16, bytes value: [UInt8]) {
        appendAttributeHeader(type, length: Netlink.attributeHeaderSize + value.count)
        bytes.append(contentsOf: value)
        bytes.append(contentsOf: repeatElement(0, count: Netlink.align(bytes.count) - bytes.count))
    }

    /// Appends a host-order u32 attribute (IFLA_MTU, IFLA_MASTER, IFLA_EXT_MASK...).
    public mutating func appendAttribute(_ type: UInt16, uint32 value: UInt32) {
        appendAttribute(type, bytes: withUnsafeBytes(of: value) { Array($0) })
    }

    /// Appends `string` NUL-terminated, as the kernel expects for IFLA_IFNAME and IFLA_INFO_KIND.
    ///
    /// Traps if `string` contains NUL: the kernel would stop there and act on a different name than the caller
    /// checked, so callers must validate names before building.
    public mutating func appendAttribute(_ type: UInt16, string: String) {
        precondition(!string.utf8.contains(0), "netlink string attribute contains NUL")
        appendAttribute(type, bytes: Array(string.utf8) + [0])
    }

    /// Opens a nested attribute (flagged NLA_F_NESTED); attributes appended until `endNested` go inside it.
    public mutating func beginNested(_ type: UInt16) -> NetlinkNestMarker {
        let marker = NetlinkNestMarker(offset: bytes.count)
        appendAttributeHeader(type | Netlink.NLA_F_NESTED, length: 0)
        return marker
    }

    /// Closes the nest `marker` by setting its `nla_len` to cover everything appended since `beginNested`.
    public mutating func endNested(_ marker: NetlinkNestMarker) {
        let length = bytes.count - marker.offset
        precondition(length >= Netlink.attributeHeaderSize && length <= UInt16.max, "invalid netlink nest")
        bytes.storeHostOrder(UInt16(length), at: marker.offset)
    }

    /// Returns the message bytes with `nlmsg_len` set; the builder is unchanged and may keep appending.
    public func finish() -> [UInt8] {
        var message = bytes
        message.storeHostOrder(UInt32(message.count), at: 0)
        return message
    }

    private mutating func appendAttributeHeader(_ type: UInt16, length: Int) {
        precondition(length <= UInt16.max, "netlink attribute longer than nla_len can express")
        bytes.appendHostOrder(UInt16(length))
        bytes.appendHostOrder(type)
    }
}
