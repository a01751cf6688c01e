/// Who is asking: the caller's credentials as the kernel reports them
/// (SO_PEERCRED / getresuid), never as the caller claims them.
public struct Identity: Sendable, Equatable {
    /// Real user ID; `user` subjects match this.
    public var uid: UInt32
    /// Real group ID; `group` subjects match this or a supplementary group.
    public var gid: UInt32
    /// Supplementary group IDs.
    public var supplementaryGroups: [UInt32]

    /// Creates an identity from kernel-reported credentials.
    public init(uid: UInt32, gid: UInt32, supplementaryGroups: [UInt32]) {
        self.uid = uid
        self.gid = gid
        self.supplementaryGroups = supplementaryGroups
    }

    /// Whether the caller's primary or a supplementary group is `group`.
    public func isMember(ofGroup group: UInt32) -> Bool {
        gid == group || supplementaryGroups.contains(group)
    }
}

/// A request for a tap device attached to a bridge.
public struct TapRequest: Sendable, Equatable {
    /// The bridge the tap is to be attached to.
    public var bridge: InterfaceName
    /// Whether the caller wants IFF_VNET_HDR on the tap.
    public var vnetHeader: Bool
    /// How many queues (fds, IFF_MULTI_QUEUE when more than one): 1...64.
    public var queues: Int
    /// Whether the caller wants a vhost-net fd per queue.
    public var vhost: Bool

    /// Creates a tap request.
    public init(bridge: InterfaceName, vnetHeader: Bool, queues: Int = 1, vhost: Bool = false) {
        self.bridge = bridge
        self.vnetHeader = vnetHeader
        self.queues = queues
        self.vhost = vhost
    }
}

/// A request for a macvtap device on a lower link.
public struct MacvtapRequest: Sendable, Equatable {
    /// The lower link.
    public var link: InterfaceName
    /// The forwarding mode.
    public var mode: MacvtapMode
    /// The address the caller chose; nil to have one generated.
    public var address: MacAddress?
    /// How many queues (opens of /dev/tapIFINDEX): 1...64.
    public var queues: Int
    /// Whether the caller wants IFF_VNET_HDR on the queues.
    public var vnetHeader: Bool
    /// Whether the caller wants a vhost-net fd per queue.
    public var vhost: Bool

    /// Creates a macvtap request.
    public init(link: InterfaceName, mode: MacvtapMode = .bridge, address: MacAddress? = nil,
                queues: Int = 1, vnetHeader: Bool = false, vhost: Bool = false) {
        self.link = link
        self.mode = mode
        self.address = address
        self.queues = queues
        self.vnetHeader = vnetHeader
        self.vhost = vhost
    }
}

/// A request for an AF_PACKET raw socket bound to a link.
public struct RawRequest: Sendable, Equatable {
    /// The link the socket is bound to.
    public var link: InterfaceName
    /// The EtherType received, host order; 0x0003 (ETH_P_ALL) is every protocol.
    public var ethernetProtocol: UInt16
    /// Whether the caller wants PACKET_VNET_HDR.
    public var vnetHeader: Bool
    /// Whether the caller wants a PACKET_MR_PROMISC membership.
    public var promiscuous: Bool

    /// ETH_P_ALL: every protocol.
    public static let allProtocols: UInt16 = 0x0003

    /// Creates a raw socket request.
    public init(link: InterfaceName, ethernetProtocol: UInt16 = RawRequest.allProtocols,
                vnetHeader: Bool = false, promiscuous: Bool = false) {
        self.link = link
        self.ethernetProtocol = ethernetProtocol
        self.vnetHeader = vnetHeader
        self.promiscuous = promiscuous
    }
}

/// Anything netfd can be asked to create. One case per rule kind.
public enum PolicyRequest: Sendable, Equatable {
    /// A tap device on a bridge (kind `tap`).
    case tap(TapRequest)
    /// A macvtap device on a lower link (kind `macvtap`).
    case macvtap(MacvtapRequest)
    /// A raw packet socket on a link (kind `raw`).
    case raw(RawRequest)

    /// The kind of rule that decides the request.
    public var kind: RuleKind {
        switch self {
        case .tap: return .tap
        case .macvtap: return .macvtap
        case .raw: return .raw
        }
    }

    /// The name a rule's target is matched against: the bridge, or the link.
    public var target: InterfaceName {
        switch self {
        case .tap(let tap): return tap.bridge
        case .macvtap(let macvtap): return macvtap.link
        case .raw(let raw): return raw.link
        }
    }

    /// Whether the caller asked for the virtio-net header.
    public var vnetHeader: Bool {
        switch self {
        case .tap(let tap): return tap.vnetHeader
        case .macvtap(let macvtap): return macvtap.vnetHeader
        case .raw(let raw): return raw.vnetHeader
        }
    }

    /// The request as the native interface spells it, defaults omitted:
    /// "kind=macvtap link=v0 mode=vepa queues=2 vhost=yes". Keys in the order of
    /// the request interface: kind, bridge or link, mode, mac, queues, vnet-hdr, vhost, protocol, promisc.
    /// Used in refusals and by `check`.
    public var summary: String {
        var text = "kind=" + kind.rawValue + " " + kind.targetWord + "=" + target.value
        switch self {
        case .tap(let tap):
            if tap.queues != 1 { text += " queues=" + String(tap.queues) }
            if tap.vnetHeader { text += " vnet-hdr=yes" }
            if tap.vhost { text += " vhost=yes" }
        case .macvtap(let macvtap):
            if macvtap.mode != .bridge { text += " mode=" + macvtap.mode.rawValue }
            if let address = macvtap.address { text += " mac=" + address.description }
            if macvtap.queues != 1 { text += " queues=" + String(macvtap.queues) }
            if macvtap.vnetHeader { text += " vnet-hdr=yes" }
            if macvtap.vhost { text += " vhost=yes" }
        case .raw(let raw):
            if raw.vnetHeader { text += " vnet-hdr=yes" }
            if raw.ethernetProtocol != RawRequest.allProtocols { text += " protocol=" + protocolText(raw.ethernetProtocol) }
            if raw.promiscuous { text += " promisc=yes" }
        }
        return text
    }
}

/// "0x0800": an EtherType as `protocol=` spells it, four lower-case digits.
func protocolText(_ value: UInt16) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 4 - digits.utf8.count) + digits
}

/// What the permitting rules grant for a request.
public struct Grant: Sendable, Equatable {
    /// Whether the device or socket may have the virtio-net header (IFF_VNET_HDR, PACKET_VNET_HDR).
    public var vnetHeader: Bool
    /// The most interfaces the caller may hold at once, this one included; nil for no limit.
    public var quota: Int?

    /// Creates a grant.
    public init(vnetHeader: Bool, quota: Int? = nil) {
        self.vnetHeader = vnetHeader
        self.quota = quota
    }
}

/// The outcome of evaluating a policy, with the rules that caused it so
/// that `netfd-helper check` can explain it.
public enum Decision: Sendable, Equatable {
    /// No deny rule matched and at least one matching allow rule permits everything asked:
    /// the permitting rules, in load order.
    case allowed(Grant, by: [Rule])
    /// At least one deny rule matched: all of them, in load order. Overrides any allow.
    case denied(by: [Rule])
    /// No rule matched; the default is to deny.
    case notAllowed
    /// Allow rules match but none permits everything asked; `rule` is the first matching allow
    /// rule in load order, `reason` says what it does not permit ("allows at most 1 queue, not 4").
    case exceeds(rule: Rule, reason: String)

    /// Whether the request may proceed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}
