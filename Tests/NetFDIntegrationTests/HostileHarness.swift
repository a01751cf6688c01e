// HostileHarness.swift - the machinery behind HostileInputTests: fixtures written from case data,
// descriptors of every awkward kind, a spawner that passes argv as raw bytes (so arguments can be
// invalid UTF-8) and captures stdout and stderr, link snapshots, and an inotify watch that proves a
// path was never opened. Everything here is scaffolding; the cases themselves are in HostileCases.swift.
import Foundation
import Glibc
import NetFDSystem
import XCTest

// MARK: - Raw argv spawning

/// What one spawned process produced.
struct HostileProcessOutput {
    /// The exit status, or 128 + the signal that killed it.
    var exitStatus: Int32
    /// Every byte written on stdout.
    var standardOutput: [UInt8]
    /// Every byte written on stderr.
    var standardError: [UInt8]
}

/// posix_spawn with argv given as bytes and an exact descriptor layout in the child.
enum HostileSpawner {
    /// Runs `argv` (raw bytes, no NUL inside) with `descriptors` (child number -> open descriptor of this
    /// process) installed in the child. Stdout and stderr are pipes read to end of file; stdin is
    /// /dev/null unless `descriptors` has an entry for 0. Every other descriptor is closed in the child.
    static func run(_ argv: [[UInt8]], descriptors: [Int32: Int32]) throws -> HostileProcessOutput {
        precondition(!argv.isEmpty && argv.allSatisfy { !$0.contains(0) }, "argv cannot carry NUL bytes")
        let output = try makePipe(), errors = try makePipe()
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else { throw IntegrationError("open /dev/null: \(Errno.current)") }
        var layout = descriptors
        layout[1] = output.write
        layout[2] = errors.write
        if layout[0] == nil { layout[0] = devNull }

        // Move every source out of the way first (close-on-exec copies at >= 200), so that installing
        // one target can never overwrite the source of another.
        var staged: [(target: Int32, source: Int32)] = []
        var stagedClosed = false
        /// The staged copies hold the pipes' write ends too: close them before reading to end of file.
        func closeStaged() {
            if !stagedClosed { staged.forEach { _ = close($0.source) } }
            stagedClosed = true
        }
        defer { closeStaged() }
        for (target, source) in layout.sorted(by: { $0.key < $1.key }) {
            let copy = fcntl(source, F_DUPFD_CLOEXEC, 200)
            guard copy >= 0 else { throw IntegrationError("staging descriptor \(source) for child \(target): \(Errno.current)") }
            staged.append((target, copy))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in staged { posix_spawn_file_actions_adddup2(&actions, source, target) }
        // Close everything else a test process might have left inheritable (glibc ignores numbers
        // that are not open); the staged copies at >= 200 are close-on-exec anyway.
        for number in Int32(3)..<200 where layout[number] == nil {
            posix_spawn_file_actions_addclose(&actions, number)
        }

        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { bytes in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
            buffer[bytes.count] = 0
            return buffer
        } + [nil]
        defer { cArguments.forEach { $0?.deallocate() } }
        let environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { environment.forEach { free($0) } }

        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, cArguments[0]!, &actions, nil, cArguments, environment)
        closeStaged()
        close(output.write); close(errors.write); close(devNull)
        guard spawned == 0 else {
            close(output.read); close(errors.read)
            throw IntegrationError("posix_spawnp \(String(decoding: argv[0], as: UTF8.self)): \(Errno(spawned))")
        }
        let (standardOutput, standardError, timedOut) = drain(output.read, errors.read)
        close(output.read); close(errors.read)
        if timedOut { kill(pid, SIGKILL) }   // our own child, hung: the case fails on its exit status
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw IntegrationError("waitpid: \(Errno.current)") }
        }
        let signal = status & 0x7f
        return HostileProcessOutput(exitStatus: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
                                    standardOutput: standardOutput, standardError: standardError)
    }

    /// A close-on-exec pipe.
    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw IntegrationError("pipe: \(Errno.current)") }
        ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }

    /// Reads both pipes to end of file at once, so a chatty child never blocks on a full pipe.
    /// Gives up (`timedOut`) after 10 s without output or end of file.
    private static func drain(_ first: Int32, _ second: Int32) -> ([UInt8], [UInt8], timedOut: Bool) {
        var collected: [[UInt8]] = [[], []]
        var pending = [pollfd(fd: first, events: Int16(POLLIN), revents: 0), pollfd(fd: second, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while pending.contains(where: { $0.fd >= 0 }) {
            let ready = poll(&pending, nfds_t(pending.count), 10_000)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return (collected[0], collected[1], true) }
            for slot in pending.indices where pending[slot].fd >= 0 && pending[slot].revents != 0 {
                let count = read(pending[slot].fd, &buffer, buffer.count)
                if count > 0 { collected[slot] += buffer[0..<count] } else if count == 0 || errno != EINTR { pending[slot].fd = -1 }
            }
        }
        return (collected[0], collected[1], false)
    }
}

