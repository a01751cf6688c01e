/// How a macvlan or macvtap link forwards between itself and its siblings on the same lower link
/// (MACVLAN_MODE_* in linux/if_link.h; the value of IFLA_MACVLAN_MODE).
public enum MacvlanMode: UInt32, Sendable, CaseIterable {
    /// Never talks to other macvlans on the lower link, even through an external switch.
    case `private` = 1
    /// Everything goes out of the lower link; siblings are reached through an external switch
    /// (a "hairpin"), and broadcasts come back from it.
    case vepa = 2
    /// Siblings talk to each other directly; everything else goes out of the lower link.
    case bridge = 4
    /// Takes over the lower link: one macvlan only, which gets the lower link's traffic.
    case passthru = 8

    /// The name iproute2 uses: "private", "vepa", "bridge", "passthru".
    public var name: String {
        switch self {
        case .private: return "private"
        case .vepa: return "vepa"
        case .bridge: return "bridge"
        case .passthru: return "passthru"
        }
    }
}
