// HookedHelper.swift - runs netfd-helper-testhooks (netfd-helper's own main.swift compiled with
// NETFD_TEST_HOOKS) stopped at a named step, so a test can look at the live process from outside,
// SIGKILL it, or let it go on; and checks afterwards that nothing was left behind.
// The hook: NETFD_TEST_HOOK=STEP:ACTION in the helper's environment; the helper reports "STEP\n" on
// its fd 0 (our socketpair end) and, for `pause`, waits there for one byte. See the end of
// Sources/netfd-helper/main.swift.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

/// The steps the test build can stop at, in the order the helper passes them.
enum HookStep: String, CaseIterable {
    case confined, policyLoaded = "policy-loaded", tapCreated = "tap-created", restricted, configured,
         enslaved, up, beforeHandoff = "before-handoff", afterHandoff = "after-handoff"

    /// Whether the helper is at or past `other` when stopped here.
    func isAtOrPast(_ other: HookStep) -> Bool {
        let all = Self.allCases
        return all.firstIndex(of: self)! >= all.firstIndex(of: other)!
    }
}

/// What the helper does at the armed step.
enum HookAction: String {
    /// Report the step on fd 0 and wait for one byte there.
    case pause
    /// Report the step on fd 0, then call getppid(2), which the seccomp allow-list lacks.
    case unlistedSyscall = "unlisted-syscall"
}

/// A status as HelperClient reports it: the exit code, or 128 + the signal that killed the process.
enum HookedExitStatus {
    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    static func describe(_ status: Int32?) -> String {
        guard let status else { return "still running" }
        if status > 128, let name = strsignal(status - 128) { return "\(status) (killed by signal \(status - 128), \(String(cString: name)))" }
        return "exit \(status)"
    }
}

/// One run of the hooked helper, spawned as QEMU does (a socketpair end as --fd=N) plus the hook
/// channel on fd 0. Every descriptor and the process itself are released by `cleanUp()`.
final class HookedRun {
    let pid: pid_t
    let argv: [String]
    let hook: String
    /// N in --fd=N, the number the helper sees.
    let socketNumber: Int32
    /// How /proc shows the helper's ends: `socket:[inode]` of its fd 0 and of its --fd.
    let hookTarget: String, socketTarget: String
    /// Our end of the hook channel (the helper's fd 0).
    private(set) var hookEnd: FileDescriptor?
    /// Our end of the handoff socket (the emulator's).
    private(set) var emulatorEnd: UnixSocket?
    private var errorEnd: FileDescriptor?
    private var errorBytes: [UInt8] = []
    /// The status once reaped (see `HookedExitStatus`).
    private(set) var exitStatus: Int32?
    /// The last /proc/PID/status text read, kept for failure messages.
    private(set) var lastStatusText = ""

