/// One message read from a netlink socket: the `struct nlmsghdr` fields and the bytes after the header.
public struct NetlinkMessage: Equatable, Sendable {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    /// `nlmsg_pid`: 0 for messages from the kernel.
    public var portID: UInt32
    /// The `nlmsg_len - 16` bytes after the header, without trailing alignment padding.
    public var payload: [UInt8]

    public init(type: UInt16, flags: UInt16, sequence: UInt32, portID: UInt32, payload: [UInt8]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.portID = portID
        self.payload = payload
    }

    /// For NLMSG_ERROR: 0 for an ACK, otherwise the positive errno the kernel reported.
    ///
    /// nil for other types, or for a hand-made error message too short to hold the code.
    public var errorNumber: Int32? {
        guard type == Netlink.NLMSG_ERROR, payload.count >= MemoryLayout<Int32>.size else { return nil }
        // struct nlmsgerr starts with the negated errno. Parsed messages hold -MAX_ERRNO...0; wrapping negation
        // keeps a hand-made Int32.min from trapping.
        return 0 &- payload.hostOrderInteger(at: 0, as: Int32.self)
    }
}

/// Largest errno the kernel reports (MAX_ERRNO, include/linux/err.h).
private let maximumErrorNumber: Int32 = 4095

/// Splits a datagram read from a netlink socket into its messages, in order.
///
/// Each message must have `16 <= nlmsg_len` and fit, with its padding to 4 bytes, inside the datagram; an empty
/// datagram holds no messages. NLMSG_ERROR messages must carry an error code in -MAX_ERRNO...0, so `errorNumber`
/// is always meaningful. Every step consumes at least 16 bytes, so hostile input cannot loop.
public func parseNetlinkMessages(_ datagram: [UInt8]) throws(NetlinkDecodeError) -> [NetlinkMessage] {
    var messages: [NetlinkMessage] = []
    try forEachNetlinkMessage(in: datagram[...]) { message in messages.append(message); return true }
    return messages
}

/// Calls `body` with each message of `datagram`, in order, under the rules of `parseNetlinkMessages`
/// (which is built on it), until `body` returns false. Builds no array of messages: the helper's
/// request path looks for one reply, and an array would cost it a generic-metadata instantiation.
/// Error offsets are indices relative to the start of `datagram`.
/// - Throws: the first malformed message; `body` has seen every message before it.
public func forEachNetlinkMessage(
    in datagram: ArraySlice<UInt8>, _ body: (NetlinkMessage) throws(NetlinkDecodeError) -> Bool
) throws(NetlinkDecodeError) {
    let base = datagram.startIndex
    var offset = 0
    while offset < datagram.count {
        let remaining = datagram.count - offset
        guard remaining >= Netlink.messageHeaderSize else {
            throw NetlinkDecodeError(.truncatedMessageHeader, at: offset)
        }
        let length = Int(datagram.hostOrderInteger(at: offset, as: UInt32.self))
        guard length >= Netlink.messageHeaderSize, length <= remaining else {
            throw NetlinkDecodeError(.invalidMessageLength, at: offset)
        }
        guard Netlink.align(length) <= remaining else {
            throw NetlinkDecodeError(.missingPadding, at: offset)
        }
        let message = NetlinkMessage(
            type: datagram.hostOrderInteger(at: offset + 4),
            flags: datagram.hostOrderInteger(at: offset + 6),
            sequence: datagram.hostOrderInteger(at: offset + 8),
            portID: datagram.hostOrderInteger(at: offset + 12),
            payload: Array(datagram[base + offset + Netlink.messageHeaderSize..<base + offset + length])
        )
        if message.type == Netlink.NLMSG_ERROR {
            guard message.payload.count >= MemoryLayout<Int32>.size else {
                throw NetlinkDecodeError(.truncatedPayload, at: offset)
            }
            guard (-maximumErrorNumber...0).contains(message.payload.hostOrderInteger(at: 0, as: Int32.self)) else {
                throw NetlinkDecodeError(.invalidErrorCode, at: offset)
            }
        }
        guard try body(message) else { return }
        offset += Netlink.align(length)
    }
}
