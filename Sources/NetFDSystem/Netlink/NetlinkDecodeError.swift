/// Why a netlink buffer was rejected, and where.
///
/// Decoding never trusts a length field: any inconsistency becomes one of these errors rather than a trap or a loop.
public struct NetlinkDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The inconsistency found.
    public enum Kind: Equatable, Sendable {
        /// Fewer than 16 bytes remain for a `struct nlmsghdr`.
        case truncatedMessageHeader
        /// `nlmsg_len` is below the header size or runs past the datagram.
        case invalidMessageLength
        /// Fewer than 4 bytes remain for a `struct nlattr`.
        case truncatedAttributeHeader
        /// `nla_len` is below the header size or runs past the enclosing payload.
        case invalidAttributeLength
        /// A message or attribute ends before the padding to its 4-byte boundary.
        case missingPadding
        /// The payload is shorter than the fixed header its type requires (`struct ifinfomsg`, nlmsgerr's code).
        case truncatedPayload
        /// An NLMSG_ERROR code outside -MAX_ERRNO...0.
        case invalidErrorCode
        /// A fixed-size attribute (e.g. a u32) has the wrong size.
        case invalidAttributeValue
        /// The message is not of the type being decoded.
        case unexpectedMessageType
    }

    public let kind: Kind
    /// Index of the offending header in the buffer being decoded: the datagram, or the message payload.
    public let offset: Int

    init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        "netlink: \(kind) at byte \(offset)"
    }
}
