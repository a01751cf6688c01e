// NativeClient.swift - the emulator's side of the native request interface (netfd-helper(8),
// NATIVE REQUESTS): socketpair, spawn `HELPER request --fd=N KEY=VALUE...`, receive the reply
// line with every descriptor in one message, reap the helper.
// syscalls: socketpair, pipe, fcntl, posix_spawn (clone/execve), recvmsg, read, wait4
import Glibc
import NetFDSystem

/// How to run one native request.
public struct NativeInvocation: Sendable {
    /// The helper executable.
    public var helper: String
    /// The request words, e.g. ["kind=macvtap", "link=eth0", "queues=2"].
    public var words: [String]
    /// Extra helper options before the words (e.g. `--policy=PATH`, root only).
    public var options: [String] = []
    /// A command that runs the helper (e.g. `ip netns exec NS`); empty runs it directly.
    public var launcher: [String] = []
    /// Whether the helper's stderr is captured (true) or shared with this process (false).
    public var captureStandardError = true

    public init(helper: String, words: [String]) {
        self.helper = helper
        self.words = words
    }

    /// The argv for socket number `fd`.
    public func argv(socket fd: Int32) -> [String] {
        launcher + [helper, "request", "--fd=\(fd)"] + options + words
    }
}

/// A parsed `netfd/1` reply line.
public struct NativeReplyLine: Equatable, Sendable {
    /// `ok` or `error`.
    public var succeeded: Bool
    /// The fields of an `ok` reply, in order (`fds` included, last).
    public var fields: [(key: String, value: String)]
    /// The exit status an `error` reply announces, and its message.
    public var errorStatus: Int32?
    public var errorMessage: String?

    /// The value of `key`, if the reply has it.
    public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    /// What each descriptor is, in order (`tap`, `vhost`, `packet`).
    public var descriptorLabels: [String] { self["fds"].map { $0.split(separator: ",").map(String.init) } ?? [] }

    /// Parses one line (without or with its newline); nil when it is not a `netfd/1` reply.
    public init?(_ line: String) {
        var text = Substring(line)
        if text.hasSuffix("\n") { text = text.dropLast() }
        guard text.hasPrefix("netfd/1 ") else { return nil }
        text = text.dropFirst("netfd/1 ".count)
        if text.hasPrefix("ok ") || text == "ok" {
            succeeded = true
            fields = []
            for word in text.dropFirst(2).split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { return nil }
                fields.append((String(word[..<equals]), String(word[word.index(after: equals)...])))
            }
            return
        }
        guard text.hasPrefix("error ") else { return nil }
        let rest = text.dropFirst("error ".count)
        guard let space = rest.firstIndex(of: " "), let status = Int32(rest[..<space]) else { return nil }
        succeeded = false
        fields = []
        errorStatus = status
        errorMessage = String(rest[rest.index(after: space)...])
    }

    public static func == (lhs: NativeReplyLine, rhs: NativeReplyLine) -> Bool {
        lhs.succeeded == rhs.succeeded && lhs.errorStatus == rhs.errorStatus && lhs.errorMessage == rhs.errorMessage
            && lhs.fields.map { $0.key } == rhs.fields.map { $0.key } && lhs.fields.map { $0.value } == rhs.fields.map { $0.value }
    }
}

/// What one native request produced.
public struct NativeResult: Sendable {
    /// The reply line as received (empty if the helper sent none).
    public var reply: String
    /// Every descriptor that came with it, in the reply's `fds` order; the caller owns them.
    public var descriptors: [FileDescriptor]
    /// The helper's exit status, or 128 + signal number.
    public var exitStatus: Int32
    /// The helper's stderr, when captured.
    public var standardError: String

    /// The parsed reply, if it is one.
    public var parsed: NativeReplyLine? { NativeReplyLine(reply) }
}

public enum NativeClient {
    /// Runs one native request and returns what the helper handed over.
    public static func run(_ invocation: NativeInvocation) throws(Errno) -> NativeResult {
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        defer { emulatorEnd.close() }
        var errorPipe: [Int32] = [-1, -1]
        if invocation.captureStandardError {
            _ = try systemCall { pipe(&errorPipe) }
            for end in errorPipe { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        let pid: pid_t
        do {
            pid = try HelperClient.spawn(invocation.argv(socket: helperEnd.descriptor.rawValue), passing: helperEnd.descriptor,
                                         standardError: invocation.captureStandardError ? errorPipe[1] : 2)
        } catch {
            helperEnd.close()
            if invocation.captureStandardError { Glibc.close(errorPipe[0]); Glibc.close(errorPipe[1]) }
            throw error
        }
        // Only the helper may hold its end now: then end of file tells us it is gone.
        helperEnd.close()
        if invocation.captureStandardError { Glibc.close(errorPipe[1]) }
        var reply: [UInt8] = []
        var descriptors: [FileDescriptor] = []
        // The reply is one message; a stream may still split it, so read to its newline.
        while reply.last != UInt8(ascii: "\n") && reply.count < 4096 {
            guard let message = try? emulatorEnd.receiveMessage(maxDescriptors: UnixSocket.maximumDescriptors, maxBytes: 4096 - reply.count),
                  !message.bytes.isEmpty else { break }
            reply += message.bytes
            descriptors += message.descriptors
        }
        let status = try HelperClient.wait(for: pid)
        var errors: [UInt8] = []
        if invocation.captureStandardError {
            errors = (try? FileDescriptor(rawValue: errorPipe[0]).readAll(limit: 1 << 20)) ?? []
            Glibc.close(errorPipe[0])
        }
        return NativeResult(reply: String(decoding: reply, as: UTF8.self), descriptors: descriptors, exitStatus: status,
                            standardError: String(decoding: errors, as: UTF8.self))
    }
}
