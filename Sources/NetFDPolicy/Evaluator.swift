/// A loaded policy: every rule of every file, ready to decide requests.
public struct Policy: Sendable {
    /// Absolute paths of every file read, in load order.
    public let files: [String]
    /// Every rule, in load order (includes expanded where they appear).
    public let rules: [Rule]
    /// From `set tap-prefix NAME`; nil means the kernel's default "tap".
    public let tapNamePrefix: String?
    /// Problems that do not stop loading, e.g. unknown user or group names.
    public let warnings: [PolicyDiagnostic]

    /// Creates a policy; normally done by `PolicyLoader`.
    public init(files: [String], rules: [Rule], tapNamePrefix: String?, warnings: [PolicyDiagnostic]) {
        self.files = files
        self.rules = rules
        self.tapNamePrefix = tapNamePrefix
        self.warnings = warnings
    }

    /// Decides `request` for the caller `identity`.
    ///
    /// Default deny; any matching deny rule wins over every allow rule; the
    /// outcome depends only on the set of rules, never on their order or on
    /// how they are split across files. A grant has IFF_VNET_HDR when the
    /// caller asked for it and some matching allow rule permits it.
    public func decide(_ request: PolicyRequest, for identity: Identity) -> Decision {
        switch request {
        case .tap(let tap):
            var denies: [Rule] = [], allows: [Rule] = []
            // Indexing in place rather than `for rule in rules` avoids copying
            // (and retaining the strings of) every rule that does not match.
            for index in rules.indices where rules[index].kind == .tap
                && rules[index].subject.matches(identity) && rules[index].target.matches(tap.bridge) {
                switch rules[index].effect {
                case .deny: denies.append(rules[index])
                case .allow: allows.append(rules[index])
                }
            }
            if !denies.isEmpty { return .denied(by: denies) }
            if allows.isEmpty { return .notAllowed }
            let vnetHeader = tap.vnetHeader && allows.contains { $0.options.vnetHeader }
            return .allowed(Grant(vnetHeader: vnetHeader), by: allows)
        }
    }
}