// MARK: - Descriptors handed to the helper

/// Opens the descriptor a `HostileDescriptor` describes. Everything opened is recorded in
/// `opened` and closed by `closeAll()`, whatever happened to the case.
final class HostileDescriptorFactory {
    private(set) var opened: [Int32] = []

    /// Records `descriptor` for closing and returns it.
    private func keep(_ descriptor: Int32, _ what: String) throws -> Int32 {
        guard descriptor >= 0 else { throw IntegrationError("could not open \(what): \(Errno.current)") }
        opened.append(descriptor)
        return descriptor
    }

    /// A socket of `domain`/`type`, close-on-exec.
    private func socketOf(_ domain: Int32, _ type: Int32, _ proto: Int32 = 0, _ what: String) throws -> Int32 {
        try keep(socket(domain, type | Int32(SOCK_CLOEXEC.rawValue), proto), what)
    }

    /// A connected pair of `type`; returns both ends.
    private func pair(_ type: Int32, _ what: String) throws -> (Int32, Int32) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, type | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw IntegrationError("socketpair for \(what): \(Errno.current)")
        }
        opened += ends
        return (ends[0], ends[1])
    }

    /// Opens `kind`, using `caseDirectory` for anything that needs a file, and returns the descriptor.
    func make(_ kind: HostileDescriptor, caseDirectory: String, emulatorChildEnd: Int32) throws -> Int32 {
        let stream = Int32(SOCK_STREAM.rawValue)
        switch kind {
        case .emulatorSocket:
            return emulatorChildEnd
        case .regularFile:
            let path = caseDirectory + "/descriptor-file"
            return try keep(open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600), path)
        case .pipeReadEnd, .pipeWriteEnd:
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { throw IntegrationError("pipe: \(Errno.current)") }
            ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            opened += ends
            return kind == .pipeReadEnd ? ends[0] : ends[1]
        case .devNull:
            return try keep(open("/dev/null", O_RDWR | O_CLOEXEC), "/dev/null")
        case .directory:
            return try keep(open(caseDirectory, O_RDONLY | O_DIRECTORY | O_CLOEXEC), caseDirectory)
        case .unixDatagramPair:
            return try pair(Int32(SOCK_DGRAM.rawValue), "datagram").1
        case .unixSeqpacketPair:
            return try pair(Int32(SOCK_SEQPACKET.rawValue), "seqpacket").1
        case .udp:
            return try socketOf(AF_INET, Int32(SOCK_DGRAM.rawValue), 0, "UDP socket")
        case .tcp:
            return try socketOf(AF_INET, stream, 0, "TCP socket")
        case .netlinkRoute:
            return try socketOf(AF_NETLINK, Int32(SOCK_RAW.rawValue), 0 /* NETLINK_ROUTE */, "netlink socket")
        case .listeningUnixStream:
            let listener = try socketOf(AF_UNIX, stream, 0, "listening socket")
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)   // autobind: an abstract address chosen by the kernel
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sa_family_t>.size)) }
            }
            guard bound == 0, listen(listener, 1) == 0 else { throw IntegrationError("bind/listen: \(Errno.current)") }
            return listener
        case .unconnectedUnixStream:
            return try socketOf(AF_UNIX, stream, 0, "unconnected socket")
        case .unixStreamWithPeerClosed:
            let (peer, end) = try pair(stream, "stream pair")
            close(peer)
            opened.removeAll { $0 == peer }
            return end
        case .tunCloneDevice:
            return try keep(open("/dev/net/tun", O_RDWR | O_CLOEXEC), "/dev/net/tun")
        case .networkNamespace:
            return try keep(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), "/proc/self/ns/net")
        }
    }

    /// Closes everything this factory opened.
    func closeAll() {
        opened.forEach { _ = close($0) }
        opened.removeAll()
    }
}

