// IntegrationSupport.swift - what every integration test needs: root check, the built helper,
// running commands, unique names, bounded polling and the expected helper invocation.
// These tests run the real helper against the real kernel, but only inside network namespaces
// (and /run directories) they create and always delete.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

/// Shared environment facts and utilities for the integration tests.
enum Integration {
    /// Skips the calling test unless it runs as root (namespaces, bridges and /run need it).
    static func requireRoot() throws {
        guard getuid() == 0 else {
            let reason = "netfd integration tests need root to create network namespaces, bridges "
                + "and root-owned policy trees (running as uid \(getuid())); run `sudo swift test --filter NetFDIntegrationTests`"
            print("note: skipping: \(reason)")
            throw XCTSkip(reason)
        }
    }

    /// The built netfd-helper: $NETFD_HELPER, else `netfd-helper` next to the test executable.
    static func helperPath(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try builtExecutable("netfd-helper", override: "NETFD_HELPER", file: file, line: line)
    }

    /// The package's executable `name`: the path in $`override` if set, else `name` next to the
    /// test executable (SwiftPM builds products and tests into one directory).
    static func builtExecutable(_ name: String, override: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let path = ProcessInfo.processInfo.environment[override], !path.isEmpty {
            guard access(path, X_OK) == 0 else {
                XCTFail("\(override)=\(path) is not an executable file", file: file, line: line)
                throw IntegrationError("\(override) is not executable")
            }
            return path
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        let candidate = URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent(name).path
        guard !executable.isEmpty, access(candidate, X_OK) == 0 else {
            XCTFail("\(name) not found at \(candidate) (next to \(executable)); run `swift build --build-tests` first or set \(override)",
                    file: file, line: line)
            throw IntegrationError("\(name) not found")
        }
        return candidate
    }

    /// Skips the calling test unless setcap is installed, and fails it unless unshare, setpriv,
    /// mount and mknod are: what running `copy` with file capabilities as another uid needs.
    static func requireFileCapabilityTools(for copy: String) throws {
        guard Command.find("setcap") != nil else {
            let reason = "setcap is not installed (Debian package libcap2-bin); cannot give \(copy) file capabilities"
            print("note: skipping: \(reason)")
            throw XCTSkip(reason)
        }
        let missing = ["unshare", "setpriv", "mount", "mknod"].filter { Command.find($0) == nil }
        guard missing.isEmpty else {
            throw IntegrationError("\(missing.joined(separator: ", ")) (util-linux, coreutils) needed to run the helper as another uid")
        }
    }

    /// A name unique to this process and call, e.g. `netfd-itest-1234-3`.
    static func uniqueName() -> String {
        counterLock.lock()
        defer { counterLock.unlock() }
        counter += 1
        return "netfd-itest-\(getpid())-\(counter)"
    }

    private static let counterLock = NSLock()
    nonisolated(unsafe) private static var counter = 0

    /// Polls `condition` every 10 ms until it holds or `timeout` seconds pass; returns whether it held.
    static func waitUntil(timeout: TimeInterval = 5, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if try condition() { return true }
            if Date() >= deadline { return false }
            usleep(10_000)
        }
    }

    /// The invocation QEMU's `-netdev bridge,br=BRIDGE` makes, run inside `namespace` by `ip netns exec`.
    static func invocation(helper: String, bridge: String = "br0", in namespace: NetworkNamespace,
                           policy: String?) -> HelperInvocation {
        var invocation = HelperInvocation(helper: helper, bridge: bridge)
        invocation.launcher = ["ip", "netns", "exec", namespace.name]
        if let policy { invocation.extraArguments = ["--policy=\(policy)"] }
        return invocation
    }

    /// Asserts a refusal: the exit status, exactly one stderr line equal to `message`, and no descriptor.
    static func assertRefused(_ result: HelperResult, exitStatus: Int32, message: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.exitStatus, exitStatus, "stderr: \(result.standardError)", file: file, line: line)
        XCTAssertEqual(result.standardError, message + "\n", file: file, line: line)
        XCTAssertNil(result.descriptor, "a refused request must not hand over a descriptor", file: file, line: line)
        result.descriptor?.close()
    }

    /// Asserts a refusal whose one stderr line starts with `prefix` and returns that line.
    @discardableResult
    static func assertRefused(_ result: HelperResult, exitStatus: Int32, prefix: String,
                              file: StaticString = #filePath, line: UInt = #line) -> String {
        XCTAssertEqual(result.exitStatus, exitStatus, "stderr: \(result.standardError)", file: file, line: line)
        let lines = result.standardError.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 2, "expected exactly one stderr line, got: \(result.standardError)", file: file, line: line)
        XCTAssertTrue(result.standardError.hasPrefix(prefix), "stderr \(result.standardError) should start with \(prefix)",
                      file: file, line: line)
        XCTAssertNil(result.descriptor, "a refused request must not hand over a descriptor", file: file, line: line)
        result.descriptor?.close()
        return String(lines.first ?? "")
    }
}

/// A failure of the test scaffolding itself (not of the helper under test).
struct IntegrationError: Error, CustomStringConvertible {
    var description: String
    /// Creates an error with a one-line description.
    init(_ description: String) { self.description = description }
}

/// The outcome of one external command.
struct CommandOutput {
    /// The exit status (Foundation's terminationStatus).
    var status: Int32
    /// Everything the command wrote on stdout.
    var standardOutput: String
    /// Everything the command wrote on stderr.
    var standardError: String
}

/// Runs external commands (ip, setcap, ...) without a shell.
enum Command {
    /// Where commands are looked up: $PATH plus the sbin directories root tools live in.
    static let searchPath: [String] = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
    }()

    /// The absolute path of `name`, or nil when it is not installed.
    static func find(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        return searchPath.lazy.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    /// Runs `argv` to completion and returns its status and output.
    @discardableResult
    static func run(_ argv: [String]) throws -> CommandOutput {
        guard let executable = find(argv[0]) else { throw IntegrationError("\(argv[0]) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to EOF before waiting, so a chatty command cannot block on a full pipe.
        let errorsRead = DispatchGroup()
        nonisolated(unsafe) var errorData = Data()
        DispatchQueue.global().async(group: errorsRead) {
            errorData = errors.fileHandleForReading.readDataToEndOfFile()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        // Closed here rather than whenever Foundation lets go of the Process (its exit monitor may
        // hold it a while), so tests counting their own descriptors see a settled table.
        try? output.fileHandleForReading.close()
        try? errors.fileHandleForReading.close()
        process.waitUntilExit()
        return CommandOutput(status: process.terminationStatus,
                             standardOutput: String(decoding: outputData, as: UTF8.self),
                             standardError: String(decoding: errorData, as: UTF8.self))
    }

    /// Runs `argv` and throws, quoting its stderr, unless it exits 0; returns its stdout.
    @discardableResult
    static func check(_ argv: [String]) throws -> String {
        let result = try run(argv)
        guard result.status == 0 else {
            throw IntegrationError("`\(argv.joined(separator: " "))` exited \(result.status): \(result.standardError)")
        }
        return result.standardOutput
    }
}
