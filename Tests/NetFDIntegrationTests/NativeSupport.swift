// NativeSupport.swift - what the native request tests share: a lower link (veth v0/v1) beside the
// standard topology, native requests run by the test (NativeClient) or by a stand-in emulator
// (netfd-client holding the descriptors in a `sleep`), helper and guard processes of the test's
// namespace, the macvtaps it holds, refusal checks, and frames with a chosen destination.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

/// A stand-in emulator: `LAUNCHER netfd-client --helper=H [--policy=P] WORDS... -- sh -c 'echo
/// "$NETFD_REPLY|$NETFD_FDS|$NETFD_VHOSTFDS"; exec sleep 600'`. One pid from the launcher to the
/// sleep (ip netns exec, unshare, setpriv, netfd-client and sh all exec), so it is the process
/// the helper's macvtap guard watches, and it holds the descriptors until it is killed.
final class StandInEmulator {
    /// The command the stand-in runs after its request: report, then hold the descriptors.
    static let holdCommand = ["sh", "-c", "echo \"$NETFD_REPLY|$NETFD_FDS|$NETFD_VHOSTFDS\"; exec sleep 600"]

    let pid: pid_t
    let argv: [String]
    private var outputEnd: FileDescriptor?
    private var errorEnd: FileDescriptor?
    private var errorBytes: [UInt8] = []
    /// The status once reaped: the exit code, or 128 + signal.
    private(set) var exitStatus: Int32?
    /// The line the command printed (without newline), once `waitForReport` saw it.
    private(set) var report: String?

