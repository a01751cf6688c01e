// CheckCommand.swift - `netfd-helper check`: validate the policy and explain a decision,
// what `sudo -l` is to sudoers. Pure: the policy and the user database are read by the caller.
import NetFDPolicy

/// The report `check` prints and the exit status it ends with.
public struct CheckReport: Equatable {
    public var text: String
    /// 0 valid/allowed, 3 denied (as the helper would exit).
    public var exitCode: Int32

    /// Builds the report for `arguments`. `caller` is who runs check; `--user`/`--group` replace it.
    /// `compiledForm` is the line saying whether the helper would use the compiled form (`compiledFormLine`).
    public static func make(_ arguments: CheckArguments, policy: Policy, users: any UserDirectory,
                            caller: Identity, compiledForm: String? = nil) throws(HelperFailure) -> CheckReport {
        var lines = ["policy \(policy.files.first.map(displayPath) ?? "?"): valid (\(policy.files.count) file\(policy.files.count == 1 ? "" : "s"), \(policy.rules.count) rule\(policy.rules.count == 1 ? "" : "s"))"]
        if let compiledForm { lines.append(compiledForm) }
        lines += policy.warnings.map { "warning: \($0)" }
        guard let request = arguments.request else {
            return CheckReport(text: lines.joined(separator: "\n") + "\n", exitCode: 0)
        }
        let identity = try resolveIdentity(arguments, users: users, caller: caller)
        lines.append("request: \(request.summary) for \(describe(identity, users: users))")
        let exitCode: Int32
        switch policy.decide(request, for: identity) {
        case .allowed(let grant, let rules):
            lines.append("decision: allow\(request.vnetHeader && !grant.vnetHeader ? " (without vnet header: vnet-hdr=no)" : "")")
            lines += rules.map { "  allowed by \(displayPath($0.location.file)):\($0.location.line): \($0.text)" }
            if let quota = grant.quota {
                lines.append("  quota: at most \(quota) interface\(quota == 1 ? "" : "s") at once (counted from the kernel's links when the request is made)")
            }
            exitCode = 0
        case .denied(let rules):
            lines.append("decision: deny")
            lines += rules.map { "  denied by \(displayPath($0.location.file)):\($0.location.line): \($0.text)" }
            exitCode = 3
        case .notAllowed:
            lines.append("decision: deny (no rule allows it; netfd denies by default)")
            exitCode = 3
        case .exceeds(let rule, let reason):
            let place = "\(displayPath(rule.location.file)):\(rule.location.line)"
            lines.append("decision: deny (\(place) allows \(request.kind.rawValue) on \(request.kind.targetWord) \(request.target) but \(reason))")
            lines.append("  exceeds \(place): \(rule.text)")
            exitCode = 3
        }
        return CheckReport(text: lines.joined(separator: "\n") + "\n", exitCode: exitCode)
    }

    /// `compiled form: PATH is current`, or `compiled form: not used: REASON` (the helper then reads the text).
    public static func compiledFormLine(policyPath: String, _ state: Result<CompiledPolicy, CompiledPolicy.Unusable>) -> String {
        switch state {
        case .success: return "compiled form: \(displayPath(CompiledPolicyFormat.compiledPath(for: policyPath))) is current"
        case .failure(let reason): return "compiled form: not used: \(reason)"
        }
    }

    /// The identity check evaluates: `--user` (with its passwd and group memberships) or the caller,
    /// plus every `--group`.
    static func resolveIdentity(_ arguments: CheckArguments, users: any UserDirectory,
                                caller: Identity) throws(HelperFailure) -> Identity {
        let extraGroups = try resolveGroups(arguments.groups, users: users)
        var identity = caller
        if let user = arguments.user {
            let uid: UInt32
            if let number = UInt32(user) { uid = number } else {
                guard let found = users.userID(named: user) else { throw .usage("unknown user \(quoted(user))") }
                uid = found
            }
            // A uid without a passwd entry takes its primary group from the first --group.
            guard let gid = users.primaryGroup(ofUserID: uid) ?? extraGroups.first else {
                throw .usage("uid \(uid) has no entry in /etc/passwd; give its primary group with --group")
            }
            let name = users.userName(forID: uid) ?? ""
            identity = Identity(uid: uid, gid: gid, supplementaryGroups: users.supplementaryGroups(ofUser: name))
        }
        identity.supplementaryGroups += extraGroups
        return identity
    }

    /// `--group` values as gids: numbers as given, names through the group database.
    static func resolveGroups(_ groups: [String], users: any UserDirectory) throws(HelperFailure) -> [UInt32] {
        var gids: [UInt32] = []
        for group in groups {
            if let number = UInt32(group) { gids.append(number); continue }
            guard let gid = users.groupID(named: group) else { throw .usage("unknown group \(quoted(group))") }
            gids.append(gid)
        }
        return gids
    }

    /// `uid 1000 (alice), gid 1000 (alice), groups 998 (kvm)`
    static func describe(_ identity: Identity, users: any UserDirectory) -> String {
        func named(_ id: UInt32, _ name: String?) -> String { name.map { "\(id) (\(displayPath($0)))" } ?? "\(id)" }
        var text = "uid \(named(identity.uid, users.userName(forID: identity.uid))), gid \(named(identity.gid, users.groupName(forID: identity.gid)))"
        let groups = identity.supplementaryGroups.filter { $0 != identity.gid }
        if !groups.isEmpty {
            text += ", groups " + groups.map { named($0, users.groupName(forID: $0)) }.joined(separator: ", ")
        }
        return text
    }
}
