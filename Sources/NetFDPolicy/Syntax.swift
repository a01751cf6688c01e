/// One `allow` or `deny` rule, resolved and ready to evaluate.
public struct Rule: Sendable, Equatable {
    /// Whether a match allows or denies.
    public enum Effect: String, Sendable, Equatable {
        case allow, deny
    }

    /// Whether the rule allows or denies.
    public var effect: Effect
    /// Who the rule applies to.
    public var subject: Subject
    /// What kind of object the rule is about.
    public var kind: RuleKind
    /// Which bridge (for `tap`) or link (for `macvtap` and `raw`) the rule is about.
    public var target: NamePattern
    /// What an allow rule grants; always the defaults on a deny rule.
    public var options: RuleOptions
    /// Where the rule starts (its first token).
    public var location: SourceLocation
    /// The statement as written, trimmed, without its comment.
    public var text: String {
        get { String(decoding: source, as: UTF8.self) }
        set { source = Array(newValue.utf8)[...] }
    }
    /// `text`'s bytes, a slice of the policy file: no String per rule until one is asked for.
    var source: ArraySlice<UInt8>

    /// Creates a rule.
    public init(effect: Effect, subject: Subject, kind: RuleKind, target: NamePattern,
                options: RuleOptions = RuleOptions(), location: SourceLocation, text: String) {
        self.init(effect: effect, subject: subject, kind: kind, target: target, options: options,
                  location: location, source: Array(text.utf8)[...])
    }

    /// Creates a rule whose text is `source`.
    init(effect: Effect, subject: Subject, kind: RuleKind, target: NamePattern,
         options: RuleOptions = RuleOptions(), location: SourceLocation, source: ArraySlice<UInt8>) {
        self.effect = effect
        self.subject = subject
        self.kind = kind
        self.target = target
        self.options = options
        self.location = location
        self.source = source
    }

    public static func == (lhs: Rule, rhs: Rule) -> Bool {
        lhs.effect == rhs.effect && lhs.subject == rhs.subject && lhs.kind == rhs.kind && lhs.target == rhs.target
            && lhs.options == rhs.options && lhs.location == rhs.location && lhs.source.elementsEqual(rhs.source)
    }
}

/// The callers a rule applies to, resolved to numeric IDs at load time.
public enum Subject: Sendable, Equatable {
    /// `any`, and the two-token bridge.conf form: every caller.
    case anyone
    /// `user NAME|UID`: callers whose real uid is this.
    case user(UInt32)
    /// `group NAME|GID`: callers with this primary or supplementary gid.
    case group(UInt32)
    /// `user NAME` with a name the user database does not know: matches nobody.
    case unknownUser(String)
    /// `group NAME` with a name the group database does not know: matches nobody.
    case unknownGroup(String)

    /// Whether a caller with `identity` is one of this subject's callers.
    public func matches(_ identity: Identity) -> Bool {
        switch self {
        case .anyone: return true
        case .user(let uid): return identity.uid == uid
        case .group(let gid): return identity.isMember(ofGroup: gid)
        case .unknownUser, .unknownGroup: return false
        }
    }
}

/// The kinds of object a rule can be about. `routed-tap` is a reserved word that the parser
/// recognises and reports as unsupported.
public enum RuleKind: String, Sendable, Equatable {
    /// A tap device on a bridge (target `bridge`).
    case tap
    /// A macvtap device on a lower link (target `link`).
    case macvtap
    /// An AF_PACKET raw socket bound to a link (target `link`).
    case raw

    /// Kinds this version parses but does not support, in documentation order.
    static let reserved = ["routed-tap"]

    /// The word that names the kind's target: `bridge` for tap, `link` for the others.
    public var targetWord: String { self == .tap ? "bridge" : "link" }
}

/// Which interface names a rule's target covers.
public enum NamePattern: Sendable, Equatable, CustomStringConvertible {
    /// `all`, or no target at all: every name.
    case any
    /// An exact name; compared by whole-string equality.
    case exact(InterfaceName)
    /// `glob:PATTERN`, matched against the whole name.
    case glob(Glob)

    /// Whether `name` is covered.
    public func matches(_ name: InterfaceName) -> Bool {
        switch self {
        case .any: return true
        case .exact(let exact): return exact == name
        case .glob(let glob): return glob.matches(name)
        }
    }

    /// The pattern as it is written in a policy.
    public var description: String {
        switch self {
        case .any: return "all"
        case .exact(let name): return name.value
        case .glob(let glob): return "glob:" + glob.pattern
        }
    }
}

/// The `key=value` options of an allow rule. Which keys a rule may have depends on its kind
/// (`Parser`); the fields of the others keep their defaults, which is what a deny rule has too.
public struct RuleOptions: Sendable, Equatable {
    /// `vnet-hdr=yes|no`: whether the device or socket may have the virtio-net header. Default yes.
    public var vnetHeader: Bool
    /// `queues=N` (tap, macvtap): the most queues (fds) a request may ask for, 1...64. Default 1.
    public var maximumQueues: Int
    /// `vhost=yes|no` (tap, macvtap): whether vhost-net fds may be handed over. Default no.
    public var vhost: Bool
    /// `mode=M,...` (macvtap): the modes a request may ask for. Default bridge, vepa, private.
    public var modes: [MacvtapMode]
    /// `mac=PATTERN,...` (macvtap): the addresses a request may choose. Default none: the
    /// request gets a generated address.
    public var macPatterns: [MacPattern]
    /// `promisc=yes|no` (raw): whether the socket may join the link in promiscuous mode. Default no.
    public var promiscuous: Bool
    /// `quota=N` (tap, macvtap): the most interfaces the caller may hold at once, 1...100000.
    /// Default nil: no limit.
    public var quota: Int?

    /// Creates options; the defaults are what a rule without options grants.
    public init(vnetHeader: Bool = true, maximumQueues: Int = 1, vhost: Bool = false,
                modes: [MacvtapMode] = [.bridge, .vepa, .private], macPatterns: [MacPattern] = [],
                promiscuous: Bool = false, quota: Int? = nil) {
        self.vnetHeader = vnetHeader
        self.maximumQueues = maximumQueues
        self.vhost = vhost
        self.modes = modes
        self.macPatterns = macPatterns
        self.promiscuous = promiscuous
        self.quota = quota
    }

    /// The most queues a rule may allow.
    public static let queueLimit = 64
    /// The largest quota a rule may set.
    public static let quotaLimit = 100_000
}

/// A parsed statement of a policy file, before includes are followed.
enum Statement {
    /// `include PATH`; `location` points at the path token.
    case include(path: String, location: SourceLocation)
    /// `allow ...` / `deny ...`, with its subject already resolved.
    case rule(Rule)
    /// `set tap-prefix PREFIX`; `location` points at the value token.
    case setTapPrefix(String, location: SourceLocation)
    /// `set vhost-device PATH`; `location` points at the value token.
    case setVhostDevice(String, location: SourceLocation)
}
