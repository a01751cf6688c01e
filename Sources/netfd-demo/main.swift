// netfd-demo - the unprivileged half of scripts/demo: a stand-in for QEMU's `-netdev bridge`.
// It runs the helper exactly as QEMU does (HelperClient: socketpair, `HELPER --use-vnet --fd=N
// --br=BRIDGE`, one byte + one descriptor back), prints what it got, and proves the descriptor is
// a working tap on the bridge by asking, over it, for the peer's MAC address with ARP.
// Stdlib + Glibc + NetFDClient/NetFDSystem only.
// syscalls: those of HelperClient, ioctl(TUNGETIFF), write, poll, read, clock_gettime, close
import Glibc
import NetFDClient
import NetFDSystem

let usage = """
    usage: netfd-demo --helper PATH [--bridge br0] [--peer-ip 192.0.2.1] [--guest-ip 192.0.2.2]
    Runs the bridge helper at PATH as QEMU's `-netdev bridge,br=BRIDGE,helper=PATH` does
    (PATH --use-vnet --fd=N --br=BRIDGE), reports what it handed over, then sends an ARP
    request "who-has PEER tell GUEST" from MAC 52:54:00:12:34:56 on the tap and waits up to
    3 seconds for the reply. Run it as an ordinary user: it needs no privileges at all.
    Exit status: 0 when the ARP reply arrived; the helper's own status (1-7, 128+signal) when
    the helper failed or refused; 8 when the helper broke the protocol; 9 when no ARP reply
    arrived or the tap could not be used; 64 for a usage error.

    """

/// The 10-byte struct virtio_net_hdr that prefixes every frame on an IFF_VNET_HDR tap
/// (the kernel's default TUNSETVNETHDRSZ). All zero: no checksum offload, no GSO.
let virtioNetHeaderSize = 10
let guestMAC: [UInt8] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]
let broadcastMAC: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
let replyTimeoutMilliseconds = 3000
let resendIntervalMilliseconds = 1000

// MARK: Output

/// Prints one line of the report on stdout.
func say(_ text: String) { print(text) }

/// Prints `netfd-demo: MESSAGE` on stderr and exits with `status`.
func die(_ status: Int32, _ message: String) -> Never {
    fflush(stdout)
    fputs("netfd-demo: \(message)\n", stderr)
    exit(status)
}

func hex2(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}

func macText(_ bytes: ArraySlice<UInt8>) -> String { bytes.map(hex2).joined(separator: ":") }
func ipText(_ bytes: ArraySlice<UInt8>) -> String { bytes.map { String($0) }.joined(separator: ".") }

// MARK: Command line

struct Options {
    var helper: String?
    var bridge = "br0"
    var peerIP: [UInt8] = [192, 0, 2, 1]
    var guestIP: [UInt8] = [192, 0, 2, 2]
}

/// Parses a dotted-quad IPv4 address, e.g. 192.0.2.1.
func parseIPv4(_ text: String) -> [UInt8]? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var bytes: [UInt8] = []
    for part in parts {
        guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = UInt8(part) else { return nil }
        bytes.append(value)
    }
    return bytes
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
        var name = argument, inline: String?
        if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
            name = String(argument[..<equals])
            inline = String(argument[argument.index(after: equals)...])
        }
        func value() -> String {
            if let inline { return inline }
            guard let next = iterator.next() else { die(64, "\(name) needs a value; see netfd-demo --help") }
            return next
        }
        func address() -> [UInt8] {
            let text = value()
            guard let bytes = parseIPv4(text) else { die(64, "\(name) \(text) is not an IPv4 address") }
            return bytes
        }
        switch name {
        case "--help", "-h":
            print(usage, terminator: "")
            exit(0)
        case "--helper": options.helper = value()
        case "--bridge", "--br": options.bridge = value()
        case "--peer-ip": options.peerIP = address()
        case "--guest-ip": options.guestIP = address()
        default: die(64, "unknown argument \(argument); see netfd-demo --help")
        }
    }
    guard options.helper != nil else { die(64, "missing --helper PATH; see netfd-demo --help") }
    return options
}

// MARK: Who we are

