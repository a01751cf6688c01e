// MacvtapGuard.swift - ties a macvtap to the emulator's lifetime. A macvtap link outlives its
// descriptors, so a small process forked from the helper (before the link exists) watches it:
//   - the helper tells it, over a socketpair, what it is about to create, what it created, and when
//     the emulator holds the queues;
//   - end of file on that channel before the handoff means the helper died: the guard deletes the link;
//   - after the handoff it waits on a pidfd of the emulator (the peer of the request socket) and
//     deletes the link when the emulator exits;
//   - it exits as soon as the link is gone for any reason (`netfd-helper release`, rollback).
// The guard runs confined exactly as the helper: same seccomp filter, CAP_NET_ADMIN only (it
// forks after the request's capabilities were lowered), no inherited descriptors but its own.
// syscalls: getsockopt(SO_PEERPIDFD, SO_PEERCRED), pidfd_open, socketpair, sendto, clone (fork), setsid,
//           close_range, openat(/dev/null), poll, read, write, socket(NETLINK_ROUTE), setsockopt,
//           sendto, recvfrom, exit_group
import CNetFD
import Glibc
import NetFDPolicy
import NetFDSystem

/// The guard process of one macvtap, as the helper sees it: its end of the command channel.
public final class ProcessLinkGuard: LinkGuard {
    private let commands: FileDescriptor
    private var open = true

    /// Forks the guard for the emulator at the other end of `emulatorSocket`.
    /// - Throws: ESRCH when the emulator cannot be identified (a peer in another PID namespace).
    public init(emulatorSocket: FileDescriptor) throws(Errno) {
        let emulator = try Self.peerProcess(of: emulatorSocket)
        // A socketpair, not a pipe: the guard may exit at any time (its link deleted), and a
        // write to a pipe without reader would kill the helper with SIGPIPE; send(MSG_NOSIGNAL)
        // reports EPIPE instead.
        let channel: (UnixSocket, UnixSocket)
        do { channel = try UnixSocket.pair() } catch { emulator.close(); throw error }
        let child: Int32
        do { child = try ProcessControl.fork() } catch {
            emulator.close(); channel.0.close(); channel.1.close()
            throw error
        }
        if child == 0 {
            channel.0.close()
            GuardProcess.run(commands: channel.1.descriptor, emulator: emulator)
        }
        channel.1.close()
        emulator.close()
        commands = channel.0.descriptor
    }

    deinit { if open { commands.close() } }

    public func willCreate(lowerIndex: Int32, address: MacAddress) throws(Errno) {
        try send(GuardCommand(kind: .willCreate, index: lowerIndex, address: address.bytes))
    }

    public func created(_ macvtap: CreatedMacvtap) throws(Errno) {
        try send(GuardCommand(kind: .created, index: macvtap.index, address: macvtap.address.bytes))
    }

    public func handedOver() throws(Errno) {
        try send(GuardCommand(kind: .handedOver, index: 0, address: []))
        // Closing the pipe now means nothing more: the guard watches the emulator.
        commands.close()
        open = false
    }

    public func cancel() {
        guard open else { return }
        try? send(GuardCommand(kind: .cancel, index: 0, address: []))
        commands.close()
        open = false
    }

    private func send(_ command: GuardCommand) throws(Errno) {
        // One send of 16 bytes; the guard reads records of exactly that size.
        let bytes = command.encoded
        let sent = try systemCall { bytes.withUnsafeBytes { Glibc.send(commands.rawValue, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        guard sent == GuardCommand.size else { throw Errno.ioError }
    }

    /// A pidfd of the process at the other end of `socket`: SO_PEERPIDFD where the kernel has it
    /// (Linux 6.5; no race with pid reuse), else pidfd_open of SO_PEERCRED's pid.
    static func peerProcess(of socket: FileDescriptor) throws(Errno) -> FileDescriptor {
        var pidfd: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(socket.rawValue, SOL_SOCKET, Self.soPeerPidfd, &pidfd, &length) == 0, pidfd >= 0 {
            return FileDescriptor(rawValue: pidfd)
        }
        let peer = try UnixSocket(socket).peerCredentials()
        guard peer.pid > 0 else { throw Errno(ESRCH) }
        return try ProcessControl.openPidDescriptor(peer.pid)
    }

    /// SO_PEERPIDFD (asm-generic/socket.h; newer than Debian 12's headers).
    static let soPeerPidfd: Int32 = 77
}

/// One message from the helper to its guard: 16 bytes, kind, index, MAC.
struct GuardCommand: Equatable {
    enum Kind: UInt8 {
        /// `index` is the lower link's; `address` the MAC the macvtap will have.
        case willCreate = 1
        /// `index` is the macvtap's.
        case created = 2
        case handedOver = 3
        case cancel = 4
    }
    static let size = 16
    var kind: Kind
    var index: Int32
    var address: [UInt8]

    var encoded: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes[0] = kind.rawValue
        let index = UInt32(bitPattern: self.index)
        for offset in 0..<4 { bytes[4 + offset] = UInt8(truncatingIfNeeded: index >> (8 * UInt32(offset))) }
        for (offset, byte) in address.prefix(6).enumerated() { bytes[8 + offset] = byte }
        return bytes
    }

    init(kind: Kind, index: Int32, address: [UInt8]) {
        self.kind = kind; self.index = index; self.address = address
    }

    /// Decodes a record; nil for a short or unknown one.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.size, let kind = Kind(rawValue: bytes[0]) else { return nil }
        var index: UInt32 = 0
        for offset in 0..<4 { index |= UInt32(bytes[4 + offset]) << (8 * UInt32(offset)) }
        self.init(kind: kind, index: Int32(bitPattern: index), address: Array(bytes[8..<14]))
    }
}

/// The guard's own side. Never returns: the process exits when its link is gone.
enum GuardProcess {
    /// What the guard knows of its link.
    struct Watched {
        var lowerIndex: Int32 = 0
        var address: [UInt8] = []
        /// 0 until the helper reports the new link's index.
        var index: Int32 = 0
        var planned = false
        var handedOver = false
    }

