// DeviceRequestFlow.swift - one native request (netfd-helper(8), NATIVE REQUESTS): a multiqueue
// tap on a bridge, a macvtap on a lower link, or a raw packet socket, with vhost-net descriptors
// beside the queues; from the decision to the handoff, rolled back on every failure.
// syscalls: getsockopt (socket checks), sendmsg (reply and descriptors); the rest through DeviceKernel.
import Glibc
import NetFDPolicy
import NetFDSystem

/// Serves `request --fd=N KEY=VALUE...` for one caller. Order, for every kind: decide; lower the
/// capabilities to what the kind needs; check the quota; open the vhost descriptors (with the
/// caller's own permissions, before anything exists that would need rolling back); create;
/// restrict; configure; hand everything over in one message; close the helper's copies.
/// A failure after creation undoes it: taps vanish with their last descriptor, a macvtap is
/// deleted (and its guard, a separate process, deletes it if the helper is killed instead).
public struct DeviceRequestFlow {
    public let policy: any PolicyDecider
    public let kernel: any DeviceKernel
    public let caller: Identity
    /// How refusals name the caller; asked for only on a refusal.
    public let callerName: () -> String
    /// The capabilities the helper still holds after its first drop (the permitted set).
    public let held: CapabilitySet
    /// The helper as the caller invoked it, for the setcap hint of a missing capability.
    public let helperPath: String

    public init(policy: any PolicyDecider, kernel: any DeviceKernel, caller: Identity,
                callerName: @escaping @autoclosure () -> String, held: CapabilitySet, helperPath: String) {
        self.policy = policy
        self.kernel = kernel
        self.caller = caller
        self.callerName = callerName
        self.held = held
        self.helperPath = helperPath
    }

    /// The points a request passes once something exists, in order (netfd-helper(8), the test
    /// build's NETFD_TEST_HOOK).
    public enum Step: String, CaseIterable, Sendable {
        case created
        case queuesOpen = "queues-open"
        case up
        case beforeHandoff = "before-handoff"
        case afterHandoff = "after-handoff"
    }

    /// Called as a request passes each `Step`; set only by the test build.
    nonisolated(unsafe) public static var stepObserver: ((Step) -> Void)?

    /// The capabilities every native kind may need; the helper keeps these through its first drop.
    public static let capabilitiesForAnyKind: CapabilitySet = [.netAdmin, .netRaw, .dacOverride]

    /// The vhost-net device when the policy does not name another (`set vhost-device`).
    public static let defaultVhostDevice = "/dev/vhost-net"

    /// Serves the request and returns the reply line that went out with the descriptors. On a
    /// failure the reply is `netfd/1 error ...` (no descriptors) and the failure is thrown, for
    /// the stderr line and the exit status.
    public func serve(_ arguments: RequestArguments) throws(HelperFailure) -> String {
        let socket = FileDescriptor(rawValue: arguments.socket)
        guard UnixSocket.isUnixStream(socket) else {
            throw .usage("--fd=\(arguments.socket) is not an open unix stream socket")
        }
        guard UnixSocket.isConnected(socket) else {
            throw .usage("--fd=\(arguments.socket) is a unix stream socket that is not connected")
        }
        do {
            let grant = try RequestSteps.authorize(arguments.request, by: policy, for: caller) { "\(arguments.request.summary) for \(callerName())" }
            switch arguments.request {
            case .tap(let request): return try serveTap(request, grant: grant, socket: socket)
            case .macvtap(let request): return try serveMacvtap(request, grant: grant, socket: socket)
            case .raw(let request): return try serveRaw(request, grant: grant, socket: socket)
            }
        } catch {
            // Best effort: the caller may be gone, and the stderr line says the same.
            try? UnixSocket(socket).send([], message: Array(NativeReply.error(error).utf8))
            throw error
        }
    }

    // MARK: tap