/// The effective capability set from /proc/self/status, e.g. "0000000000000000".
func effectiveCapabilities() -> String? {
    guard let file = try? FileDescriptor.open("/proc/self/status", O_RDONLY) else { return nil }
    defer { file.close() }
    guard let bytes = try? file.readAll(limit: 1 << 16) else { return nil }
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("CapEff:") {
        return line.dropFirst("CapEff:".count).filter { !$0.isWhitespace }
    }
    return nil
}

func describeSelf() -> String {
    var text = "uid \(getuid()), gid \(getgid())"
    let groupCount = getgroups(0, nil)
    text += groupCount > 0 ? ", \(groupCount) supplementary group\(groupCount == 1 ? "" : "s")" : ", no supplementary groups"
    if let caps = effectiveCapabilities() {
        text += caps.allSatisfy({ $0 == "0" }) ? ", no capabilities" : ", capabilities \(caps)"
    }
    return text
}

// MARK: Frames

/// An Ethernet ARP request "who-has `target` tell `sender`", broadcast, padded to 60 bytes.
func arpRequest(from mac: [UInt8], sender: [UInt8], target: [UInt8]) -> [UInt8] {
    var frame = broadcastMAC + mac + [0x08, 0x06]          // dst, src, ethertype ARP
    frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]     // Ethernet, IPv4, hlen, plen, op=request
    frame += mac + sender + [0, 0, 0, 0, 0, 0] + target    // sha, spa, tha, tpa
    frame += [UInt8](repeating: 0, count: max(0, 60 - frame.count))
    return frame
}

/// The frame's ethertype (after one 802.1Q tag, if any).
func etherType(_ frame: ArraySlice<UInt8>) -> UInt16? {
    let base = frame.startIndex
    guard frame.count >= 14 else { return nil }
    let type = UInt16(frame[base + 12]) << 8 | UInt16(frame[base + 13])
    if type == 0x8100, frame.count >= 18 { return UInt16(frame[base + 16]) << 8 | UInt16(frame[base + 17]) }
    return type
}

/// If `frame` is the ARP reply "`peer` is at MAC" addressed to `guest`, the peer's MAC.
func arpReplyMAC(_ frame: ArraySlice<UInt8>, peer: [UInt8], guest: [UInt8]) -> ArraySlice<UInt8>? {
    guard etherType(frame) == 0x0806, frame.count >= 42 else { return nil }
    let arp = frame.dropFirst(14)
    let a = arp.startIndex
    guard arp[a + 6] == 0, arp[a + 7] == 2,                     // op = reply
          Array(arp[(a + 14)..<(a + 18)]) == peer,             // spa
          Array(arp[(a + 24)..<(a + 28)]) == guest             // tpa
    else { return nil }
    return arp[(a + 8)..<(a + 14)]                              // sha
}

/// A short name for a frame the demo is not waiting for, e.g. "IPv6".
func frameKind(_ frame: ArraySlice<UInt8>) -> String {
    switch etherType(frame) {
    case 0x86dd?: return "IPv6"
    case 0x0806?: return "ARP (not our reply)"
    case 0x0800?: return "IPv4"
    case let type?: return "ethertype 0x" + hex2(UInt8(type >> 8)) + hex2(UInt8(type & 0xff))
    case nil: return "runt"
    }
}

func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int(now.tv_sec) * 1000 + Int(now.tv_nsec) / 1_000_000
}

/// Waits up to `milliseconds` for `fd` to become readable.
func waitReadable(_ fd: FileDescriptor, milliseconds: Int) throws(Errno) -> Bool {
    var entry = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
    let ready = try systemCall { poll(&entry, 1, Int32(max(0, milliseconds))) }
    return ready > 0
}

func describe(_ flags: TunFlags) -> String {
    let known: [(TunFlags, String)] = [(.tun, "IFF_TUN"), (.tap, "IFF_TAP"), (.noPacketInfo, "IFF_NO_PI"),
                                       (.vnetHeader, "IFF_VNET_HDR"), (.multiQueue, "IFF_MULTI_QUEUE")]
    var names = known.filter { flags.contains($0.0) }.map { $0.1 }
    let rest = known.reduce(flags.rawValue) { $0 & ~$1.0.rawValue }
    if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
    return (names.isEmpty ? "none" : names.joined(separator: "|")) + " (0x" + String(flags.rawValue, radix: 16) + ")"
}

// MARK: Main

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
let helper = options.helper!
var invocation = HelperInvocation(helper: helper, bridge: options.bridge)
invocation.useVnetHeader = true

