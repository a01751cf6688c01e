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
    /// Which bridge (for `tap`) the rule is about.
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

/// The kinds of object a rule can be about. Only `tap` is implemented;
/// `macvtap`, `raw`, `vhost` and `routed-tap` are reserved words that the
/// parser recognises and reports as unsupported.
public enum RuleKind: String, Sendable, Equatable {
    case tap

    /// Kinds this version parses but does not support, in documentation order.
    static let reserved = ["macvtap", "raw", "vhost", "routed-tap"]
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

/// The `key=value` options of an allow rule.
public struct RuleOptions: Sendable, Equatable {
    /// `vnet-hdr=yes|no`: whether the tap may have IFF_VNET_HDR. Default yes.
    public var vnetHeader: Bool

    /// Creates options; the defaults are what a rule without options grants.
    public init(vnetHeader: Bool = true) {
        self.vnetHeader = vnetHeader
    }
}

/// A parsed statement of a policy file, before includes are followed.
enum Statement {
    /// `include PATH`; `location` points at the path token.
    case include(path: String, location: SourceLocation)
    /// `allow ...` / `deny ...`, with its subject already resolved.
    case rule(Rule)
    /// `set tap-prefix PREFIX`; `location` points at the value token.
    case setTapPrefix(String, location: SourceLocation)
}
