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
        let grant = try RequestSteps.authorize(.tap(request), by: policy, for: caller) { "tap on bridge \(request.bridge) for \(callerName())" }
        // Only after the decision: a refused caller learns nothing about which links exist.
        let bridge = try RequestSteps.lookUpBridge(arguments.bridge, kernel: kernel)
        let tap: CreatedTap
        do {
            tap = try kernel.createTap(nameTemplate: nameTemplate, vnetHeader: grant.vnetHeader)
        } catch {
            throw RequestSteps.tapCreationFailure(error, uid: caller.uid)
        }
        Self.stepObserver?(.tapCreated)
        do throws(HelperFailure) {
            try RequestSteps.perform("restrict \(tap.name) to uid \(caller.uid)") { () throws(Errno) in
                try kernel.restrict(tap, toUser: caller.uid, group: caller.gid)
            }
            Self.stepObserver?(.restricted)
            try RequestSteps.attach(tap, to: bridge, kernel: kernel) { Self.stepObserver?($0) }
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

    /// The host side's MAC: the tap's random address with the first byte 0xfe, so it is never the
    /// lowest address on the bridge and the bridge never adopts it (as qemu-bridge-helper does).
    static func hostSideAddress(_ address: [UInt8]) -> [UInt8] {
        guard address.count == 6 else { return address }
        return [0xfe] + address.dropFirst()
    }
}
