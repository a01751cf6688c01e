// PacketSocket.swift - an AF_PACKET socket on a link inside a test namespace, and Ethernet frames
// carried through a tap descriptor, so tests can prove a frame really crosses the bridge.
import CNetFD
import Foundation
import Glibc
import NetFDSystem
import XCTest

/// A local experimental ethertype (IEEE 802 "local experimental 1"): nothing else sends it.
let experimentalEtherType: UInt16 = 0x88B5
/// Length of struct virtio_net_hdr, which prefixes every frame on an IFF_VNET_HDR tap.
let virtioNetHeaderLength = 10
/// ETH_P_ALL (linux/if_ether.h, not exported by Glibc's module): every protocol.
private let ethernetProtocolAll: UInt16 = 0x0003

/// An Ethernet frame built by the tests.
struct EthernetFrame {
    /// Broadcast destination, `source`, the experimental ethertype and `payload` padded to 46 bytes.
    static func make(source: [UInt8], payload: String) -> [UInt8] {
        var body = Array(payload.utf8)
        if body.count < 46 { body += [UInt8](repeating: 0, count: 46 - body.count) }
        return [UInt8](repeating: 0xff, count: 6) + source
            + [UInt8(experimentalEtherType >> 8), UInt8(experimentalEtherType & 0xff)] + body
    }

    /// A unique payload naming the test, so frames of other tests or runs never match.
    static func uniquePayload(_ label: String) -> String {
        "netfd-itest \(label) \(UUID().uuidString)"
    }
}

/// A raw packet socket (ETH_P_ALL) bound to one link of a network namespace.
final class PacketSocket {
    private let descriptor: Int32

    /// Opens the socket inside the namespace `namespace` and binds it to link `linkName` there.
    /// Only this thread enters the namespace, and it always returns to its own before this returns.
    init(in namespace: NetworkNamespace, link linkName: String) throws {
        let index = try namespace.index(of: linkName)
        let (socketDescriptor, socketError) = try namespace.inside {
            (socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(ethernetProtocolAll.bigEndian)),
             Errno.current)
        }
        guard socketDescriptor >= 0 else { throw IntegrationError("socket(AF_PACKET): \(socketError)") }
        descriptor = socketDescriptor

        // struct sockaddr_ll: family, protocol (BE), ifindex, hatype, pkttype, halen, addr[8].
        var address = [UInt8](repeating: 0, count: 20)
        withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
        withUnsafeBytes(of: ethernetProtocolAll.bigEndian) { address.replaceSubrange(2..<4, with: $0) }
        withUnsafeBytes(of: index) { address.replaceSubrange(4..<8, with: $0) }
        let bound = address.withUnsafeBytes {
            bind(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard bound == 0 else {
            let error = Errno.current
            Glibc.close(descriptor)
            throw IntegrationError("bind packet socket to \(linkName): \(error)")
        }
    }

    deinit { Glibc.close(descriptor) }

    /// Sends one complete Ethernet frame out of the bound link.
    func send(_ frame: [UInt8]) throws {
        let sent = frame.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        guard sent == frame.count else { throw IntegrationError("packet send: \(Errno.current)") }
    }

    /// Waits (bounded) for an incoming frame equal to `expected`, ignoring other traffic; returns whether it came.
    func receive(_ expected: [UInt8], timeout: TimeInterval = 5) throws -> Bool {
        try waitForFrame(descriptor: descriptor, timeout: timeout) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            var from = [UInt8](repeating: 0, count: 20)
            var fromLength = socklen_t(from.count)
            let count = buffer.withUnsafeMutableBytes { data in
                from.withUnsafeMutableBytes { address in
                    recvfrom(descriptor, data.baseAddress, data.count, Int32(MSG_DONTWAIT),
                             address.baseAddress!.assumingMemoryBound(to: sockaddr.self), &fromLength)
                }
            }
            guard count >= 0 else { return nil }
            // sll_pkttype 4 is PACKET_OUTGOING: our own transmissions, not what arrived.
            return from[10] == 4 ? [] : Array(buffer[..<count])
        } matches: { $0 == expected }
    }
}

/// Frames on a tap descriptor as the emulator sees them.
enum TapFrames {
    /// Writes `frame` into the tap, prefixed by a zero virtio_net_hdr when `vnetHeader` is set.
    static func write(_ frame: [UInt8], to tap: FileDescriptor, vnetHeader: Bool) throws {
        let packet = (vnetHeader ? [UInt8](repeating: 0, count: virtioNetHeaderLength) : []) + frame
        let written = try tap.writeOnce(packet)
        guard written == packet.count else { throw IntegrationError("short tap write: \(written) of \(packet.count)") }
    }

    /// Waits (bounded) until the tap delivers `expected` (after its virtio_net_hdr); returns whether it came.
    static func receive(_ expected: [UInt8], from tap: FileDescriptor, vnetHeader: Bool,
                        timeout: TimeInterval = 5) throws -> Bool {
        try waitForFrame(descriptor: tap.rawValue, timeout: timeout) {
            guard let packet = try? tap.read(upTo: 65536 + virtioNetHeaderLength) else { return nil }
            return vnetHeader ? Array(packet.dropFirst(virtioNetHeaderLength)) : packet
        } matches: { $0 == expected }
    }
}

/// Polls `descriptor` and reads frames with `read` until one `matches` or `timeout` passes.
/// `read` returns nil when nothing could be read (then polling continues).
private func waitForFrame(descriptor: Int32, timeout: TimeInterval,
                          read: () throws -> [UInt8]?, matches: ([UInt8]) -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while true {
        let remaining = deadline.timeIntervalSinceNow
        if remaining <= 0 { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, Int32(min(remaining, 1) * 1000) + 1)
        if ready < 0 && errno != EINTR { throw IntegrationError("poll: \(Errno.current)") }
        if ready > 0 {
            if entry.revents & Int16(POLLIN) == 0 { throw IntegrationError("poll reported \(entry.revents) without data") }
            if let frame = try read(), matches(frame) { return true }
        }
    }
}
