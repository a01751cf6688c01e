// FaultInjectionTests.swift - a real SIGKILL at every step of a request after the tap exists, and
// the receiving emulator dying around the handoff. Whatever happens, nothing may be left: the tap
// is not persistent, so it must vanish with the last descriptor, wherever that descriptor was
// (the helper, the socket's queue in flight, the receiver).
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class FaultInjectionTests: HookedHelperTestCase {
    // MARK: SIGKILL of the helper at each step

    /// Pauses the helper at `step`, checks the tap's state there, SIGKILLs the helper, and checks
    /// that nothing is left. At after-handoff the descriptor was sent before the kill: the tap then
    /// lives on in the receiver until it closes it.
    func killHelper(at step: HookStep, asUser uid: UInt32? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try snapshot()
        let run = try start(step, .pause, asUser: uid)
        try run.waitForStep(step)
        XCTAssertEqual(run.executable(), (try binary(asUser: uid) as NSString).resolvingSymlinksInPath,
                       "the paused process should be the helper itself", file: file, line: line)
        let tap = try newTap(since: before, run: run, file: file, line: line)
        try assertTapState(tap, at: step, ownerUID: uid ?? 0, run: run, file: file, line: line)

        run.kill(SIGKILL)
        let status = try run.reap()
        XCTAssertEqual(status, 128 + SIGKILL, "the helper should have died by SIGKILL: \(run.diagnostics)", file: file, line: line)
        XCTAssertEqual(run.standardError, "", "a SIGKILLed helper says nothing", file: file, line: line)

        let received = try run.receive()
        if step == .afterHandoff {
            // The descriptor was in flight when the helper died: the tap lives on in the receiver.
            let descriptor = try XCTUnwrap(received?.descriptor, "after-handoff: the descriptor should have been sent: \(run.diagnostics)",
                                           file: file, line: line)
            XCTAssertEqual(received?.byte, 0x00, file: file, line: line)
            XCTAssertEqual(try TunDevice(descriptor).nameAndFlags().name, tap, file: file, line: line)
            usleep(100_000)
            XCTAssertTrue(try namespace.linkNames().contains(tap), "\(tap) must exist while the receiver holds it", file: file, line: line)
            XCTAssertEqual(try namespace.link(tap)?["master"] as? String, "br0", file: file, line: line)
            descriptor.close()
        } else {
            XCTAssertNil(received, "nothing may be sent when the helper dies at \(step.rawValue): \(run.diagnostics)",
                         file: file, line: line)
            received?.descriptor?.close()
        }
        run.closeEmulatorEnd()
        run.closeHookEnd()
        try assertNothingLeft(since: before, run: run, binary: try binary(asUser: uid), file: file, line: line)
    }

    func testKillAtTapCreated() throws { try killHelper(at: .tapCreated) }
    func testKillAtRestricted() throws { try killHelper(at: .restricted) }
    func testKillAtConfigured() throws { try killHelper(at: .configured) }
    func testKillAtEnslaved() throws { try killHelper(at: .enslaved) }
    func testKillAtUp() throws { try killHelper(at: .up) }
    func testKillAtBeforeHandoff() throws { try killHelper(at: .beforeHandoff) }
    func testKillAtAfterHandoff() throws { try killHelper(at: .afterHandoff) }

    /// The same kills with the installed form: a setcap copy run by uid 4242 (the tap is owned by 4242).
    func testKillAtTapCreatedAsUnprivilegedCaller() throws { try killHelper(at: .tapCreated, asUser: unprivilegedUID) }
    func testKillAtEnslavedAsUnprivilegedCaller() throws { try killHelper(at: .enslaved, asUser: unprivilegedUID) }
    func testKillAtBeforeHandoffAsUnprivilegedCaller() throws { try killHelper(at: .beforeHandoff, asUser: unprivilegedUID) }
    func testKillAtAfterHandoffAsUnprivilegedCaller() throws { try killHelper(at: .afterHandoff, asUser: unprivilegedUID) }

    // MARK: the receiver dies around the handoff

    /// How the receiving side goes away.
    enum ReceiverLoss: CaseIterable {
        /// The emulator closes its end of the socket.
        case socketClosed
        /// The emulator process holding the only copy of its end is SIGKILLed.
        case processKilled
    }

    /// Hands the emulator end to a `sleep` "emulator" process when `loss` is `.processKilled`.
    func receiver(for run: HookedRun, _ loss: ReceiverLoss) throws -> ReceiverProcess? {
        guard loss == .processKilled, let end = run.emulatorEnd else { return nil }
        let process = try ReceiverProcess(holding: end)
        run.closeEmulatorEnd()   // the receiver process holds the only copy now
        return process
    }

    /// The receiver goes away while the helper is paused at before-handoff; then the helper sends:
    /// sendmsg fails with EPIPE (MSG_NOSIGNAL: no SIGPIPE), exit 7 with one line, and the tap is gone.
    func receiverLostBeforeHandoff(_ loss: ReceiverLoss, asUser uid: UInt32? = nil) throws {
        let before = try snapshot()
        let run = try start(.beforeHandoff, .pause, asUser: uid)
        let receiver = try receiver(for: run, loss)
        try run.waitForStep(.beforeHandoff)
        let tap = try newTap(since: before, run: run)
        switch loss {
        case .socketClosed: run.closeEmulatorEnd()
        case .processKilled: XCTAssertEqual(receiver?.kill(), 128 + SIGKILL)
        }

        try run.resume()
        let status = try run.reap()
        XCTAssertNotEqual(status, 128 + SIGPIPE, "sendmsg to a dead peer killed the helper with SIGPIPE (needs MSG_NOSIGNAL): \(run.diagnostics)")
        XCTAssertEqual(status, 7, "a failed handoff exits 7: \(run.diagnostics)")
        let message = run.standardError
        XCTAssertEqual(message.filter { $0 == "\n" }.count, 1, "exactly one line: \(message)")
        XCTAssertTrue(message.hasPrefix("netfd-helper: could not send \(tap) on --fd=\(run.socketNumber): "), message)
        XCTAssertTrue(message.hasSuffix("; nothing was left behind\n"), message)
        run.closeHookEnd()
        try assertNothingLeft(since: before, run: run, binary: try binary(asUser: uid))
    }

    func testReceiverSocketClosedBeforeHandoff() throws { try receiverLostBeforeHandoff(.socketClosed) }
    func testReceiverKilledBeforeHandoff() throws { try receiverLostBeforeHandoff(.processKilled) }
    func testReceiverKilledBeforeHandoffAsUnprivilegedCaller() throws {
        try receiverLostBeforeHandoff(.processKilled, asUser: unprivilegedUID)
    }

    /// The helper completes the send and exits 0, but the receiver goes away before recvmsg: the tap
    /// lives on only as the descriptor in flight, and is released with the receiving socket.
    func receiverLostAfterHandoff(_ loss: ReceiverLoss) throws {
        let before = try snapshot()
        let run = try startAsRoot(.afterHandoff, .pause)
        let receiver = try receiver(for: run, loss)
        try run.waitForStep(.afterHandoff)
        let tap = try newTap(since: before, run: run)
        try run.resume()
        XCTAssertEqual(try run.reap(), 0, "the helper completed the handoff: \(run.diagnostics)")
        XCTAssertEqual(run.standardError, "")
        usleep(100_000)
        XCTAssertTrue(try namespace.linkNames().contains(tap),
                      "\(tap) must live on while its descriptor is in flight (the helper has exited)")

        switch loss {
        case .socketClosed: run.closeEmulatorEnd()   // never received
        case .processKilled: XCTAssertEqual(receiver?.kill(), 128 + SIGKILL)
        }
        XCTAssertTrue(try namespace.waitUntilGone(tap), "\(tap) survived the loss of its in-flight descriptor")
        run.closeHookEnd()
        try assertNothingLeft(since: before, run: run, binary: hookedHelper)
    }

    func testReceiverClosesWithoutReceiving() throws { try receiverLostAfterHandoff(.socketClosed) }
    func testReceiverKilledBeforeReceiving() throws { try receiverLostAfterHandoff(.processKilled) }

    /// The helper and the receiver are both killed after the send: the in-flight descriptor is released.
    func testHelperAndReceiverKilledAfterHandoff() throws {
        let before = try snapshot()
        let run = try startAsRoot(.afterHandoff, .pause)
        let receiver = try receiver(for: run, .processKilled)
        try run.waitForStep(.afterHandoff)
        let tap = try newTap(since: before, run: run)
        run.kill(SIGKILL)
        XCTAssertEqual(try run.reap(), 128 + SIGKILL, run.diagnostics)
        usleep(100_000)
        XCTAssertTrue(try namespace.linkNames().contains(tap), "\(tap) is still in flight to the live receiver")
        XCTAssertEqual(receiver?.kill(), 128 + SIGKILL)
        run.closeHookEnd()
        try assertNothingLeft(since: before, run: run, binary: hookedHelper)
    }
}
