// HelperClient.swift - the emulator's side of the bridge-helper protocol, as QEMU does it:
// socketpair, spawn the helper with one end as --fd=N, receive one byte and one descriptor,
// reap the helper. Also used by the demo and the integration tests.
// syscalls: socketpair, pipe, fcntl, posix_spawn (clone/execve), recvmsg, read, wait4
import Glibc
import NetFDSystem

/// How to start the helper.
public struct HelperInvocation: Sendable {
    /// The helper executable (QEMU's `helper=` value).
    public var helper: String
    public var bridge: String
    /// QEMU always passes --use-vnet.
    public var useVnetHeader: Bool = true
    /// Extra arguments after QEMU's three (e.g. `--policy=PATH` for root).
    public var extraArguments: [String] = []
    /// A command that runs the helper (e.g. `ip netns exec NS`, `setpriv ...`); empty runs it directly.
    public var launcher: [String] = []
    /// Run as QEMU does when the helper string contains blanks: `/bin/sh -c "HELPER ARGS"`.
    public var throughShell: Bool = false

    public init(helper: String, bridge: String) {
        self.helper = helper
        self.bridge = bridge
    }

    /// The argv QEMU would exec for socket number `fd`.
    public func argv(socket fd: Int32) -> [String] {
        var helperArguments = [helper]
        if useVnetHeader { helperArguments.append("--use-vnet") }
        helperArguments += ["--fd=\(fd)", "--br=\(bridge)"] + extraArguments
        if throughShell { helperArguments = ["/bin/sh", "-c", helperArguments.joined(separator: " ")] }
        return launcher + helperArguments
    }
}

/// What one helper run produced.
public struct HelperResult: Sendable {
    /// The descriptor received, if the helper sent one.
    public var descriptor: FileDescriptor?
    /// The data byte that came with it (the protocol sends 0x00).
    public var byte: UInt8?
    /// The exit status, or 128 + signal number when the helper was killed.
    public var exitStatus: Int32
    /// Everything the helper wrote on stderr.
    public var standardError: String
}

public enum HelperClient {
    /// Runs the helper once, as QEMU's `-netdev bridge` does, and returns what it handed over.
    public static func run(_ invocation: HelperInvocation) throws(Errno) -> HelperResult {
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        defer { emulatorEnd.close() }
        var errorPipe: [Int32] = [-1, -1]
        _ = try systemCall { pipe(&errorPipe) }
        for end in errorPipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let argv = invocation.argv(socket: helperEnd.descriptor.rawValue)
        let pid: pid_t
        do {
            pid = try spawn(argv, passing: helperEnd.descriptor, standardError: errorPipe[1])
        } catch {
            helperEnd.close(); Glibc.close(errorPipe[0]); Glibc.close(errorPipe[1])
            throw error
        }
        // Only the helper may hold its end now: then EOF tells us it is gone.
        helperEnd.close()
        Glibc.close(errorPipe[1])
        let received = (try? emulatorEnd.receive()) ?? nil
        let status = try wait(for: pid)
        let errors = (try? FileDescriptor(rawValue: errorPipe[0]).readAll(limit: 1 << 20)) ?? []
        Glibc.close(errorPipe[0])
        return HelperResult(descriptor: received?.descriptor, byte: received?.byte, exitStatus: status,
                            standardError: String(decoding: errors, as: UTF8.self))
    }

    /// posix_spawnp with `passing` inherited under its own number and stderr redirected.
    static func spawn(_ argv: [String], passing: FileDescriptor, standardError: Int32) throws(Errno) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto itself clears FD_CLOEXEC in the child only (glibc >= 2.29).
        posix_spawn_file_actions_adddup2(&actions, passing.rawValue, passing.rawValue)
        posix_spawn_file_actions_adddup2(&actions, standardError, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, argv[0], &actions, nil, cArguments, environ)
        guard result == 0 else { throw Errno(result) }
        return pid
    }

    /// Reaps `pid`: its exit status, or 128 + the signal that killed it.
    static func wait(for pid: pid_t) throws(Errno) -> Int32 {
        var status: Int32 = 0
        _ = try systemCall { waitpid(pid, &status, 0) }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
