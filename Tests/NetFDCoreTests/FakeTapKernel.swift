// FakeTapKernel.swift - TapKernel for unit tests. A "tap" is one end of a socketpair; the fake
// keeps the other end, so a test can prove that the descriptor the emulator received is the
// created device (write through one, read through the other). A fake tap is alive while any copy
// of its end is open, exactly like a non-persistent tap: the fake asks its peer end for EOF.
import Glibc
import NetFDCore
import NetFDPolicy
import NetFDSystem

final class FakeTapKernel: TapKernel {
    enum Step: Equatable { case lookUp, create, restrict, configure, enslave, bringUp }

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

    deinit { peers.values.forEach { $0.close() } }

    /// Names of the taps that still exist (some descriptor of the device end is open).
    var liveTaps: [String] {
        peers.filter { !Self.peerSawEndOfFile($0.value) }.map(\.key).sorted()
    }

    func bridge(named name: InterfaceName) throws(BridgeLookupError) -> BridgeLink {
        log.append("lookUp \(name)")
        if let failure, failure.step == .lookUp { throw .kernel(failure.errno) }
        if let kind = otherLinks[name.value] { throw .notABridge(kind: kind) }
        guard let bridge = bridges[name.value] else { throw .notFound }
        return bridge
    }

    func createTap(nameTemplate: String, vnetHeader: Bool) throws(Errno) -> CreatedTap {
        log.append("create \(nameTemplate) vnet=\(vnetHeader)")
        if let failure, failure.step == .create { throw failure.errno }
        let (device, peer) = try UnixSocket.pair()
        let name = nameTemplate.replacingOccurrences(of: "%d", with: String(nextNumber))
        nextNumber += 1
        peers[name] = peer.descriptor
        return CreatedTap(descriptor: device.descriptor, name: name, index: Int32(100 + nextNumber),
                          address: [0x02, 0x11, 0x22, 0x33, 0x44, 0x55], vnetHeader: vnetHeader)
    }

    func restrict(_ tap: CreatedTap, toUser uid: UInt32, group gid: UInt32) throws(Errno) {
        try record(.restrict, "restrict \(tap.name) uid=\(uid) gid=\(gid)")
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