    /// A tap on a bridge with `queues` descriptors (IFF_MULTI_QUEUE when more than one), owned by
    /// the caller so that no other user can attach a queue, plus one vhost descriptor per queue.
    func serveTap(_ request: TapRequest, grant: Grant, socket: FileDescriptor) throws(HelperFailure) -> String {
        try lowerCapabilities(to: .netAdmin, for: "kind=tap")
        let bridge = try RequestSteps.lookUpBridge(request.bridge, kernel: kernel)
        try checkQuota(grant)
        let vhosts = try openVhostDescriptors(request.vhost ? request.queues : 0)
        let tap: CreatedTap
        do {
            tap = try kernel.createTap(nameTemplate: (policy.tapNamePrefix ?? "tap") + "%d", vnetHeader: grant.vnetHeader,
                                       multiQueue: request.queues > 1)
        } catch {
            closeAll(vhosts)
            throw RequestSteps.tapCreationFailure(error, uid: caller.uid)
        }
        Self.stepObserver?(.created)
        var queues = [tap.descriptor]
        do throws(HelperFailure) {
            // Owner first: from here on only the caller (and this helper, running as the caller) may attach.
            try RequestSteps.perform("restrict \(tap.name) to uid \(caller.uid)") { () throws(Errno) in
                try kernel.restrict(tap, toUser: caller.uid, group: caller.gid)
            }
            try recheckQuota(grant)
            while queues.count < request.queues {
                let queue: FileDescriptor
                do { queue = try kernel.attachQueue(to: tap) } catch { throw .kernel("attach queue \(queues.count + 1) of \(tap.name)", error) }
                queues.append(queue)
            }
            Self.stepObserver?(.queuesOpen)
            try RequestSteps.attach(tap, to: bridge, kernel: kernel) { if $0 == .up { Self.stepObserver?(.up) } }
            let reply = NativeReply.success([
                ReplyField("kind", "tap"), ReplyField("name", tap.name), ReplyField("ifindex", "\(tap.index)"),
                ReplyField("mac", Self.format(TapRequestFlow.hostSideAddress(tap.address))),
                ReplyField("bridge", bridge.name), ReplyField("queues", "\(queues.count)"),
                ReplyField("vnet-hdr", tap.vnetHeader ? "yes" : "no"), ReplyField("vhost", vhosts.isEmpty ? "no" : "yes"),
            ], descriptorLabels: labels("tap", queues.count) + labels("vhost", vhosts.count))
            try handOver(queues + vhosts, reply: reply, socket: socket, what: tap.name)
            closeAll(queues + vhosts)
            return reply
        } catch {
            // The tap is not persistent: closing every queue deletes it.
            closeAll(queues + vhosts)
            throw error
        }
    }

    // MARK: macvtap

