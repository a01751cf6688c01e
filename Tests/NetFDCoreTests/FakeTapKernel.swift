// FakeTapKernel.swift - TapKernel for unit tests. A "tap" is one end of a socketpair; the fake
// keeps the other end, so a test can prove that the descriptor the emulator received is the
// created device (write through one, read through the other). A fake tap is alive while any copy
// of its end is open, exactly like a non-persistent tap: the fake asks its peer end for EOF.
import Glibc
import NetFDCore
import NetFDPolicy
import NetFDSystem

final class FakeTapKernel: DeviceKernel {
    enum Step: Equatable {
        case lookUp, create, restrict, configure, enslave, bringUp
        case attachQueue, createMacvtap, markOwner, openQueue, macvtapUp, packetSocket, vhost, count, capabilities, guardStart
    }

    var bridges: [String: BridgeLink] = ["br0": BridgeLink(name: "br0", mtu: 9000)]
    /// Links of other kinds, by name, and their kinds.
    var otherLinks: [String: String] = ["veth0": "veth"]
    /// Makes this step fail with this errno.
    var failure: (step: Step, errno: Errno)?
    /// What `enslave` reports when the bridge was replaced after the lookup.
    var replacedBridge: BridgeLookupError?
    /// Every operation, in order, for assertions.
    private(set) var log: [String] = []
    /// The kernel's end of each created tap, by name.
    private(set) var peers: [String: FileDescriptor] = [:]
    private var nextNumber = 0

    deinit {
        peers.values.forEach { $0.close() }
        (queuePeers.values.flatMap { $0 } + macvtapQueuePeers.values.flatMap { $0 } + packetPeers + vhostPeers).forEach { $0.close() }
    }

    /// Names of the taps that still exist (some descriptor of some queue's device end is open).
    var liveTaps: [String] {
        var names: [String] = []
        for (name, peer) in peers where !Self.peerSawEndOfFile(peer) || (queuePeers[name] ?? []).contains(where: { !Self.peerSawEndOfFile($0) }) {
            names.append(name)
        }
        return names.sorted()
    }

    // --- DeviceKernel state ---
    /// Existing links (lower links, raw targets), by name.
    var links: [String: ExistingLink] = ["v0": ExistingLink(name: "v0", index: 3, address: [0x02, 0, 0, 0, 0, 0x03])]
    /// The kernel's end of every extra queue of a tap (beyond the first), by tap name.
    private(set) var queuePeers: [String: [FileDescriptor]] = [:]
    /// Macvtaps that exist (created and not deleted), by name.
    private(set) var macvtaps: [String: CreatedMacvtap] = [:]
    /// The kernel's end of every macvtap queue, by macvtap name.
    private(set) var macvtapQueuePeers: [String: [FileDescriptor]] = [:]
    /// The kernel's end of each packet socket and vhost descriptor, in creation order.
    private(set) var packetPeers: [FileDescriptor] = []
    private(set) var vhostPeers: [FileDescriptor] = []
    /// Interfaces each uid holds besides those this fake made.
    var otherInterfaces: [UInt32: Int] = [:]
    /// Owners the fake recorded (tap restrict, macvtap markOwner), by interface name.
    private(set) var owners: [String: UInt32] = [:]
    /// Fail `openQueue` with this on the Nth call (1-based) instead of `failure`.
    var queueFailure: (call: Int, failure: MacvtapQueueFailure)?
    private var queueCalls = 0
    /// An extra interface that appears for a uid after the first count (a racing request).
    var racingInterface: UInt32?
    private var counts = 0
    /// The guards started, for assertions.
    private(set) var guards: [FakeGuard] = []
    /// Returned by `startGuard` instead of a recording guard.
    var guardOverride: (any LinkGuard)?
    /// Releasable links for `release`, by name.
    var releasable: [String: ReleasableLink] = [:]

    /// Names of the macvtaps that exist.
    var liveMacvtaps: [String] { macvtaps.keys.sorted() }

    func bridge(named name: InterfaceName) throws(BridgeLookupError) -> BridgeLink {
        log.append("lookUp \(name)")
        if let failure, failure.step == .lookUp { throw .kernel(failure.errno) }
        if let kind = otherLinks[name.value] { throw .notABridge(kind: kind) }
        guard let bridge = bridges[name.value] else { throw .notFound }
        return bridge
    }

