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

    /// From `set vhost-device PATH`; nil means /dev/vhost-net.
    public let vhostDevicePath: String?

    /// Creates a policy; normally done by `PolicyLoader`.
    public init(files: [String], rules: [Rule], tapNamePrefix: String?, vhostDevicePath: String? = nil, warnings: [PolicyDiagnostic]) {
        self.files = files
        self.rules = rules
        self.tapNamePrefix = tapNamePrefix
        self.vhostDevicePath = vhostDevicePath
        self.warnings = warnings
    }

    /// Decides `request` for the caller `identity`.
    ///
    /// Default deny; any matching deny rule wins over every allow rule. Each matching allow rule
    /// is judged on its own (never a union of rules): it permits the request when everything
    /// asked is within its options. The outcome depends only on the set of rules, never on their
    /// order or on how they are split across files (except which rule `.exceeds` names: the
    /// first matching allow rule in load order). A grant has the virtio-net header when the
    /// caller asked for it and some permitting rule has vnet-hdr=yes; its quota is the largest
    /// of the permitting rules', none if one of them has none.
    public func decide(_ request: PolicyRequest, for identity: Identity) -> Decision {
        let kind = request.kind, target = request.target
        var denies: [Rule] = [], allows: [Rule] = []
        // Indexing in place rather than `for rule in rules` avoids copying
        // (and retaining the strings of) every rule that does not match.
        for index in rules.indices where rules[index].kind == kind
            && rules[index].subject.matches(identity) && rules[index].target.matches(target) {
            switch rules[index].effect {
            case .deny: denies.append(rules[index])
            case .allow: allows.append(rules[index])
            }
        }
        if !denies.isEmpty { return .denied(by: denies) }
        if allows.isEmpty { return .notAllowed }
        var vnetHeader = false, unlimited = false, quota = 0
        var permitting = 0
        for index in allows.indices where allows[index].options.permits(request) {
            let options = allows[index].options
            vnetHeader = vnetHeader || options.vnetHeader
            if let limit = options.quota { quota = max(quota, limit) } else { unlimited = true }
            permitting += 1
        }
        if permitting == 0 { return .exceeds(rule: allows[0], reason: allows[0].options.refusal(of: request)) }
        if permitting < allows.count { allows.removeAll { !$0.options.permits(request) } }
        let grant = Grant(vnetHeader: request.vnetHeader && vnetHeader, quota: unlimited ? nil : quota)
        return .allowed(grant, by: allows)
    }
}

extension RuleOptions {
    /// Whether an allow rule with these options permits everything `request` asks for:
    /// its queues, vhost, mode, MAC and promiscuity. (The virtio-net header is not asked
    /// but granted: a rule without it still permits the request, which then goes without.)
    func permits(_ request: PolicyRequest) -> Bool {
        switch request {
        case .tap(let tap):
            return tap.queues <= maximumQueues && (!tap.vhost || vhost)
        case .macvtap(let macvtap):
            guard macvtap.queues <= maximumQueues, !macvtap.vhost || vhost, modes.contains(macvtap.mode) else { return false }
            guard let address = macvtap.address else { return true }
            return macPatterns.contains { $0.matches(address) }
        case .raw(let raw):
            return !raw.promiscuous || promiscuous
        }
    }

    /// What these options do not permit of `request`, as a phrase whose subject is the rule:
    /// "allows at most 1 queue, not 4". Only for a request that `permits` refuses; checked in
    /// the order queues, vhost, mode, MAC, promiscuity.
    func refusal(of request: PolicyRequest) -> String {
        var queues = 1, wantsVhost = false
        switch request {
        case .tap(let tap): (queues, wantsVhost) = (tap.queues, tap.vhost)
        case .macvtap(let macvtap): (queues, wantsVhost) = (macvtap.queues, macvtap.vhost)
        case .raw(let raw):
            if raw.promiscuous && !promiscuous { return "does not allow promisc (promisc=no)" }
        }
        if queues > maximumQueues {
            return "allows at most \(maximumQueues) queue\(maximumQueues == 1 ? "" : "s"), not \(queues)"
        }
        if wantsVhost && !vhost { return "does not allow vhost (vhost=no)" }
        if case .macvtap(let macvtap) = request {
            if !modes.contains(macvtap.mode) {
                let names = modes.map { $0.rawValue }.joined(separator: ", ")
                return "allows mode\(modes.count == 1 ? "" : "s") \(names), not \(macvtap.mode.rawValue)"
            }
            if let address = macvtap.address, !macPatterns.contains(where: { $0.matches(address) }) {
                if macPatterns.isEmpty { return "allows no MAC chosen by the request" }
                return "does not allow \(address) (mac=\(macPatterns.map { $0.description }.joined(separator: ",")))"
            }
        }
        return "permits it"   // unreachable for a request `permits` refuses
    }
}
