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

    /// Creates a tap request.
    public init(bridge: InterfaceName, vnetHeader: Bool) {
        self.bridge = bridge
        self.vnetHeader = vnetHeader
    }
}

/// Anything netfd can be asked to create. One case per rule kind.
public enum PolicyRequest: Sendable, Equatable {
    /// A tap device on a bridge (kind `tap`).
    case tap(TapRequest)
}

/// What the allowing rules permit for a request.
public struct Grant: Sendable, Equatable {
    /// Whether the tap may be created with IFF_VNET_HDR.
    public var vnetHeader: Bool

    /// Creates a grant.
    public init(vnetHeader: Bool) {
        self.vnetHeader = vnetHeader
    }
}

/// The outcome of evaluating a policy, with the rules that caused it so
/// that `netfd-helper check` can explain it.
public enum Decision: Sendable, Equatable {
    /// No deny rule matched and at least one allow rule did: all of them, in load order.
    case allowed(Grant, by: [Rule])
    /// At least one deny rule matched: all of them, in load order. Overrides any allow.
    case denied(by: [Rule])
    /// No rule matched; the default is to deny.
    case notAllowed

    /// Whether the request may proceed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}