    /// A macvtap on a lower link, in the requested mode, with the requested or a generated MAC,
    /// `queues` descriptors of /dev/tapINDEX, plus one vhost descriptor per queue. Its guard
    /// deletes it when the emulator exits (or the helper dies before the handoff).
    func serveMacvtap(_ request: MacvtapRequest, grant: Grant, socket: FileDescriptor) throws(HelperFailure) -> String {
        try requireHeld([.netAdmin, .dacOverride], for: "kind=macvtap")
        do {
            try kernel.setCapabilities(effective: .netAdmin, permitted: [.netAdmin, .dacOverride])
        } catch {
            throw .confinement("could not lower capabilities: \(error)")
        }
        let lower = try lookUpLink(request.link)
        try checkQuota(grant)
        let vhosts = try openVhostDescriptors(request.vhost ? request.queues : 0)
        let address: MacAddress
        if let requested = request.address {
            let inUse: Bool
            do { inUse = try kernel.addressInUse(requested, on: lower) } catch {
                closeAll(vhosts)
                throw .kernel("look up the MAC addresses on \(lower.name)", error)
            }
            if inUse {
                closeAll(vhosts)
                throw .target("MAC \(requested) is already in use on link \(lower.name); nothing was created")
            }
            address = requested
        } else {
            do { address = MacAddress.locallyAdministered(random: try kernel.randomBytes(6)) } catch {
                closeAll(vhosts)
                throw .kernel("draw a MAC address", error)
            }
        }
        let guardian: any LinkGuard
        do {
            guardian = try kernel.startGuard(emulatorSocket: socket)
            try guardian.willCreate(lowerIndex: lower.index, address: address)
        } catch {
            closeAll(vhosts)
            throw .kernel("start the guard that deletes the macvtap when the emulator exits", error)
        }
        let macvtap: CreatedMacvtap
        do {
            macvtap = try kernel.createMacvtap(on: lower, mode: request.mode, address: address)
        } catch {
            guardian.cancel()
            closeAll(vhosts)
            throw .kernel("create a macvtap on \(lower.name) in mode \(request.mode.rawValue)", error)
        }
        Self.stepObserver?(.created)
        var queues: [FileDescriptor] = []
        do throws(HelperFailure) {
            try RequestSteps.perform("tell the guard about \(macvtap.name)") { () throws(Errno) in try guardian.created(macvtap) }
            try RequestSteps.perform("label \(macvtap.name) as held by uid \(caller.uid)") { () throws(Errno) in
                try kernel.markOwner(macvtap, uid: caller.uid)
            }
            try recheckQuota(grant)
            // CAP_DAC_OVERRIDE is effective for these opens only: /dev/tapINDEX is root's, mode 0600.
            try RequestSteps.perform("raise CAP_DAC_OVERRIDE") { () throws(Errno) in
                try kernel.setCapabilities(effective: [.netAdmin, .dacOverride], permitted: [.netAdmin, .dacOverride])
            }
            while queues.count < request.queues {
                do {
                    queues.append(try kernel.openQueue(of: macvtap, vnetHeader: grant.vnetHeader))
                } catch {
                    throw queueFailure(error, macvtap)
                }
            }
            try RequestSteps.perform("drop CAP_DAC_OVERRIDE") { () throws(Errno) in
                try kernel.setCapabilities(effective: .netAdmin, permitted: .netAdmin)
            }
            Self.stepObserver?(.queuesOpen)
            do {
                try kernel.bringUp(macvtap)
            } catch {
                // macvlan refuses a duplicate MAC only here, when the link goes up.
                if error == Errno(EADDRINUSE) {
                    throw .target("MAC \(macvtap.address) is already in use on link \(lower.name); nothing was left behind")
                }
                throw .kernel("bring \(macvtap.name) up", error)
            }
            Self.stepObserver?(.up)
            let reply = NativeReply.success([
                ReplyField("kind", "macvtap"), ReplyField("name", macvtap.name), ReplyField("ifindex", "\(macvtap.index)"),
                ReplyField("mac", macvtap.address.description), ReplyField("link", lower.name),
                ReplyField("mode", request.mode.rawValue), ReplyField("queues", "\(queues.count)"),
                ReplyField("vnet-hdr", grant.vnetHeader ? "yes" : "no"), ReplyField("vhost", vhosts.isEmpty ? "no" : "yes"),
            ], descriptorLabels: labels("tap", queues.count) + labels("vhost", vhosts.count))
            // The guard watches the emulator from now on; told before the send, so that the helper
            // dying in between leaves the link to the emulator's lifetime, never to nobody.
            try RequestSteps.perform("hand \(macvtap.name) to its guard") { () throws(Errno) in try guardian.handedOver() }
            try handOver(queues + vhosts, reply: reply, socket: socket, what: macvtap.name)
            closeAll(queues + vhosts)
            return reply
        } catch {
            closeAll(queues + vhosts)
            kernel.delete(macvtap)
            guardian.cancel()
            throw error
        }
    }

