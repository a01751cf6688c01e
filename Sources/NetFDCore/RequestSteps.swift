// RequestSteps.swift - the steps TapRequestFlow (QEMU's form) and DeviceRequestFlow (native
// requests) share: the policy's verdict as a grant or a refusal, the bridge lookup, a tap's
// configuration on its bridge, and the failure each kernel step turns into.
// syscalls: through PolicyDecider (reads) and TapKernel
import NetFDPolicy
import NetFDSystem

enum RequestSteps {
    /// The grant `policy` makes for `request`, or the refusal naming the deciding rule(s).
    /// `what` describes the request and caller ("tap on bridge br0 for user alice (uid 1000)");
    /// it is built only for a refusal.
    static func authorize(_ request: PolicyRequest, by policy: any PolicyDecider, for caller: Identity,
                          what: () -> String) throws(HelperFailure) -> Grant {
        let decision: Decision
        do {
            decision = try policy.decide(request, for: caller)
        } catch {
            throw .policy("policy error: \(error)")   // a compiled form fell back to a text that is invalid now
        }
        switch decision {
        case .allowed(let grant, _):
            return grant
        case .denied(let rules):
            let first = rules[0]
            throw .denied("refused \(what()): denied by \(displayPath(first.location.file)):\(first.location.line) (\(first.text))")
        case .notAllowed:
            throw .denied("refused \(what()): no rule in \(policy.mainFile.map(displayPath) ?? "the policy") allows it")
        case .exceeds(let rule, let reason):
            throw .denied("refused \(what()): \(displayPath(rule.location.file)):\(rule.location.line) (\(rule.text)) \(reason)")
        }
    }

    /// The bridge `name`, or the failure saying it is missing or not a bridge.
    static func lookUpBridge(_ name: InterfaceName, kernel: any TapKernel) throws(HelperFailure) -> BridgeLink {
        do {
            return try kernel.bridge(named: name)
        } catch {
            throw bridgeFailure(name.value, error, step: "look up bridge \(name)")
        }
    }

    /// Gives `tap` the bridge's MTU and its host-side MAC, makes it a port of `bridge` and brings
    /// it up, calling `reached` after each of those steps.
    static func attach(_ tap: CreatedTap, to bridge: BridgeLink, kernel: any TapKernel,
                       reached: (TapRequestFlow.Step) -> Void) throws(HelperFailure) {
        try perform("set MTU and MAC of \(tap.name)") { () throws(Errno) in
            try kernel.configure(tap, mtu: bridge.mtu, address: TapRequestFlow.hostSideAddress(tap.address))
        }
        reached(.configured)
        do {
            try kernel.enslave(tap, to: bridge)
        } catch {
            throw bridgeFailure(bridge.name, error, step: "add \(tap.name) to bridge \(bridge.name)")
        }
        reached(.enslaved)
        try perform("bring \(tap.name) up") { () throws(Errno) in try kernel.bringUp(tap) }
        reached(.up)
    }

    /// The refusal for a bridge that is missing or of another kind (found at the lookup, or when
    /// enslaving if the link was replaced in between), or the kernel failure of `step`.
    static func bridgeFailure(_ name: String, _ error: BridgeLookupError, step: @autoclosure () -> String) -> HelperFailure {
        switch error {
        case .notFound:
            return .target("bridge \(name) does not exist")
        case .notABridge(let kind):
            return .target("\(name) is not a bridge (it is \(kind.isEmpty ? "a device without a kind" : "a \(kind) link"))")
        case .kernel(let errno):
            return .kernel(step(), errno)
        }
    }

    /// Runs one kernel step, turning its errno into a `.kernel` failure naming the step.
    /// `step` is an autoclosure: the description is built only if the step fails.
    static func perform(_ step: @autoclosure () -> String, _ body: () throws(Errno) -> Void) throws(HelperFailure) {
        do { try body() } catch { throw .kernel(step(), error) }
    }

    /// The failure of creating a tap: EACCES means the caller cannot open /dev/net/tun itself
    /// (the helper has no CAP_DAC_OVERRIDE for it).
    static func tapCreationFailure(_ error: Errno, uid: UInt32) -> HelperFailure {
        if error == .permissionDenied {
            return .kernel("could not create a tap: \(TunDevice.clonePath) is not accessible to uid \(uid) (udev makes it mode 0666); nothing was left behind")
        }
        return .kernel("create a tap", error)
    }
}