    /// Spawns `launcher + [helper, --use-vnet, --fd=N, --br=bridge] + extraArguments` with only PATH
    /// and NETFD_TEST_HOOK in the environment. `strays` are extra descriptors left inheritable.
    init(launcher: [String], helper: String, extraArguments: [String], hook: String, bridge: String = "br0",
         strays: [Int32] = []) throws {
        let (emulator, helperEnd) = try UnixSocket.pair()
        let (ours, theirs) = try UnixSocket.pair()
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&errorPipe) == 0 else {
            emulator.close(); helperEnd.close(); ours.close(); theirs.close()
            throw IntegrationError("pipe: \(Errno.current)")
        }
        for end in errorPipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer {
            // Only the helper holds its ends from here on, so EOF on ours means it is gone.
            helperEnd.close(); theirs.close(); Glibc.close(errorPipe[1])
        }
        self.hook = hook
        socketNumber = helperEnd.descriptor.rawValue
        hookTarget = "socket:[\(Self.inode(of: theirs.descriptor))]"
        socketTarget = "socket:[\(Self.inode(of: helperEnd.descriptor))]"
        argv = launcher + [helper, "--use-vnet", "--fd=\(socketNumber)", "--br=\(bridge)"] + extraArguments
        hookEnd = ours.descriptor
        emulatorEnd = emulator
        errorEnd = FileDescriptor(rawValue: errorPipe[0])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, theirs.descriptor.rawValue, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        // dup2 onto itself clears close-on-exec in the child only (glibc >= 2.29).
        for fd in [socketNumber] + strays { posix_spawn_file_actions_adddup2(&actions, fd, fd) }
        let environment = ["PATH=" + Command.searchPath.joined(separator: ":"), "NETFD_TEST_HOOK=\(hook)"]
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup($0) } + [nil]
        defer { (cArguments + cEnvironment).forEach { free($0) } }
        // Default dispositions and no blocked signals, whatever the test runner set: an inherited
        // SIG_IGN for SIGPIPE would hide a missing MSG_NOSIGNAL.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t(), noSignals = sigset_t()
        sigfillset(&allSignals)
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var child: pid_t = 0
        let spawned = posix_spawnp(&child, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard spawned == 0 else {
            emulator.close(); ours.close(); Glibc.close(errorPipe[0])
            throw IntegrationError("posix_spawnp \(argv[0]): \(Errno(spawned))")
        }
        pid = child
    }

    deinit { cleanUp() }

    /// The inode number /proc shows for `descriptor` (0 if fstat fails).
    static func inode(of descriptor: FileDescriptor) -> UInt64 {
        var status = stat()
        return fstat(descriptor.rawValue, &status) == 0 ? UInt64(status.st_ino) : 0
    }

    /// Everything known about the run, for failure messages.
    var diagnostics: String {
        collectErrors()
        return "[pid \(pid), NETFD_TEST_HOOK=\(hook), \(HookedExitStatus.describe(exitStatus))]\n"
            + "argv: \(argv.joined(separator: " "))\n"
            + "stderr: \(errorBytes.isEmpty ? "(empty)" : String(decoding: errorBytes, as: UTF8.self))"
            + (lastStatusText.isEmpty ? "" : "\n/proc/\(pid)/status when last read:\n\(lastStatusText)")
    }

    /// Everything the helper (and its launcher) wrote on stderr so far.
    var standardError: String {
        collectErrors()
        return String(decoding: errorBytes, as: UTF8.self)
    }

    /// Waits until the helper reports `step` on the hook channel. Throws, with the diagnostics, when it
    /// reports another step, exits first, or says nothing for `timeout` seconds.
    func waitForStep(_ step: HookStep, timeout: TimeInterval = 20) throws {
        guard let hookEnd else { throw IntegrationError("hook channel already closed") }
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !line.contains(UInt8(ascii: "\n")) {
            let remaining = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            var poller = pollfd(fd: hookEnd.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, remaining)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else {
                throw IntegrationError("the helper did not reach \(step.rawValue) within \(timeout) s: \(diagnostics)")
            }
            let chunk = (try? hookEnd.read(upTo: 64)) ?? []
            if chunk.isEmpty {
                _ = try? reap(timeout: 5)
                throw IntegrationError("the helper ended before reaching \(step.rawValue): \(diagnostics)")
            }
            line += chunk
        }
        let reported = String(decoding: line, as: UTF8.self)
        guard reported == step.rawValue + "\n" else {
            throw IntegrationError("the helper reported \(reported.debugDescription), expected \(step.rawValue): \(diagnostics)")
        }
    }

    /// Lets a paused helper go on.
    func resume() throws {
        guard let hookEnd else { throw IntegrationError("hook channel already closed") }
        try hookEnd.writeAll([0x2e])
    }

    /// Sends `signal` to the helper.
    func kill(_ signal: Int32) {
        _ = Glibc.kill(pid, signal)
    }

    /// Reaps the helper, waiting at most `timeout` seconds (then SIGKILLs it and throws).
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
                _ = waitpid(pid, &status, 0)
                exitStatus = HookedExitStatus.decode(status)
                throw IntegrationError("the helper did not end within \(timeout) s (killed it): \(diagnostics)")
            }
            usleep(5_000)
        }
        exitStatus = HookedExitStatus.decode(status)
        finishErrors()
        return exitStatus!
    }

    /// Receives what the helper sent on the handoff socket: nil at end of stream (nothing sent).
    func receive(timeout: TimeInterval = 10) throws -> (byte: UInt8, descriptor: FileDescriptor?)? {
        guard let emulatorEnd else { throw IntegrationError("the emulator end is already closed") }
        var poller = pollfd(fd: emulatorEnd.descriptor.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) > 0 else {
            throw IntegrationError("nothing arrived on the handoff socket within \(timeout) s: \(diagnostics)")
        }
        return try emulatorEnd.receive()
    }

    /// Gives the emulator end away (e.g. to a receiver process) or drops it: closes our copy.
    func closeEmulatorEnd() {
        emulatorEnd?.close()
        emulatorEnd = nil
    }

    /// Closes the hook channel (a paused helper then goes on: EOF counts as "continue").
    func closeHookEnd() {
        hookEnd?.close()
        hookEnd = nil
    }

    /// /proc/PID/status of the live helper as `Key: value` pairs (also kept for `diagnostics`).
    func statusFields() throws -> [String: String] {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        lastStatusText = text
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// The helper's open descriptors (/proc/PID/fd) and what each refers to.
    func descriptors() throws -> [Int32: String] {
        try ProcDescriptors.of("/proc/\(pid)")
    }

    /// The path /proc/PID/exe names (which binary the process is running now).
    func executable() -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }

    /// Kills the helper if it still runs, reaps it and closes every descriptor of the run. Idempotent.
    func cleanUp() {
        if exitStatus == nil {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exitStatus = HookedExitStatus.decode(status)
        }
        collectErrors()
        closeHookEnd()
        closeEmulatorEnd()
        errorEnd?.close()
        errorEnd = nil
    }

    /// Once the helper is reaped: reads its stderr to the end (bounded) and closes our end of the pipe.
    private func finishErrors() {
        guard let errorEnd else { return }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var poller = pollfd(fd: errorEnd.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { continue }
            guard poller.revents != 0 else { continue }
            guard let chunk = try? errorEnd.read(upTo: 4096), !chunk.isEmpty else { break }
            errorBytes += chunk
        }
        errorEnd.close()
        self.errorEnd = nil
    }

    /// Drains what is in the stderr pipe without blocking.
    private func collectErrors() {
        guard let errorEnd else { return }
        while true {
            var poller = pollfd(fd: errorEnd.rawValue, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0, let chunk = try? errorEnd.read(upTo: 4096), !chunk.isEmpty else { return }
            errorBytes += chunk
        }
    }
}