say("running as      \(describeSelf())")
say("helper          \(invocation.argv(socket: 0).map { $0 == "--fd=0" ? "--fd=N" : $0 }.joined(separator: " "))")

let result: HelperResult
do {
    result = try HelperClient.run(invocation)
} catch {
    die(9, "could not run \(helper): \(error)")
}
let status = result.exitStatus
say("helper exit     \(status)\(status >= 128 ? " (killed by signal \(status - 128))" : "")")

guard status == 0 else {
    result.descriptor?.close()
    var message = result.standardError
    while message.hasSuffix("\n") { message.removeLast() }
    say((status == 3 ? "refused         " : "failed          ") + (message.isEmpty ? "(the helper printed nothing)" : message))
    exit(status)
}
guard let descriptor = result.descriptor else {
    die(8, "the helper exited 0 but sent no descriptor")
}
say("received        \(descriptor) with data byte 0x\(hex2(result.byte ?? 0))\(result.byte == 0 ? "" : " (expected 0x00)")")

let tap = TunDevice(descriptor)
let identity: (name: String, flags: TunFlags)
do {
    identity = try tap.nameAndFlags()
} catch {
    descriptor.close()
    die(9, "TUNGETIFF on \(descriptor) failed: \(error); it is not a tun/tap descriptor")
}
say("TUNGETIFF       \(identity.name), flags \(describe(identity.flags))")

let headerSize = identity.flags.contains(.vnetHeader) ? virtioNetHeaderSize : 0
let request = arpRequest(from: guestMAC, sender: options.guestIP, target: options.peerIP)
let packet = [UInt8](repeating: 0, count: headerSize) + request
let peer = ipText(options.peerIP[...]), guest = ipText(options.guestIP[...])
say("sent            ARP who-has \(peer) tell \(guest) from \(macText(guestMAC[...]))"
    + (headerSize > 0 ? " (\(headerSize)-byte virtio_net_hdr + \(request.count)-byte frame)" : " (\(request.count)-byte frame)"))

/// Sends the request, reads frames until the reply, resending once a second; nil on timeout.
func exchange() throws(Errno) -> (mac: ArraySlice<UInt8>, skipped: [(String, Int)], sends: Int) {
    var skipped: [(String, Int)] = []
    var sends = 0
    let deadline = monotonicMilliseconds() + replyTimeoutMilliseconds
    var nextSend = 0
    while true {
        let now = monotonicMilliseconds()
        if now >= deadline { return ([], skipped, sends) }
        if now >= nextSend {
            guard try descriptor.writeOnce(packet) == packet.count else { throw Errno.ioError }
            sends += 1
            nextSend = now + resendIntervalMilliseconds
        }
        guard try waitReadable(descriptor, milliseconds: min(deadline, nextSend) - now) else { continue }
        let bytes = try descriptor.read(upTo: 65536 + headerSize)
        let frame = bytes.dropFirst(headerSize)
        if let mac = arpReplyMAC(frame, peer: options.peerIP, guest: options.guestIP) {
            return (mac, skipped, sends)
        }
        let kind = frameKind(frame)
        if let index = skipped.firstIndex(where: { $0.0 == kind }) { skipped[index].1 += 1 } else { skipped.append((kind, 1)) }
    }
}

let outcome: (mac: ArraySlice<UInt8>, skipped: [(String, Int)], sends: Int)
do {
    outcome = try exchange()
} catch {
    descriptor.close()
    die(9, "I/O on \(identity.name) failed: \(error)")
}
if !outcome.skipped.isEmpty {
    let total = outcome.skipped.reduce(0) { $0 + $1.1 }
    say("skipped         \(total) unrelated frame\(total == 1 ? "" : "s"): "
        + outcome.skipped.map { "\($0.1) \($0.0)" }.joined(separator: ", "))
}
descriptor.close()
guard !outcome.mac.isEmpty else {
    die(9, "no ARP reply from \(peer) within \(replyTimeoutMilliseconds / 1000) s (\(outcome.sends) requests sent); is \(peer) on bridge \(options.bridge)?")
}
if outcome.sends > 1 { say("resent          the request \(outcome.sends - 1) time\(outcome.sends == 2 ? "" : "s")") }
say("ARP reply: \(peer) is at \(macText(outcome.mac))")
say("closed          \(descriptor): \(identity.name) is not persistent and is gone with it")
