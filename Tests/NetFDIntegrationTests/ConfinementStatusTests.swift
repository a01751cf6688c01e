// ConfinementStatusTests.swift - the helper's confinement as the kernel reports it, read from
// /proc/PID while a real request is paused in the middle: capabilities, no_new_privs, seccomp,
// open descriptors; and a syscall outside the allow-list really kills it.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class ConfinementStatusTests: HookedHelperTestCase {
    /// CAP_NET_ADMIN (12) alone, as /proc/PID/status prints a capability set.
    static let netAdminOnly = "0000000000001000"
    /// CAP_NET_ADMIN (12), CAP_NET_RAW (13) and CAP_DAC_OVERRIDE (1): what some request kind may
    /// need, kept permitted (not effective) through the first drop by a helper that holds them.
    static let anyKind = "0000000000003002"
    static let noCapabilities = "0000000000000000"

    /// Asserts the exact confinement of the paused helper from /proc/PID/status.
    func assertConfined(_ run: HookedRun, at step: HookStep, uid: UInt32, file: StaticString = #filePath, line: UInt = #line) throws {
        let fields = try run.statusFields()
        let context = "at \(step.rawValue): \(run.diagnostics)"
        XCTAssertEqual(fields["CapEff"], Self.netAdminOnly, "effective: CAP_NET_ADMIN only, \(context)", file: file, line: line)
        // Before the command line is parsed the helper cannot know the kind: root keeps the three
        // capabilities some kind needs permitted (the setcap copy has only CAP_NET_ADMIN); once a
        // bridge-helper request is parsed, CAP_NET_ADMIN alone.
        let permitted = step == .confined && uid == 0 ? Self.anyKind : Self.netAdminOnly
        XCTAssertEqual(fields["CapPrm"], permitted, "permitted, \(context)", file: file, line: line)
        XCTAssertEqual(fields["CapInh"], Self.noCapabilities, "inheritable, \(context)", file: file, line: line)
        XCTAssertEqual(fields["CapAmb"], Self.noCapabilities, "ambient, \(context)", file: file, line: line)
        XCTAssertEqual(fields["CapBnd"], Self.noCapabilities, "bounding set emptied, \(context)", file: file, line: line)
        XCTAssertEqual(fields["NoNewPrivs"], "1", context, file: file, line: line)
        XCTAssertEqual(fields["Seccomp"], "2", "SECCOMP_MODE_FILTER, \(context)", file: file, line: line)
        if let filters = fields["Seccomp_filters"] {
            // Exactly the helper's one filter on top of whatever this test process runs under (none on a plain host).
            let inherited = Int(try run.selfStatusField("Seccomp_filters") ?? "0") ?? 0
            XCTAssertEqual(filters, "\(inherited + 1)", "one filter of the helper's own, \(context)", file: file, line: line)
        }
        // Never setuid: all four uids and gids are the caller's.
        XCTAssertEqual(fields["Uid"]?.split(whereSeparator: \.isWhitespace), Array(repeating: "\(uid)", count: 4), context, file: file, line: line)
        XCTAssertEqual(fields["Gid"]?.split(whereSeparator: \.isWhitespace), Array(repeating: "\(uid)", count: 4), context, file: file, line: line)
    }

    /// Pauses a real request at each of `steps`, checks the confinement there, lets it finish and
    /// checks the handoff still succeeds and nothing is left once the tap is closed.
    func checkConfinementMidRequest(asUser uid: UInt32?) throws {
        for step in [HookStep.confined, .enslaved, .beforeHandoff] {
            let before = try snapshot()
            let run = try start(step, .pause, asUser: uid)
            try run.waitForStep(step)
            try assertConfined(run, at: step, uid: uid ?? 0)
            try run.resume()
            XCTAssertEqual(try run.reap(), 0, "resumed at \(step.rawValue): \(run.diagnostics)")
            let received = try run.receive()
            let tap = try XCTUnwrap(received?.descriptor, "no descriptor after resuming at \(step.rawValue): \(run.diagnostics)")
            tap.close()
            run.closeEmulatorEnd()
            run.closeHookEnd()
            try assertNothingLeft(since: before, run: run, binary: try binary(asUser: uid))
        }
    }

    func testConfinementMidRequestAsRoot() throws { try checkConfinementMidRequest(asUser: nil) }
    func testConfinementMidRequestAsUnprivilegedCaller() throws { try checkConfinementMidRequest(asUser: unprivilegedUID) }

    /// Before descriptors are closed (confined) a stray inherited pipe is visible; once the policy is
    /// loaded only 0 (here the hook channel), 1, 2 and --fd are open; just before the handoff, those
    /// plus the tap (/dev/net/tun) and the rtnetlink socket.
    func testOnlyStandardStreamsAndSocketSurviveClosingInheritedDescriptors() throws {
        var strayPipe: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&strayPipe), 0)
        strayPipe.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        defer { strayPipe.forEach { _ = Glibc.close($0) } }
        let stray = strayPipe[0]

        for step in [HookStep.confined, .policyLoaded, .beforeHandoff] {
            let before = try snapshot()
            let run = try startAsRoot(step, .pause, strays: [stray])
            try run.waitForStep(step)
            let descriptors = try run.descriptors()
            let context = "at \(step.rawValue): \(descriptors.sorted { $0.key < $1.key }); \(run.diagnostics)"
            XCTAssertEqual(descriptors[0], run.hookTarget, "fd 0 is the hook channel, \(context)")
            XCTAssertEqual(descriptors[1], "/dev/null", context)
            XCTAssertTrue(descriptors[2]?.hasPrefix("pipe:") == true, context)
            XCTAssertEqual(descriptors[run.socketNumber], run.socketTarget, "--fd=\(run.socketNumber), \(context)")
            let rest = descriptors.filter { ![0, 1, 2, run.socketNumber].contains($0.key) }
            switch step {
            case .confined:
                XCTAssertEqual(rest[stray], "pipe:[\(HookedRun.inode(of: FileDescriptor(rawValue: stray)))]",
                               "the stray pipe is still inherited before closing, \(context)")
            case .policyLoaded:
                XCTAssertEqual(rest, [:], "only 0, 1, 2 and --fd after closing and loading the policy, \(context)")
            default:
                let values = rest.values.sorted()
                XCTAssertEqual(values.count, 2, "the tap and the rtnetlink socket only, \(context)")
                XCTAssertEqual(values.first, "/dev/net/tun", context)
                XCTAssertTrue(values.last?.hasPrefix("socket:") == true && values.last != run.socketTarget, context)
            }
            try run.resume()
            XCTAssertEqual(try run.reap(), 0, run.diagnostics)
            try XCTUnwrap(try run.receive()?.descriptor, run.diagnostics).close()
            run.closeEmulatorEnd()
            run.closeHookEnd()
            try assertNothingLeft(since: before, run: run, binary: hookedHelper)
        }
    }

    /// A syscall outside the allow-list (getppid) kills the helper with SIGSYS at every stage, and
    /// whatever it had created goes with it.
    func checkUnlistedSyscallKills(at steps: [HookStep], asUser uid: UInt32?) throws {
        for step in steps {
            let before = try snapshot()
            let run = try start(step, .unlistedSyscall, asUser: uid)
            try run.waitForStep(step)
            let status = try run.reap()
            XCTAssertEqual(status, 128 + SIGSYS, "getppid() at \(step.rawValue) must be fatal: \(run.diagnostics)")
            XCTAssertEqual(run.standardError, "", "killed before it could say anything: \(run.diagnostics)")
            let received = try run.receive()
            if step == .afterHandoff {
                let tap = try XCTUnwrap(received?.descriptor, "sent before the fatal syscall: \(run.diagnostics)")
                tap.close()
            } else {
                XCTAssertNil(received, "nothing sent when killed at \(step.rawValue)")
                received?.descriptor?.close()
            }
            run.closeEmulatorEnd()
            run.closeHookEnd()
            try assertNothingLeft(since: before, run: run, binary: try binary(asUser: uid))
        }
    }

    func testUnlistedSyscallKillsTheHelper() throws {
        try checkUnlistedSyscallKills(at: [.confined, .policyLoaded, .tapCreated, .enslaved, .beforeHandoff, .afterHandoff], asUser: nil)
    }

    func testUnlistedSyscallKillsTheHelperAsUnprivilegedCaller() throws {
        try checkUnlistedSyscallKills(at: [.confined, .tapCreated, .beforeHandoff], asUser: unprivilegedUID)
    }
}

extension HookedRun {
    /// A field of the test process's own /proc/self/status.
    func selfStatusField(_ key: String) throws -> String? {
        let text = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        return text.split(separator: "\n").first { $0.hasPrefix(key + ":") }
            .map { $0.dropFirst(key.count + 1).trimmingCharacters(in: .whitespaces) }
    }
}