    func createTap(nameTemplate: String, vnetHeader: Bool) throws(Errno) -> CreatedTap {
        try createTap(nameTemplate: nameTemplate, vnetHeader: vnetHeader, multiQueue: false)
    }

    func restrict(_ tap: CreatedTap, toUser uid: UInt32, group gid: UInt32) throws(Errno) {
        try record(.restrict, "restrict \(tap.name) uid=\(uid) gid=\(gid)")
        owners[tap.name] = uid
    }

    func configure(_ tap: CreatedTap, mtu: UInt32, address: [UInt8]) throws(Errno) {
        try record(.configure, "configure \(tap.name) mtu=\(mtu) mac=\(address.map { String($0, radix: 16) }.joined(separator: ":"))")
    }

    func enslave(_ tap: CreatedTap, to bridge: BridgeLink) throws(BridgeLookupError) {
        do { try record(.enslave, "enslave \(tap.name) \(bridge.name)") } catch { throw .kernel(error) }
        if let replacedBridge { throw replacedBridge }
    }

    func bringUp(_ tap: CreatedTap) throws(Errno) {
        try record(.bringUp, "up \(tap.name)")
    }

    func close(_ tap: CreatedTap) {
        log.append("close \(tap.name)")
        tap.descriptor.close()
    }

    func link(named name: InterfaceName) throws(LinkLookupFailure) -> ExistingLink {
        log.append("link \(name)")
        if let failure, failure.step == .lookUp { throw .kernel(failure.errno) }
        guard let link = links[name.value] else { throw .notFound }
        return link
    }