// MARK: - Fixtures

/// Writes a case's files under its own directory; every path in a case is relative to it.
enum HostileFixtureWriter {
    /// Creates `files` under `directory` (root-owned 0755 itself). Directories get their final owner
    /// and mode only after everything inside them exists, so a 0775 or foreign-owned directory can
    /// still be filled.
    static func write(_ files: [HostileFile], in directory: String) throws {
        try makeDirectory(directory)
        var finalDirectoryAttributes: [(String, mode_t, uid_t, gid_t)] = []
        for file in files {
            switch file {
            case let .file(relative, bytes, mode, owner, group):
                let path = try prepare(relative, in: directory)
                let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
                guard descriptor >= 0 else { throw IntegrationError("create \(path): \(Errno.current)") }
                defer { close(descriptor) }
                try FileDescriptor(rawValue: descriptor).writeAll(bytes)
                try secure(path, mode: mode, owner: owner, group: group)
            case let .directory(relative, mode, owner, group):
                let path = try prepare(relative, in: directory)
                try makeDirectory(path)
                finalDirectoryAttributes.append((path, mode, owner, group))
            case let .symlink(relative, target):
                let path = try prepare(relative, in: directory)
                guard symlink(target.replacingOccurrences(of: HostileCase.caseDirectoryToken, with: directory), path) == 0 else {
                    throw IntegrationError("symlink \(path): \(Errno.current)")
                }
            case let .fifo(relative):
                let path = try prepare(relative, in: directory)
                guard mkfifo(path, 0o644) == 0, chmod(path, 0o644) == 0 else { throw IntegrationError("mkfifo \(path): \(Errno.current)") }
            case let .hardLink(relative, existing):
                let path = try prepare(relative, in: directory)
                guard link(directory + "/" + existing, path) == 0 else { throw IntegrationError("link \(path): \(Errno.current)") }
            case let .manyFiles(relative, count, bytes):
                let folder = try prepare(relative, in: directory)
                try makeDirectory(folder)
                for number in 1...count {
                    let path = folder + "/" + String(format: "%04d.policy", number)
                    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                        throw IntegrationError("create \(path)")
                    }
                    try secure(path, mode: 0o644, owner: 0, group: 0)
                }
            }
        }
        for (path, mode, owner, group) in finalDirectoryAttributes.reversed() {
            try secure(path, mode: mode, owner: owner, group: group)
        }
    }

    /// The absolute path of `relative`, with its parent directories created (root 0755).
    private static func prepare(_ relative: String, in directory: String) throws -> String {
        var current = directory
        for component in relative.split(separator: "/").dropLast() {
            current += "/" + component
            try makeDirectory(current)
        }
        return directory + "/" + relative
    }

    /// mkdir (if missing) as root-owned 0755.
    private static func makeDirectory(_ path: String) throws {
        var status = stat()
        if lstat(path, &status) == 0 { return }
        guard mkdir(path, 0o755) == 0 else { throw IntegrationError("mkdir \(path): \(Errno.current)") }
        try secure(path, mode: 0o755, owner: 0, group: 0)
    }

    /// lchown + chmod (chmod after chown, so set-id bits survive).
    private static func secure(_ path: String, mode: mode_t, owner: uid_t, group: gid_t) throws {
        guard lchown(path, owner, group) == 0, chmod(path, mode) == 0 else {
            throw IntegrationError("could not set \(path) to \(owner):\(group) \(String(mode, radix: 8)): \(Errno.current)")
        }
    }
}