/// An "emulator" process that holds the receiving end of the handoff socket and never reads it
/// (sleep with the socket inherited), so a test can SIGKILL the receiver the way an emulator dies.
final class ReceiverProcess {
    let pid: pid_t
    private var reaped = false

    /// Spawns `sleep 600` with `socket` inherited under its own number.
    init(holding socket: UnixSocket) throws {
        guard let sleep = Command.find("sleep") else { throw IntegrationError("sleep is not installed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, socket.descriptor.rawValue, socket.descriptor.rawValue)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let cArguments = [strdup(sleep), strdup("600"), nil]
        defer { cArguments.forEach { free($0) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, sleep, &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw IntegrationError("posix_spawn sleep: \(Errno(spawned))") }
        pid = child
        // The socket must really be in the child before the caller drops its own copy.
        let inherited = Integration.waitUntil(timeout: 5) {
            ((try? ProcDescriptors.of("/proc/\(child)")) ?? [:])[socket.descriptor.rawValue]?.hasPrefix("socket:") == true
        }
        guard inherited else { kill(); throw IntegrationError("the receiver process never held the socket") }
    }

    /// SIGKILLs and reaps the receiver; returns its status (137 expected).
    @discardableResult
    func kill() -> Int32 {
        guard !reaped else { return 128 + SIGKILL }
        reaped = true
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return HookedExitStatus.decode(status)
    }

    deinit { kill() }
}

/// Open descriptors of a process, from /proc.
enum ProcDescriptors {
    /// `procDirectory`/fd as number -> link target ("socket:[123]", "/dev/net/tun", "pipe:[9]", ...).
    /// Entries that vanish while listing (e.g. the directory's own descriptor) are left out.
    static func of(_ procDirectory: String) throws -> [Int32: String] {
        var result: [Int32: String] = [:]
        for entry in try FileManager.default.contentsOfDirectory(atPath: "\(procDirectory)/fd") {
            guard let number = Int32(entry),
                  let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(procDirectory)/fd/\(entry)")
            else { continue }
            result[number] = target
        }
        return result
    }

    /// The test process's own descriptors.
    static func ofThisProcess() throws -> [Int32: String] { try of("/proc/self") }

    /// PIDs of every process whose /proc/PID/exe is `path` (zombies have none and are not listed).
    static func processesRunning(_ path: String) -> [pid_t] {
        let resolved = (path as NSString).resolvingSymlinksInPath
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry),
                  let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/exe"),
                  exe == resolved || exe == path
            else { return nil }
            return pid
        }
    }
}

/// What must be the same after a run as before it.
struct LeftoverSnapshot {
    var links: [String]
    var bridgePorts: [String]
    var testDescriptors: [Int32: String]
}

/// Base class of the hooked-helper tests: the namespace and tree of IntegrationTestCase, the hooked
/// helper, a root policy, and (on demand) a setcap copy run as uid 4242 with the installed policy.
class HookedHelperTestCase: IntegrationTestCase {
    /// The built netfd-helper-testhooks.
    var hookedHelper: String!
    /// `allow any tap bridge br0`, for root runs with --policy.
    var rootPolicy: String!
    /// The unprivileged caller of the setcap copy.
    let unprivilegedUID: UInt32 = 4242
    private var setcapCopy: String?
    private var etcExtra: String?
    private var savedCoreLimit = rlimit()