    func createTap(nameTemplate: String, vnetHeader: Bool, multiQueue: Bool) throws(Errno) -> CreatedTap {
        log.append("\(multiQueue ? "create-mq" : "create") \(nameTemplate) vnet=\(vnetHeader)")
        if let failure, failure.step == .create { throw failure.errno }
        let (device, peer) = try UnixSocket.pair()
        let name = nameTemplate.replacingOccurrences(of: "%d", with: String(nextNumber))
        nextNumber += 1
        peers[name] = peer.descriptor
        return CreatedTap(descriptor: device.descriptor, name: name, index: Int32(100 + nextNumber),
                          address: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55], vnetHeader: vnetHeader)
    }

    func attachQueue(to tap: CreatedTap) throws(Errno) -> FileDescriptor {
        try record(.attachQueue, "attach \(tap.name)")
        let (device, peer) = try UnixSocket.pair()
        queuePeers[tap.name, default: []].append(peer.descriptor)
        return device.descriptor
    }

    func createMacvtap(on lower: ExistingLink, mode: MacvtapMode, address: MacAddress) throws(Errno) -> CreatedMacvtap {
        try record(.createMacvtap, "macvtap on \(lower.name) mode=\(mode.rawValue) mac=\(address)")
        let name = "macvtap\(macvtaps.count + deleted)"
        let macvtap = CreatedMacvtap(name: name, index: Int32(200 + macvtaps.count + deleted), address: address, lowerIndex: lower.index)
        macvtaps[name] = macvtap
        return macvtap
    }
    private var deleted = 0

    /// MACs already in use on lower links (by lower index).
    var addressesInUse: [Int32: [MacAddress]] = [:]

    func addressInUse(_ address: MacAddress, on lower: ExistingLink) throws(Errno) -> Bool {
        try record(.count, "in-use \(address) on \(lower.name)")
        return (addressesInUse[lower.index] ?? []).contains(address) || macvtaps.values.contains { $0.lowerIndex == lower.index && $0.address == address }
    }

    func markOwner(_ macvtap: CreatedMacvtap, uid: UInt32) throws(Errno) {
        try record(.markOwner, "owner \(macvtap.name) uid=\(uid)")
        owners[macvtap.name] = uid
    }

    func openQueue(of macvtap: CreatedMacvtap, vnetHeader: Bool) throws(MacvtapQueueFailure) -> FileDescriptor {
        queueCalls += 1
        log.append("queue \(macvtap.name) vnet=\(vnetHeader)")
        if let queueFailure, queueFailure.call == queueCalls { throw queueFailure.failure }
        if let failure, failure.step == .openQueue { throw .kernel(step: "open /dev/tap\(macvtap.index)", failure.errno) }
        let pair: (UnixSocket, UnixSocket)
        do { pair = try UnixSocket.pair() } catch { throw .kernel(step: "socketpair", error) }
        macvtapQueuePeers[macvtap.name, default: []].append(pair.1.descriptor)
        return pair.0.descriptor
    }

    func bringUp(_ macvtap: CreatedMacvtap) throws(Errno) {
        try record(.macvtapUp, "up \(macvtap.name)")
    }

    func delete(_ macvtap: CreatedMacvtap) {
        log.append("delete \(macvtap.name)")
        if macvtaps.removeValue(forKey: macvtap.name) != nil { deleted += 1 }
        owners[macvtap.name] = nil
    }

    func openPacketSocket(on link: ExistingLink, ethernetProtocol: UInt16, vnetHeader: Bool, promiscuous: Bool) throws(Errno) -> FileDescriptor {
        try record(.packetSocket, "packet \(link.name) protocol=\(ethernetProtocol) vnet=\(vnetHeader) promisc=\(promiscuous)")
        let (device, peer) = try UnixSocket.pair()
        packetPeers.append(peer.descriptor)
        return device.descriptor
    }

    func openVhost(path: String) throws(Errno) -> FileDescriptor {
        try record(.vhost, "vhost \(path)")
        let (device, peer) = try UnixSocket.pair()
        vhostPeers.append(peer.descriptor)
        return device.descriptor
    }

    func interfaceCount(heldBy uid: UInt32) throws(Errno) -> Int {
        try record(.count, "count uid=\(uid)")
        counts += 1
        let live = Set(liveTaps + liveMacvtaps)
        let mine = owners.filter { live.contains($0.key) && $0.value == uid }.count
        let racing = (racingInterface == uid && counts > 1) ? 1 : 0
        return (otherInterfaces[uid] ?? 0) + mine + racing
    }

    func setCapabilities(effective: CapabilitySet, permitted: CapabilitySet) throws(Errno) {
        try record(.capabilities, "caps eff=\(Self.names(effective)) perm=\(Self.names(permitted))")
    }

    static func names(_ set: CapabilitySet) -> String {
        let names = Capability.allCases.filter { set.contains(CapabilitySet($0)) }.map { $0.name }
        return names.isEmpty ? "none" : names.joined(separator: "+")
    }

    func startGuard(emulatorSocket socket: FileDescriptor) throws(Errno) -> any LinkGuard {
        try record(.guardStart, "guard")
        if let guardOverride { return guardOverride }
        let guardian = FakeGuard(kernel: self)
        guards.append(guardian)
        return guardian
    }

    func releasableLink(named name: InterfaceName) throws(LinkLookupFailure) -> ReleasableLink {
        log.append("releasable \(name)")
        guard let link = releasable[name.value] else { throw .notFound }
        return link
    }

    func deleteLink(index: Int32) throws(Errno) {
        try record(.createMacvtap, "delete-index \(index)")
        releasable = releasable.filter { $0.value.index != index }
    }

    func randomBytes(_ count: Int) throws(Errno) -> [UInt8] {
        Array([0x53, 0x11, 0x22, 0x33, 0x44, 0x55].prefix(count))
    }

    /// Appends a guard event to the log.
    func note(_ entry: String) { log.append(entry) }

    private func record(_ step: Step, _ entry: String) throws(Errno) {
        log.append(entry)
        if let failure, failure.step == step { throw failure.errno }
    }

    /// Whether every copy of the other end is closed (recv peeks 0 bytes without blocking).
    static func peerSawEndOfFile(_ peer: FileDescriptor) -> Bool {
        var byte: UInt8 = 0
        return recv(peer.rawValue, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }
}

/// A guard that writes its events into the fake kernel's log.
final class FakeGuard: LinkGuard {
    unowned let kernel: FakeTapKernel
    /// Fail `handedOver` with this (the guard process died).
    var handoverFailure: Errno?
    init(kernel: FakeTapKernel) { self.kernel = kernel }
    func willCreate(lowerIndex: Int32, address: MacAddress) throws(Errno) { kernel.note("guard will-create lower=\(lowerIndex) mac=\(address)") }
    func created(_ macvtap: CreatedMacvtap) throws(Errno) { kernel.note("guard created \(macvtap.name)") }
    func handedOver() throws(Errno) {
        kernel.note("guard handed-over")
        if let handoverFailure { throw handoverFailure }
    }
    func cancel() { kernel.note("guard cancel") }
}

extension String {
    /// Foundation-free replacement of every `target` by `replacement`.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