    /// The one-line failure for a macvtap queue that could not be opened.
    func queueFailure(_ failure: MacvtapQueueFailure, _ macvtap: CreatedMacvtap) -> HelperFailure {
        switch failure {
        case .noDeviceNode(let path):
            return .kernel("could not open \(path) for \(macvtap.name): no such device node (devtmpfs or udev creates it); nothing was left behind")
        case .foreignDeviceNode(let path):
            return .kernel("could not open \(path) for \(macvtap.name): the node belongs to another device (a macvtap with index \(macvtap.index) in another network namespace has the name); nothing was left behind")
        case .sysfsShowsAnotherLink(let name):
            return .kernel("could not verify /dev/tap\(macvtap.index): /sys/class/net/\(name) is not this link (/sys belongs to another network namespace); nothing was left behind")
        case .kernel(let step, let errno):
            if errno == .permissionDenied || errno == .notPermitted {
                return .confinement("could not \(step) for \(macvtap.name): \(errno) (the helper needs cap_dac_override: setcap \(Self.fullCapabilities)=ep \(helperPath)); nothing was left behind")
            }
            return .kernel("could not \(step) for \(macvtap.name): \(errno); nothing was left behind")
        }
    }

    // MARK: raw

    /// An AF_PACKET socket bound to an allowed link. CAP_NET_RAW is the only capability held
    /// while it is made, and none afterwards.
    func serveRaw(_ request: RawRequest, grant: Grant, socket: FileDescriptor) throws(HelperFailure) -> String {
        try lowerCapabilities(to: .netRaw, for: "kind=raw")
        let link = try lookUpLink(request.link)
        let packetSocket: FileDescriptor
        do {
            packetSocket = try kernel.openPacketSocket(on: link, ethernetProtocol: request.ethernetProtocol,
                                                       vnetHeader: grant.vnetHeader, promiscuous: request.promiscuous)
        } catch {
            throw .kernel("open a packet socket on \(link.name)", error)
        }
        Self.stepObserver?(.created)
        do throws(HelperFailure) {
            try RequestSteps.perform("drop CAP_NET_RAW") { () throws(Errno) in try kernel.setCapabilities(effective: [], permitted: []) }
            let reply = NativeReply.success([
                ReplyField("kind", "raw"), ReplyField("name", link.name), ReplyField("ifindex", "\(link.index)"),
                ReplyField("mac", Self.format(link.address)),
                ReplyField("protocol", request.ethernetProtocol == 0x0003 ? "all" : "0x" + Self.hex(request.ethernetProtocol)),
                ReplyField("vnet-hdr", grant.vnetHeader ? "yes" : "no"), ReplyField("promisc", request.promiscuous ? "yes" : "no"),
            ], descriptorLabels: ["packet"])
            try handOver([packetSocket], reply: reply, socket: socket, what: "the packet socket on \(link.name)")
            packetSocket.close()
            return reply
        } catch {
            packetSocket.close()
            throw error
        }
    }

    // MARK: steps of the native kinds

    /// The setcap line that gives the helper every capability some kind needs.
    public static let fullCapabilities = "cap_net_admin,cap_net_raw,cap_dac_override,cap_setpcap"

    /// Fails unless the helper holds all of `needed`, naming what is missing and the setcap fix.
    func requireHeld(_ needed: CapabilitySet, for kind: String) throws(HelperFailure) {
        let missing = needed.subtracting(held)
        guard missing.isEmpty else {
            var names: [String] = []
            for capability in Capability.allCases where missing.contains(CapabilitySet(capability)) { names.append(capability.name) }
            throw .confinement("missing \(names.joined(separator: " and ")) for \(kind); install the helper with: setcap \(Self.fullCapabilities)=ep \(helperPath)")
        }
    }

    /// Keeps exactly `needed`, effective and permitted, after checking it is held.
    func lowerCapabilities(to needed: CapabilitySet, for kind: String) throws(HelperFailure) {
        try requireHeld(needed, for: kind)
        do {
            try kernel.setCapabilities(effective: needed, permitted: needed)
        } catch {
            throw .confinement("could not lower capabilities: \(error)")
        }
    }