    override func setUpWithError() throws {
        try Integration.requireRoot()
        try super.setUpWithError()
        hookedHelper = try Self.hookedHelperPath()
        rootPolicy = try writePolicy("allow any tap bridge br0\n")
        // SIGSYS dumps core by default; the runs killed on purpose must not leave core files.
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &savedCoreLimit)
        var noCore = savedCoreLimit
        noCore.rlim_cur = 0
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
    }

    override func tearDown() {
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &savedCoreLimit)
        super.tearDown()
    }

    /// netfd-helper-testhooks: $NETFD_HELPER_TESTHOOKS, else next to the test executable.
    static func hookedHelperPath(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try Integration.builtExecutable("netfd-helper-testhooks", override: "NETFD_HELPER_TESTHOOKS", file: file, line: line)
    }

    /// Starts the hooked helper as root in the namespace with --policy, armed with `step:action`.
    func startAsRoot(_ step: HookStep, _ action: HookAction, strays: [Int32] = []) throws -> HookedRun {
        let run = try HookedRun(launcher: ["ip", "netns", "exec", namespace.name], helper: hookedHelper,
                                extraArguments: ["--policy=\(rootPolicy!)"], hook: "\(step.rawValue):\(action.rawValue)",
                                strays: strays)
        addTeardownBlock { run.cleanUp() }
        return run
    }

    /// Skips unless setcap, unshare, setpriv, mount and mknod are there (for the unprivileged runs).
    func requireUnprivilegedSupport() throws {
        try Integration.requireFileCapabilityTools(for: "the hooked helper copy")
    }

    /// The setcap copy of the hooked helper (cap_net_admin,cap_setpcap=ep, as installed), made once per test.
    func hookedSetcapCopy() throws -> String {
        if let setcapCopy { return setcapCopy }
        try requireUnprivilegedSupport()
        let copy = try tree.copy(hookedHelper, to: "bin/netfd-helper-testhooks")
        try Command.check(["setcap", "cap_net_admin,cap_setpcap=ep", copy])
        try tree.write("etc-extra/netfd/netfd.policy", "allow user \(unprivilegedUID) tap bridge br0\n")
        etcExtra = tree.path("etc-extra")
        setcapCopy = copy
        return copy
    }

    /// Starts the setcap copy as uid/gid 4242 (no groups) in the namespace, as FileCapabilityTests
    /// does: /etc/netfd/netfd.policy overlaid in a private mount namespace, a 0666 tun node if needed.
    func startAsUser(_ step: HookStep, _ action: HookAction) throws -> HookedRun {
        let copy = try hookedSetcapCopy()
        let uid = unprivilegedUID
        var script = "mount -n -t overlay overlay -o lowerdir=\(etcExtra!):/etc /etc"
        if let tunSetup = FileCapabilityTests.privateTunDeviceSetup { script += " && " + tunSetup }
        script += " && exec setpriv --reuid=\(uid) --regid=\(uid) --clear-groups -- \"$@\""
        let run = try HookedRun(launcher: ["ip", "netns", "exec", namespace.name,
                                           "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"],
                                helper: copy, extraArguments: [], hook: "\(step.rawValue):\(action.rawValue)")
        addTeardownBlock { run.cleanUp() }
        return run
    }

    /// Starts the hooked helper as root (`uid` nil) or as the unprivileged caller.
    func start(_ step: HookStep, _ action: HookAction, asUser uid: UInt32?) throws -> HookedRun {
        uid == nil ? try startAsRoot(step, action) : try startAsUser(step, action)
    }

    /// The binary a run of `start(asUser:)` executes.
    func binary(asUser uid: UInt32?) throws -> String {
        uid == nil ? hookedHelper : try hookedSetcapCopy()
    }

    /// Links, br0's ports and the test's own descriptors, before a run.
    func snapshot() throws -> LeftoverSnapshot {
        LeftoverSnapshot(links: try namespace.linkNames(), bridgePorts: try namespace.ports(of: "br0"),
                         testDescriptors: try ProcDescriptors.ofThisProcess())
    }

    /// The one link that appeared since `snapshot` (the helper's tap); fails unless there is exactly one.
    func newTap(since snapshot: LeftoverSnapshot, run: HookedRun, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let added = try namespace.linkNames().filter { !snapshot.links.contains($0) }
        guard added.count == 1, let tap = added.first, tap.hasPrefix("tap") else {
            XCTFail("expected exactly one new tap, found \(added): \(run.diagnostics)", file: file, line: line)
            throw IntegrationError("no single new tap")
        }
        return tap
    }

    /// After the run ended and the test closed its ends: the helper is reaped and no process runs
    /// `binary`, no link was left (polled: a tap released with its last descriptor may be deleted
    /// asynchronously), br0 has its old ports only, and the test holds no new descriptor.
    func assertNothingLeft(since snapshot: LeftoverSnapshot, run: HookedRun, binary: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertNotNil(run.exitStatus, "the helper was not reaped: \(run.diagnostics)", file: file, line: line)
        XCTAssertEqual(Glibc.kill(run.pid, 0), -1, "process \(run.pid) still exists", file: file, line: line)
        XCTAssertEqual(ProcDescriptors.processesRunning(binary), [], "processes still running \(binary)", file: file, line: line)
        let linksRestored = try Integration.waitUntil(timeout: 5) { try namespace.linkNames() == snapshot.links }
        XCTAssertTrue(linksRestored, "links now \((try? namespace.linkNames()) ?? []), before \(snapshot.links): \(run.diagnostics)",
                      file: file, line: line)
        XCTAssertEqual(try namespace.ports(of: "br0"), snapshot.bridgePorts, "ports of br0: \(run.diagnostics)", file: file, line: line)
        // Only new ones count, and they get time to go: Foundation releases a finished command's
        // exit-notification socket on its own thread, later (on a loaded machine, visibly later).
        var opened: [Int32: String] = [:]
        _ = try Integration.waitUntil(timeout: 5) {
            opened = try ProcDescriptors.ofThisProcess().filter { snapshot.testDescriptors[$0.key] != $0.value }
            return opened.isEmpty
        }
        XCTAssertTrue(opened.isEmpty, "the test process holds new descriptors: \(opened.sorted { $0.key < $1.key }): \(run.diagnostics)",
                      file: file, line: line)
    }

    /// Checks the tap's state at `step`: each step's operation is done, the next one is not, so the
    /// hook really sits between the operations it is named after.
    func assertTapState(_ tap: String, at step: HookStep, ownerUID: UInt32, run: HookedRun,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let link = try namespace.requireLink(tap, file: file, line: line)
        let context = "\(tap) at \(step.rawValue): \(link.infoData), master \(link["master"] ?? "none"), mtu \(link["mtu"] ?? "?"), flags \(link.flags); \(run.diagnostics)"
        XCTAssertEqual(link.infoData["persist"] as? Bool, false, context, file: file, line: line)
        let owner = link.infoData["user"].map { "\($0)" }
        let ownerNames = ["\(ownerUID)"] + (getpwuid(ownerUID).flatMap { $0.pointee.pw_name }.map { [String(cString: $0)] } ?? [])
        if step.isAtOrPast(.restricted) {
            XCTAssertTrue(owner.map(ownerNames.contains) ?? false, "owner should be uid \(ownerUID): \(context)", file: file, line: line)
        } else {
            XCTAssertNil(owner, "no owner before restricted: \(context)", file: file, line: line)
        }
        XCTAssertEqual(link["mtu"] as? Int, step.isAtOrPast(.configured) ? NetworkNamespace.bridgeMTU : 1500, context, file: file, line: line)
        XCTAssertEqual(link["master"] as? String, step.isAtOrPast(.enslaved) ? "br0" : nil, context, file: file, line: line)
        XCTAssertEqual(link.flags.contains("UP"), step.isAtOrPast(.up), context, file: file, line: line)
    }
}
