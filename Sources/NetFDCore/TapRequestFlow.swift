// TapRequestFlow.swift - one bridge-helper request, from decision to handoff, with rollback.
// syscalls: getsockopt (socket check), sendmsg (handoff); the rest through TapKernel.
import NetFDPolicy
import NetFDSystem

/// Serves `--use-vnet --fd=N --br=BRIDGE` for one caller: decides by policy, creates the tap,
/// restricts, configures and enslaves it, hands it over, and closes the helper's copy.
/// On any failure after creation the tap is closed, which deletes it (it is not persistent).
public struct TapRequestFlow {
    /// The loaded policy, or its compiled form.
    public let policy: any PolicyDecider
    public let kernel: any TapKernel
    public let caller: Identity
    /// How refusals name the caller, e.g. `user alice (uid 1000)`; asked for only on a refusal,
    /// so an allowed request never reads the user database.
    public let callerName: () -> String

    /// Serves by `policy`, a loaded text.
    public init(policy: Policy, kernel: any TapKernel, caller: Identity, callerName: @escaping @autoclosure () -> String) {
        self.init(policy: LoadedPolicy(policy), kernel: kernel, caller: caller, callerName: callerName())
    }

    public init(policy: any PolicyDecider, kernel: any TapKernel, caller: Identity, callerName: @escaping @autoclosure () -> String) {
        self.policy = policy
        self.kernel = kernel
        self.caller = caller
        self.callerName = callerName
    }

    /// The points a request passes once the tap exists, in order. Named as in netfd-helper(8)'s
    /// rollback description and in the test build's NETFD_TEST_HOOK.
    public enum Step: String, CaseIterable, Sendable {
        case tapCreated = "tap-created"
        case restricted, configured, enslaved, up
        case beforeHandoff = "before-handoff"
        /// Sent; the helper's own descriptor is not closed yet.
        case afterHandoff = "after-handoff"
    }

    /// Called as a request passes each `Step`. Always nil in netfd-helper: only the test build
    /// (netfd-helper-testhooks, main.swift under NETFD_TEST_HOOKS) sets it, to pause or fault there.
    nonisolated(unsafe) public static var stepObserver: ((Step) -> Void)?

    /// Runs the request. Returns what was handed over (the helper's descriptor is already closed).
    public func serve(_ arguments: BridgeHelperArguments) throws(HelperFailure) -> CreatedTap {
        let socket = FileDescriptor(rawValue: arguments.socket)
        guard UnixSocket.isUnixStream(socket) else {
            throw .usage("--fd=\(arguments.socket) is not an open unix stream socket")
        }
        // A listening or never-connected socket would fail only at sendmsg, after the tap was made.
        guard UnixSocket.isConnected(socket) else {
            throw .usage("--fd=\(arguments.socket) is a unix stream socket that is not connected")
        }
        let request = TapRequest(bridge: arguments.bridge, vnetHeader: arguments.useVnetHeader)
        let grant = try authorize(request)
        // Only after the decision: a refused caller learns nothing about which links exist.
        let bridge = try lookUpBridge(arguments.bridge)
        let tap: CreatedTap
        do {
            tap = try kernel.createTap(nameTemplate: nameTemplate, vnetHeader: grant.vnetHeader)
        } catch .permissionDenied {
            // The helper has CAP_NET_ADMIN, not CAP_DAC_OVERRIDE: the caller itself must be able to open it.
            throw .kernel("could not create a tap: \(TunDevice.clonePath) is not accessible to uid \(caller.uid) (udev makes it mode 0666); nothing was left behind")
        } catch {
            throw .kernel("create a tap", error)
        }
        Self.stepObserver?(.tapCreated)
        do throws(HelperFailure) {
            try perform("restrict \(tap.name) to uid \(caller.uid)") { () throws(Errno) in
                try kernel.restrict(tap, toUser: caller.uid, group: caller.gid)
            }
            Self.stepObserver?(.restricted)
            try perform("set MTU and MAC of \(tap.name)") { () throws(Errno) in
                try kernel.configure(tap, mtu: bridge.mtu, address: Self.hostSideAddress(tap.address))
            }
            Self.stepObserver?(.configured)
            do {
                try kernel.enslave(tap, to: bridge)
            } catch {
                throw bridgeFailure(bridge.name, error, step: "add \(tap.name) to bridge \(bridge.name)")
            }
            Self.stepObserver?(.enslaved)
            try perform("bring \(tap.name) up") { () throws(Errno) in try kernel.bringUp(tap) }
            Self.stepObserver?(.up)
            Self.stepObserver?(.beforeHandoff)
            do {
                try UnixSocket(socket).send(tap.descriptor)
            } catch {
                throw HelperFailure.handoff("could not send \(tap.name) on --fd=\(arguments.socket): \(error); nothing was left behind")
            }
            Self.stepObserver?(.afterHandoff)
        } catch {
            kernel.close(tap)
            throw error
        }
        kernel.close(tap)
        return tap
    }

    /// The kernel's name template: `tap%d`, or the policy's `set tap-prefix`.
    var nameTemplate: String { (policy.tapNamePrefix ?? "tap") + "%d" }

    /// The policy's verdict as a grant, or the refusal naming the deciding rule(s).
    func authorize(_ request: TapRequest) throws(HelperFailure) -> Grant {
        func what() -> String { "tap on bridge \(request.bridge) for \(callerName())" }
        let decision: Decision
        do {
            decision = try policy.decide(.tap(request), for: caller)
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
            // Not reachable from the bridge-helper form (one queue, no vhost), but exact anyway.
            throw .denied("refused \(what()): \(displayPath(rule.location.file)):\(rule.location.line) (\(rule.text)) \(reason)")
        }
    }

    func lookUpBridge(_ name: InterfaceName) throws(HelperFailure) -> BridgeLink {
        do {
            return try kernel.bridge(named: name)
        } catch {
            throw bridgeFailure(name.value, error, step: "look up bridge \(name)")
        }
    }

    /// The refusal for a bridge that is missing or of another kind (found at the lookup, or when
    /// enslaving if the link was replaced in between), or the kernel failure of `step`.
    func bridgeFailure(_ name: String, _ error: BridgeLookupError, step: @autoclosure () -> String) -> HelperFailure {
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
    func perform(_ step: @autoclosure () -> String, _ body: () throws(Errno) -> Void) throws(HelperFailure) {
        do { try body() } catch { throw .kernel(step(), error) }
    }

    /// The host side's MAC: the tap's random address with the first byte 0xfe, so it is never the
    /// lowest address on the bridge and the bridge never adopts it (as qemu-bridge-helper does).
    static func hostSideAddress(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 6 else { return address }
        return [0xfe] + address.dropFirst()
    }
}