    /// Refuses when the caller already holds as many interfaces as the grant's quota allows.
    func checkQuota(_ grant: Grant) throws(HelperFailure) {
        guard let quota = grant.quota else { return }
        let held: Int
        do { held = try kernel.interfaceCount(heldBy: caller.uid) } catch { throw .kernel("count the interfaces of uid \(caller.uid)", error) }
        if held >= quota {
            throw .denied("refused for \(callerName()): holds \(held) interface\(held == 1 ? "" : "s"), the quota is \(quota)")
        }
    }

    /// After creating and labelling: two requests racing past `checkQuota` see each other here,
    /// so the quota holds even then (both may be refused; never both allowed over it).
    func recheckQuota(_ grant: Grant) throws(HelperFailure) {
        guard let quota = grant.quota else { return }
        let held: Int
        do { held = try kernel.interfaceCount(heldBy: caller.uid) } catch { throw .kernel("count the interfaces of uid \(caller.uid)", error) }
        if held > quota {
            throw .denied("refused for \(callerName()): holds \(held - 1) interface\(held == 2 ? "" : "s") beside this one, the quota is \(quota); nothing was left behind")
        }
    }

    /// `count` descriptors of the vhost-net device, opened with the caller's own permissions.
    func openVhostDescriptors(_ count: Int) throws(HelperFailure) -> [FileDescriptor] {
        guard count > 0 else { return [] }
        let path = policy.vhostDevicePath ?? Self.defaultVhostDevice
        var opened: [FileDescriptor] = []
        while opened.count < count {
            do {
                opened.append(try kernel.openVhost(path: path))
            } catch {
                closeAll(opened)
                switch error {
                case .notFound:
                    throw .kernel("could not open \(path) for vhost=yes: \(error) (is the vhost_net module loaded?); nothing was left behind")
                case .permissionDenied:
                    throw .kernel("could not open \(path) for vhost=yes: it is not accessible to uid \(caller.uid) (Debian gives group kvm access); nothing was left behind")
                default:
                    throw .kernel("open \(path) for vhost=yes", error)
                }
            }
        }
        return opened
    }

    /// Sends `descriptors` and `reply` in one message.
    func handOver(_ descriptors: [FileDescriptor], reply: String, socket: FileDescriptor, what: String) throws(HelperFailure) {
        Self.stepObserver?(.beforeHandoff)
        do {
            try UnixSocket(socket).send(descriptors, message: Array(reply.utf8))
        } catch {
            throw .handoff("could not send \(what) on --fd=\(socket.rawValue): \(error); nothing was left behind")
        }
        Self.stepObserver?(.afterHandoff)
    }

    func lookUpLink(_ name: InterfaceName) throws(HelperFailure) -> ExistingLink {
        do {
            return try kernel.link(named: name)
        } catch .notFound {
            throw .target("link \(name) does not exist")
        } catch {
            guard case .kernel(let errno) = error else { throw .target("link \(name) does not exist") }
            throw .kernel("look up link \(name)", errno)
        }
    }

    func closeAll(_ descriptors: [FileDescriptor]) {
        for descriptor in descriptors { descriptor.close() }
    }

    func labels(_ label: String, _ count: Int) -> [String] {
        [String](repeating: label, count: count)
    }

    /// `aa:bb:cc:dd:ee:ff`.
    static func format(_ address: [UInt8]) -> String {
        var text = ""
        for byte in address {
            if !text.isEmpty { text += ":" }
            text += hex(UInt16(byte), digits: 2)
        }
        return text
    }

    /// Lowercase hex, zero-padded to `digits` (4 by default).
    static func hex(_ value: UInt16, digits: Int = 4) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.utf8.count)) + text
    }
}