    /// Spawns `argv` with stdout and stderr on pipes, stdin from `standardInput` (else /dev/null),
    /// `inheriting` left open under their own numbers, the test's environment plus `environment`,
    /// default signal dispositions. (Also used to run a helper directly with a socket of the test.)
    init(argv: [String], standardInput: FileDescriptor? = nil, environment: [String] = [], inheriting: [Int32] = []) throws {
        self.argv = argv
        var outputPipe: [Int32] = [-1, -1], errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { throw IntegrationError("pipe: \(Errno.current)") }
        guard pipe(&errorPipe) == 0 else {
            Glibc.close(outputPipe[0]); Glibc.close(outputPipe[1])
            throw IntegrationError("pipe: \(Errno.current)")
        }
        for end in outputPipe + errorPipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { Glibc.close(outputPipe[1]); Glibc.close(errorPipe[1]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardInput {
            posix_spawn_file_actions_adddup2(&actions, standardInput.rawValue, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        // dup2 onto itself clears close-on-exec in the child only (glibc >= 2.29).
        for fd in inheriting { posix_spawn_file_actions_adddup2(&actions, fd, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t(), noSignals = sigset_t()
        sigfillset(&allSignals)
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var inherited: [String] = []
        var index = 0
        while let entry = environ[index] { inherited.append(String(cString: entry)); index += 1 }
        let names = Set(environment.map { String($0.prefix { $0 != "=" }) })
        let fullEnvironment = inherited.filter { !names.contains(String($0.prefix { $0 != "=" })) } + environment
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = fullEnvironment.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard spawned == 0 else {
            Glibc.close(outputPipe[0]); Glibc.close(errorPipe[0])
            throw IntegrationError("posix_spawnp \(argv[0]): \(Errno(spawned))")
        }
        pid = child
        outputEnd = FileDescriptor(rawValue: outputPipe[0])
        errorEnd = FileDescriptor(rawValue: errorPipe[0])
    }

    deinit { cleanUp() }

    /// Waits for the command's report line; returns it, or nil when the stand-in exited without
    /// one (a refused or failed request: netfd-client exits with the helper's status). Throws when
    /// neither happens within `timeout` seconds.
    @discardableResult
    func waitForReport(timeout: TimeInterval = 30) throws -> String? {
        if let report { return report }
        guard let outputEnd else { return nil }
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !bytes.contains(UInt8(ascii: "\n")) {
            var poller = pollfd(fd: outputEnd.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw IntegrationError("the stand-in printed no report within \(timeout) s: \(diagnostics)") }
            let chunk = (try? outputEnd.read(upTo: 4096)) ?? []
            if chunk.isEmpty {
                _ = try reap(timeout: 20)
                return nil
            }
            bytes += chunk
        }
        let line = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        report = line
        return line
    }

    /// The report's three parts: the reply line, the queue (or packet) descriptor numbers, the vhost ones.
    var parts: (reply: String, queues: [Int32], vhosts: [Int32]) {
        let fields = (report ?? "").split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        func numbers(_ index: Int) -> [Int32] {
            index < fields.count ? fields[index].split(separator: ",").compactMap { Int32($0) } : []
        }
        return (fields.first ?? "", numbers(1), numbers(2))
    }

    /// The parsed reply line the stand-in got.
    var reply: NativeReplyLine? { NativeReplyLine(parts.reply) }

    /// Copies (pidfd_getfd) of the descriptors the stand-in holds: queues (or the packet socket) then vhost.
    func duplicates() throws -> (queues: [FileDescriptor], vhosts: [FileDescriptor]) {
        let pidfd = try ProcessControl.openPidDescriptor(pid)
        defer { pidfd.close() }
        let (_, queues, vhosts) = parts
        var copies: [FileDescriptor] = []
        do {
            for number in queues + vhosts { copies.append(try ProcessControl.duplicateDescriptor(number, fromPidDescriptor: pidfd)) }
        } catch {
            copies.forEach { $0.close() }
            throw IntegrationError("pidfd_getfd from stand-in \(pid): \(error)")
        }
        return (Array(copies.prefix(queues.count)), Array(copies.dropFirst(queues.count)))
    }

    /// The stand-in's children (/proc/PID/task/PID/children): netfd-client's helper while it runs.
    func children() -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// SIGKILLs the stand-in (the emulator exiting) and reaps it; returns its status.
    @discardableResult
    func kill() -> Int32 {
        if let exitStatus { return exitStatus }
        Glibc.kill(pid, SIGKILL)
        return (try? reap(timeout: 20)) ?? 128 + SIGKILL
    }

    /// Reaps the stand-in, waiting at most `timeout` seconds (then SIGKILLs it and throws).
    @discardableResult
    func reap(timeout: TimeInterval = 20) throws -> Int32 {
        if let exitStatus { return exitStatus }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { throw IntegrationError("waitpid(\(pid)): \(Errno.current)") }
            if Date() >= deadline {
                Glibc.kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                exitStatus = HookedExitStatus.decode(status)
                throw IntegrationError("the stand-in did not end within \(timeout) s (killed it): \(diagnostics)")
            }
            usleep(5_000)
        }
        exitStatus = HookedExitStatus.decode(status)
        drainErrors(until: Date().addingTimeInterval(2))
        return exitStatus!
    }

    /// What the stand-in (netfd-client, and the helper through it) wrote on stderr so far.
    var standardError: String {
        drainErrors(until: Date())
        return String(decoding: errorBytes, as: UTF8.self)
    }

    /// Everything known about the stand-in, for failure messages.
    var diagnostics: String {
        "[stand-in pid \(pid), \(HookedExitStatus.describe(exitStatus))] argv: \(argv.joined(separator: " "))\n"
            + "report: \(report ?? "(none)")\nstderr: \(standardError.isEmpty ? "(empty)" : standardError)"
    }

    /// Kills and reaps the stand-in if it runs, and closes the pipes. Idempotent.
    func cleanUp() {
        kill()
        outputEnd?.close()
        outputEnd = nil
        errorEnd?.close()
        errorEnd = nil
    }

    /// Reads what the stderr pipe holds; after `deadline` only what is there at once. Stops at EOF.
    private func drainErrors(until deadline: Date) {
        guard let errorEnd else { return }
        while true {
            let wait = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var poller = pollfd(fd: errorEnd.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, wait) > 0 else { return }
            guard let chunk = try? errorEnd.read(upTo: 4096), !chunk.isEmpty else {
                errorEnd.close()
                self.errorEnd = nil
                return
            }
            errorBytes += chunk
        }
    }
}

/// The installed form for native requests: a setcap copy run by an unprivileged uid inside the
/// namespace, with /etc/netfd/netfd.policy overlaid in a private mount namespace (and a private
/// 0666 /dev/net/tun where the machine's is not), exactly as FileCapabilityTests runs it.
enum NativeFileCapabilitySupport {
    /// Every capability some native kind needs, as the helper's setcap hint spells them.
    static let fullCapabilities = "cap_net_admin,cap_net_raw,cap_dac_override,cap_setpcap"

    /// The commands before the helper (or netfd-client) that run it as `uid` (gid = uid, no
    /// supplementary groups) in `namespace` with `etcExtra` overlaid onto /etc.
    static func launcher(namespace: NetworkNamespace, etcExtra: String, uid: UInt32) -> [String] {
        var script = "mount -n -t overlay overlay -o lowerdir=\(etcExtra):/etc /etc"
        if let tunSetup = FileCapabilityTests.privateTunDeviceSetup { script += " && " + tunSetup }
        script += " && exec setpriv --reuid=\(uid) --regid=\(uid) --clear-groups -- \"$@\""
        return ["ip", "netns", "exec", namespace.name, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
    }
}

/// Base class of the native request tests: IntegrationTestCase plus the veth pair v0/v1 (v0 the
/// lower link, v1 its peer, both up) and netfd-client.
class NativeTestCase: IntegrationTestCase {
    /// The built netfd-client.
    var client: String!
    /// Fixed addresses of the lower link and its peer.
    static let lowerAddress = "02:00:5e:10:00:20"
    static let lowerPeerAddress = "02:00:5e:10:00:21"

    override func setUpWithError() throws {
        try Integration.requireRoot()
        try super.setUpWithError()
        client = try Integration.builtExecutable("netfd-client", override: "NETFD_CLIENT")
        try namespace.ip("link", "add", "v0", "address", Self.lowerAddress, "type", "veth",
                         "peer", "name", "v1", "address", Self.lowerPeerAddress)
        try namespace.ip("link", "set", "dev", "v0", "up")
        try namespace.ip("link", "set", "dev", "v1", "up")
    }

    /// `ip netns exec NS`: runs a command in the test's namespace.
    var insideNamespace: [String] { ["ip", "netns", "exec", namespace.name] }

    // MARK: requests

    /// Runs one native request with the test as the emulator (NativeClient: the test's socketpair),
    /// as root inside the namespace with `--policy=policy`. The descriptors close at teardown.
    func request(_ words: [String], policy: String?, helper: String? = nil, launcher: [String]? = nil) throws -> NativeResult {
        var invocation = NativeInvocation(helper: helper ?? self.helper, words: words)
        invocation.launcher = launcher ?? insideNamespace
        if let policy { invocation.options = ["--policy=\(policy)"] }
        let result = try NativeClient.run(invocation)
        result.descriptors.forEach(closeAtTeardown)
        return result
    }

    /// The argv of a stand-in emulator run by root in the namespace.
    func standInArgv(_ words: [String], policy: String?, helper: String? = nil, launcher: [String]? = nil,
                     command: [String] = StandInEmulator.holdCommand) -> [String] {
        var argv: [String] = launcher ?? insideNamespace
        argv += [client!, "--helper=" + (helper ?? self.helper!)]
        if let policy { argv.append("--policy=" + policy) }
        return argv + words + ["--"] + command
    }

    /// Starts a stand-in emulator for `words` (killed at teardown) and waits for its report.
    func startStandIn(_ words: [String], policy: String?, helper: String? = nil, launcher: [String]? = nil,
                      standardInput: FileDescriptor? = nil, environment: [String] = [],
                      command: [String] = StandInEmulator.holdCommand, waitForReport: Bool = true) throws -> StandInEmulator {
        let standIn = try StandInEmulator(argv: standInArgv(words, policy: policy, helper: helper, launcher: launcher, command: command),
                                          standardInput: standardInput, environment: environment)
        addTeardownBlock { standIn.cleanUp() }
        if waitForReport { try standIn.waitForReport() }
        return standIn
    }

    /// A stand-in that must have succeeded: its reply (ok, `fds` matching the numbers it holds)
    /// and copies of its descriptors (closed at teardown).
    func requireHeld(_ standIn: StandInEmulator, file: StaticString = #filePath, line: UInt = #line) throws
        -> (reply: NativeReplyLine, queues: [FileDescriptor], vhosts: [FileDescriptor]) {
        guard standIn.report != nil, let reply = standIn.reply, reply.succeeded else {
            XCTFail("the stand-in's request failed: \(standIn.diagnostics)", file: file, line: line)
            throw IntegrationError("stand-in request failed")
        }
        XCTAssertEqual(standIn.standardError, "", "a successful request prints nothing on stderr", file: file, line: line)
        let (queues, vhosts) = try standIn.duplicates()
        (queues + vhosts).forEach(closeAtTeardown)
        let queueLabel = reply["kind"] == "raw" ? "packet" : "tap"
        let expectedLabels = [String](repeating: queueLabel, count: queues.count) + [String](repeating: "vhost", count: vhosts.count)
        XCTAssertEqual(reply.descriptorLabels, expectedLabels, "fds= against what the stand-in holds: \(standIn.diagnostics)",
                       file: file, line: line)
        return (reply, queues, vhosts)
    }

    /// A successful NativeClient result: exit 0, no stderr, an ok reply with as many descriptors as labels.
    @discardableResult
    func requireSuccess(_ result: NativeResult, file: StaticString = #filePath, line: UInt = #line) throws -> NativeReplyLine {
        XCTAssertEqual(result.exitStatus, 0, "stderr: \(result.standardError)", file: file, line: line)
        XCTAssertEqual(result.standardError, "", file: file, line: line)
        guard let reply = result.parsed, reply.succeeded else {
            XCTFail("no ok reply: \(result.reply.debugDescription), exit \(result.exitStatus), stderr: \(result.standardError)",
                    file: file, line: line)
            throw IntegrationError("request failed")
        }
        XCTAssertTrue(result.reply.hasSuffix("\n"), "the reply is one line: \(result.reply.debugDescription)", file: file, line: line)
        XCTAssertEqual(reply.descriptorLabels.count, result.descriptors.count, "fds= against the descriptors received: \(result.reply)",
                       file: file, line: line)
        XCTAssertEqual(reply.fields.last?.key, "fds", "fds is the last field: \(result.reply)", file: file, line: line)
        return reply
    }

    // MARK: refusals

    /// Asserts a refused native request: `exitStatus`, exactly one stderr line `netfd-helper: MESSAGE`
    /// (equal to `message`, or starting with `prefix`), the reply `netfd/1 error EXIT MESSAGE`, no
    /// descriptors. Returns MESSAGE.
    @discardableResult
    func assertRefused(_ result: NativeResult, exitStatus: Int32, message: String? = nil, prefix: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(result.exitStatus, exitStatus, "stderr: \(result.standardError)", file: file, line: line)
        let text = assertOneHelperLine(result.standardError, message: message, prefix: prefix, file: file, line: line)
        XCTAssertEqual(result.reply, "netfd/1 error \(exitStatus) \(text)\n", "the reply repeats the exit status and the stderr message",
                       file: file, line: line)
        XCTAssertEqual(result.descriptors.count, 0, "a refused request hands over nothing", file: file, line: line)
        return text
    }

    /// Asserts a stand-in whose request was refused: it exited with `exitStatus` (netfd-client passes
    /// the helper's on) without a report, and stderr is exactly the helper's one line. Returns MESSAGE.
    @discardableResult
    func assertRefused(_ standIn: StandInEmulator, exitStatus: Int32, message: String? = nil, prefix: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws -> String {
        XCTAssertNil(try standIn.waitForReport(), "a refused request must not run the command: \(standIn.diagnostics)", file: file, line: line)
        XCTAssertEqual(try standIn.reap(), exitStatus, standIn.diagnostics, file: file, line: line)
        return assertOneHelperLine(standIn.standardError, message: message, prefix: prefix, file: file, line: line)
    }

    /// Checks that `standardError` is one `netfd-helper: ` line, equal to `message` or starting with
    /// `prefix` (both without the `netfd-helper: `); returns the message.
    @discardableResult
    func assertOneHelperLine(_ standardError: String, message: String?, prefix: String?,
                             file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(standardError.filter { $0 == "\n" }.count, 1, "exactly one stderr line: \(standardError.debugDescription)",
                       file: file, line: line)
        XCTAssertTrue(standardError.hasSuffix("\n"), "stderr ends with its newline: \(standardError.debugDescription)", file: file, line: line)
        XCTAssertTrue(standardError.hasPrefix("netfd-helper: "), "stderr: \(standardError.debugDescription)", file: file, line: line)
        let text = String(standardError.dropFirst("netfd-helper: ".count).prefix { $0 != "\n" })
        if let message { XCTAssertEqual(text, message, file: file, line: line) }
        if let prefix { XCTAssertTrue(text.hasPrefix(prefix), "\(text.debugDescription) should start with \(prefix.debugDescription)", file: file, line: line) }
        return text
    }

    /// How the helper names a caller in refusals: `user NAME (uid U)`, or `uid U` without a passwd entry.
    func callerName(_ uid: UInt32) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "user \(String(cString: name)) (uid \(uid))"
    }

    // MARK: kernel state

    /// Every link of the namespace as `ip -d -j link show` objects.
    func allLinks() throws -> [[String: Any]] {
        let output = try namespace.ip("-d", "-j", "link", "show")
        return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]) ?? []
    }

    /// The names of the macvtaps in the namespace, sorted.
    func macvtaps() throws -> [String] {
        try allLinks().filter { $0.infoKind == "macvtap" }.compactMap { $0["ifname"] as? String }.sorted()
    }

    /// Waits (bounded) until the namespace has exactly `names` as its links.
    func waitForLinks(_ names: [String], timeout: TimeInterval = 5) throws -> Bool {
        try Integration.waitUntil(timeout: timeout) { try namespace.linkNames() == names }
    }

    /// The inode of the namespace (what /proc/PID/ns/net links to as `net:[INODE]`).
    func namespaceInode() throws -> UInt64 {
        var status = stat()
        guard stat("/run/netns/\(namespace.name)", &status) == 0 else { throw IntegrationError("stat /run/netns/\(namespace.name): \(Errno.current)") }
        return UInt64(status.st_ino)
    }

    /// PIDs of the live processes running `binary` (its helpers and their macvtap guards, which
    /// are forked from the helper) inside this test's namespace. Zombies have no exe and do not count.
    func helperProcesses(_ binary: String) throws -> [pid_t] {
        let inode = try namespaceInode()
        return ProcDescriptors.processesRunning(binary).filter { pid in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")) == "net:[\(inode)]"
        }.sorted()
    }

    /// Waits (bounded) until no process runs `binary` in the namespace; returns whether that came.
    func waitUntilNoHelperProcesses(_ binary: String, timeout: TimeInterval = 5) throws -> Bool {
        try Integration.waitUntil(timeout: timeout) { try helperProcesses(binary).isEmpty }
    }

    /// Asserts the link of a macvtap reply: kind macvtap on `lower`, mode, alias, UP, index and MAC
    /// as the reply says. Returns the link object.
    @discardableResult
    func assertMacvtapLink(_ reply: NativeReplyLine, lower: String = "v0", mode: String, ownerUID: UInt32,
                           file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let name = try XCTUnwrap(reply["name"], "reply without name: \(reply.fields)", file: file, line: line)
        let link = try namespace.requireLink(name, file: file, line: line)
        XCTAssertEqual(link.infoKind, "macvtap", "\(link)", file: file, line: line)
        XCTAssertEqual(link.infoData["mode"] as? String, mode, "\(link.infoData)", file: file, line: line)
        XCTAssertEqual(link["link"] as? String, lower, "lower link of \(name)", file: file, line: line)
        XCTAssertEqual(link["ifalias"] as? String, "netfd uid=\(ownerUID)", "the quota label", file: file, line: line)
        XCTAssertTrue(link.flags.contains("UP"), "flags: \(link.flags)", file: file, line: line)
        XCTAssertEqual(reply["ifindex"], (link["ifindex"] as? Int).map(String.init), "ifindex of \(name)", file: file, line: line)
        XCTAssertEqual(reply["mac"], link["address"] as? String, "MAC of \(name)", file: file, line: line)
        return link
    }

    // MARK: frames

    /// A frame to `destination` from `source` with the experimental ethertype and `payload` padded to 46 bytes.
    static func frame(to destination: [UInt8], from source: [UInt8], payload: String) -> [UInt8] {
        var body = Array(payload.utf8)
        if body.count < 46 { body += [UInt8](repeating: 0, count: 46 - body.count) }
        return destination + source + [UInt8(experimentalEtherType >> 8), UInt8(experimentalEtherType & 0xff)] + body
    }

    /// The six bytes of `aa:bb:cc:dd:ee:ff`.
    static func macBytes(_ text: String) throws -> [UInt8] {
        let bytes = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
        guard bytes.count == 6 else { throw IntegrationError("not a MAC address: \(text)") }
        return bytes
    }

    /// Waits (bounded) until one of `descriptors` delivers `expected` (after its virtio_net_hdr
    /// when `vnetHeader`); returns whether it came. Other traffic is skipped.
    static func receive(_ expected: [UInt8], fromAnyOf descriptors: [FileDescriptor], vnetHeader: Bool,
                        timeout: TimeInterval = 5) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            var pollers = descriptors.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), Int32(min(deadline.timeIntervalSinceNow, 1) * 1000) + 1)
            if ready < 0 && errno != EINTR { throw IntegrationError("poll: \(Errno.current)") }
            guard ready > 0 else { continue }
            for (descriptor, poller) in zip(descriptors, pollers) where poller.revents != 0 {
                guard poller.revents & Int16(POLLIN) != 0 else { throw IntegrationError("poll reported \(poller.revents) on \(descriptor)") }
                guard let packet = try? descriptor.read(upTo: 65536 + virtioNetHeaderLength) else { continue }
                if (vnetHeader ? Array(packet.dropFirst(virtioNetHeaderLength)) : packet) == expected { return true }
            }
        }
        return false
    }
}
