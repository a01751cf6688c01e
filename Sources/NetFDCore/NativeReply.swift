// NativeReply.swift - the one line a native request answers with (netfd-helper(8), NATIVE
// REQUESTS). Pure: the flow sends it, with the descriptors, in one sendmsg.

/// The reply line of the native interface, versioned so that clients can refuse what they do not know.
///
///     netfd/1 ok kind=macvtap name=macvtap0 ifindex=7 mac=52:54:00:12:34:56 ... fds=tap,tap,vhost,vhost
///     netfd/1 error 3 refused macvtap on link eth0 for user alice (uid 1000): no rule ... allows it
///
/// Fields are `KEY=VALUE` with values that never hold blanks (names, numbers, MACs, yes/no);
/// `fds` is always last and lists what each descriptor of the message is, in order.
public enum NativeReply {
    /// The protocol word every reply starts with.
    public static let version = "netfd/1"
    /// The longest reply a client must accept, newline included.
    public static let maximumLength = 4096

    /// `netfd/1 ok FIELDS fds=LABELS\n`.
    public static func success(_ fields: [ReplyField], descriptorLabels: [String]) -> String {
        var line = version + " ok"
        for field in fields { line += " " + field.key + "=" + field.value }
        return line + " fds=" + descriptorLabels.joined(separator: ",") + "\n"
    }

    /// `netfd/1 error EXIT MESSAGE\n`: the same message as the stderr line, and the exit status.
    public static func error(_ failure: HelperFailure) -> String {
        version + " error \(failure.exitCode) " + failure.message + "\n"
    }
}

/// One `KEY=VALUE` of a reply.
public struct ReplyField: Equatable, Sendable {
    public var key: String
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}