// MARK: - Observations

/// The namespace's links as `INDEX:NAME` (plus ` master M` for a port), and its tun/tap devices.
struct HostileLinkSnapshot: Equatable, CustomStringConvertible {
    /// `INDEX:NAME[ master M]` of every link, in the kernel's order.
    var links: [String]
    /// Names of tun/tap devices (`tun type ...` in `ip -d` output).
    var tunDevices: [String]

    /// Takes a snapshot of the namespace named `namespace` with one `ip -n NS -o -d link show`.
    static func take(_ namespace: String) throws -> HostileLinkSnapshot {
        let result = try HostileSpawner.run(["ip", "-n", namespace, "-o", "-d", "link", "show"].map { Array($0.utf8) }, descriptors: [:])
        guard result.exitStatus == 0 else {
            throw IntegrationError("ip -n \(namespace) link show exited \(result.exitStatus): \(result.standardError.readable)")
        }
        var snapshot = HostileLinkSnapshot(links: [], tunDevices: [])
        for line in String(decoding: result.standardOutput, as: UTF8.self).split(separator: "\n") {
            // "3: br0: <...> ... master br0 ..." or "5: vA@vB: <...>"
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { continue }
            let name = fields[1].trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init) ?? ""
            let words = line.split(separator: " ")
            let master = words.firstIndex(of: "master").flatMap { $0 + 1 < words.count ? " master \(words[$0 + 1])" : nil } ?? ""
            snapshot.links.append("\(fields[0]):\(name)\(master)")
            if line.contains(" tun type ") { snapshot.tunDevices.append(name) }
        }
        return snapshot
    }

    var description: String { links.joined(separator: ", ") + (tunDevices.isEmpty ? "" : "; tun/tap: \(tunDevices)") }
}

/// An inotify watch for IN_OPEN on a set of paths: proves the helper never opened them.
final class HostileOpenWatch {
    private let descriptor: Int32
    private var watches: [Int32: String] = [:]

    /// Watches `paths` (which must exist) for being opened.
    init(paths: [String]) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw IntegrationError("inotify_init1: \(Errno.current)") }
        for path in paths {
            let watch = inotify_add_watch(descriptor, path, UInt32(IN_OPEN))
            guard watch >= 0 else { close(descriptor); throw IntegrationError("inotify_add_watch \(path): \(Errno.current)") }
            watches[watch] = path
        }
    }

    /// The watched paths that were opened since the watch began.
    func openedPaths() -> [String] {
        var opened: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let event = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: inotify_event.self) }
                if event.mask & UInt32(IN_OPEN) != 0, let path = watches[event.wd] { opened.append(path) }
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
        return opened
    }

    deinit { close(descriptor) }
}

// MARK: - Bytes

extension Array where Element == UInt8 {
    /// `self` with every occurrence of `token` replaced by `replacement`.
    func replacing(_ token: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        guard let first = token.first, count >= token.count else { return self }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var index = 0
        while index < count {
            if self[index] == first, index + token.count <= count, self[index..<(index + token.count)].elementsEqual(token) {
                result += replacement
                index += token.count
            } else {
                result.append(self[index])
                index += 1
            }
        }
        return result
    }

    /// The bytes for a failure report, quoted: printable ASCII as is, everything else as `\xNN`.
    var readable: String {
        var text = "\""
        for byte in self {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): text += "\\" + String(UnicodeScalar(byte))
            case 0x20..<0x7f: text.unicodeScalars.append(UnicodeScalar(byte))
            default: text += String(format: "\\x%02x", byte)
            }
        }
        return text + "\""
    }
}