    /// Runs in the forked child: detaches from the caller's terminal session and descriptors,
    /// then watches until the link is gone.
    static func run(commands: FileDescriptor, emulator: FileDescriptor) -> Never {
        // Keep only the two descriptors it needs; 0, 1 and 2 become /dev/null, so the caller's
        // stderr pipe (QEMU reads it to EOF) and the request socket close with the helper.
        closeAll(except: [commands.rawValue, emulator.rawValue])
        for _ in 0..<3 { _ = netfd_open("/dev/null", O_RDWR, 0) }
        _ = try? ProcessControl.newSession()
        let netlink: RouteNetlink, events: LinkEvents
        do {
            netlink = try RouteNetlink()
            events = try LinkEvents()
        } catch {
            // Without rtnetlink it can do nothing; the helper sees the channel break and rolls back.
            _exit(1)
        }
        var watched = Watched()
        var helperGone = false
        while true {
            var watching = [events.descriptor]
            let commandSlot = helperGone ? -1 : watching.count
            if !helperGone { watching.append(commands) }
            let emulatorSlot = watched.handedOver ? watching.count : -1
            if watched.handedOver { watching.append(emulator) }
            let ready: [Bool]
            do { ready = try Poll.wait(watching, timeoutMilliseconds: -1) } catch { continue }
            if ready[0] {
                let gone: Bool
                do {
                    gone = try events.drain().contains { $0.deleted && watched.index != 0 && $0.index == watched.index }
                } catch {
                    // Lost notifications (ENOBUFS): ask the kernel directly.
                    gone = watched.index != 0 && (try? netlink.link(index: watched.index)) == nil
                }
                if gone { _exit(0) }
            }
            if commandSlot >= 0 && ready[commandSlot] {
                let record = (try? commands.read(upTo: GuardCommand.size)) ?? []
                if record.isEmpty {
                    helperGone = true
                    // The helper died before the emulator held the queues: nobody else will delete it.
                    if !watched.handedOver { removeLink(watched, netlink); _exit(0) }
                    continue
                }
                guard let command = GuardCommand(decoding: record) else { continue }
                switch command.kind {
                case .willCreate:
                    watched = Watched(lowerIndex: command.index, address: command.address, index: 0, planned: true, handedOver: false)
                case .created:
                    watched.index = command.index
                case .handedOver:
                    watched.handedOver = true
                case .cancel:
                    _exit(0)
                }
            }
            if emulatorSlot >= 0 && ready[emulatorSlot] {
                // The emulator exited (a pidfd polls readable then).
                removeLink(watched, netlink)
                _exit(0)
            }
        }
    }

    /// Deletes the watched macvtap if it is still the one the helper made: a macvtap with the same
    /// lower link and MAC (no other link there has that MAC: the flow checks a requested one
    /// first, a generated one is random). Touches nothing else.
    static func removeLink(_ watched: Watched, _ netlink: RouteNetlink) {
        guard watched.planned else { return }
        func isOurs(_ link: LinkMessage) -> Bool {
            link.kind == "macvtap" && link.lowerIndex == watched.lowerIndex && link.address == watched.address
        }
        if watched.index != 0 {
            if let link = try? netlink.link(index: watched.index), isOurs(link) {
                try? netlink.deleteLink(index: watched.index)
            }
            return
        }
        // Died between asking for the link and learning its index: find it by lower link and MAC.
        guard let links = try? netlink.links() else { return }
        for link in links where isOurs(link) {
            try? netlink.deleteLink(index: link.index)
        }
    }

    /// Closes every descriptor but `keep` (close_range over the gaps).
    static func closeAll(except keep: [Int32]) {
        var next: UInt32 = 0
        for fd in keep.sorted() where fd >= 0 {
            if UInt32(fd) > next { _ = netfd_close_range(next, UInt32(fd) - 1) }
            next = UInt32(fd) + 1
        }
        _ = netfd_close_range(next, UInt32.max)
    }
}
