// NativeFaultTests.swift - failures of native requests: a real SIGKILL of the helper at every
// step of a macvtap request (the hooks twin, paused by NETFD_TEST_HOOK, under a netfd-client
// stand-in so that the emulator is not the test process), and a kernel or target failure per
// kind. Whatever happens, no link and no helper or guard process may be left.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

/// DeviceRequestFlow.Step, as NETFD_TEST_HOOK names them.
enum NativeStep: String, CaseIterable {
    case created, queuesOpen = "queues-open", up, beforeHandoff = "before-handoff", afterHandoff = "after-handoff"

    /// Whether the request is at or past `other` when paused here.
    func isAtOrPast(_ other: NativeStep) -> Bool {
        Self.allCases.firstIndex(of: self)! >= Self.allCases.firstIndex(of: other)!
    }
}

final class NativeFaultTests: NativeTestCase {
    /// The built netfd-helper-testhooks.
    var hookedHelper: String!
    private var savedCoreLimit = rlimit()

    override func setUpWithError() throws {
        try Integration.requireRoot()
        try super.setUpWithError()
        hookedHelper = try HookedHelperTestCase.hookedHelperPath()
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &savedCoreLimit)
        var noCore = savedCoreLimit
        noCore.rlim_cur = 0
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
    }

    override func tearDown() {
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &savedCoreLimit)
        super.tearDown()
    }

    // MARK: SIGKILL of the helper at each step

    /// Reads the hook channel until the helper reports `step` ("STEP\n"); throws on anything else.
    func waitForStep(_ step: NativeStep, on channel: FileDescriptor, standIn: StandInEmulator, timeout: TimeInterval = 30) throws {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while !line.contains(UInt8(ascii: "\n")) {
            var poller = pollfd(fd: channel.rawValue, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(0, deadline.timeIntervalSinceNow) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw IntegrationError("the helper did not reach \(step.rawValue) within \(timeout) s: \(standIn.diagnostics)") }
            let chunk = (try? channel.read(upTo: 64)) ?? []
            if chunk.isEmpty {
                _ = try? standIn.reap(timeout: 10)
                throw IntegrationError("the helper ended before reaching \(step.rawValue): \(standIn.diagnostics)")
            }
            line += chunk
        }
        let reported = String(decoding: line, as: UTF8.self)
        guard reported == step.rawValue + "\n" else {
            throw IntegrationError("the helper reported \(reported.debugDescription), expected \(step.rawValue): \(standIn.diagnostics)")
        }
    }

    /// The one macvtap that exists now; fails unless there is exactly one.
    func onlyMacvtap(file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let links = try allLinks().filter { $0.infoKind == "macvtap" }
        guard links.count == 1, let link = links.first else {
            XCTFail("expected exactly one macvtap, found \(links.compactMap { $0["ifname"] as? String })", file: file, line: line)
            throw IntegrationError("no single macvtap")
        }
        return link
    }

    /// Runs a macvtap request under a netfd-client stand-in with the hooks twin paused at `step`;
    /// checks the link there (each step's operation done, the next one not), SIGKILLs the helper,
    /// and checks that the macvtap is gone within 5 s and no helper or guard process remains.
    /// `launcher`/`helper`/`uid`: the unprivileged form (setcap copy run as uid 4242).
    func killHelper(at step: NativeStep, launcher: [String]? = nil, helper hooked: String? = nil, policy: String?,
                    ownerUID: UInt32 = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let binary = hooked ?? hookedHelper!
        let linksBefore = try namespace.linkNames()
        let lowerBefore = try namespace.requireLink("v0").stableFields
        let (ours, theirs) = try UnixSocket.pair()
        defer { ours.close() }
        let standIn: StandInEmulator
        do {
            defer { theirs.close() }
            standIn = try startStandIn(["kind=macvtap", "link=v0", "queues=2"], policy: policy, helper: binary, launcher: launcher,
                                       standardInput: theirs.descriptor, environment: ["NETFD_TEST_HOOK=\(step.rawValue):pause"],
                                       command: ["sleep", "600"], waitForReport: false)
        }
        try waitForStep(step, on: ours.descriptor, standIn: standIn)

        // The paused helper is netfd-client's child; its guard was forked before the link existed.
        let helperPIDs = standIn.children()
        XCTAssertEqual(helperPIDs.count, 1, "netfd-client should have one child, the helper: \(standIn.diagnostics)", file: file, line: line)
        let helperPID = try XCTUnwrap(helperPIDs.first, file: file, line: line)
        XCTAssertEqual(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(helperPID)/exe"),
                       (binary as NSString).resolvingSymlinksInPath, "the paused child should be the helper", file: file, line: line)
        XCTAssertEqual(try helperProcesses(binary).count, 2, "the helper and its guard: \((try? helperProcesses(binary)) ?? [])", file: file, line: line)

        let link = try onlyMacvtap(file: file, line: line)
        let context = "at \(step.rawValue): \(link); \(standIn.diagnostics)"
        XCTAssertEqual(link["link"] as? String, "v0", context, file: file, line: line)
        XCTAssertEqual(link["ifalias"] as? String, step.isAtOrPast(.queuesOpen) ? "netfd uid=\(ownerUID)" : nil,
                       "labelled after created: \(context)", file: file, line: line)
        XCTAssertEqual(link.flags.contains("UP"), step.isAtOrPast(.up), "up from the up step on: \(context)", file: file, line: line)

        XCTAssertEqual(Glibc.kill(helperPID, SIGKILL), 0, file: file, line: line)
        // netfd-client reports the helper's death as its own status (128 + 9) and exits: after the
        // handoff too, so the emulator is gone either way and the guard must delete the link.
        XCTAssertEqual(try standIn.reap(), 128 + SIGKILL, standIn.diagnostics, file: file, line: line)
        XCTAssertEqual(standIn.report, nil, file: file, line: line)
        XCTAssertEqual(standIn.standardError, "", "a SIGKILLed helper says nothing", file: file, line: line)
        let name = try XCTUnwrap(link["ifname"] as? String, file: file, line: line)
        XCTAssertTrue(try namespace.waitUntilGone(name, timeout: 5), "\(name) survived a helper killed at \(step.rawValue): \(context)",
                      file: file, line: line)
        XCTAssertTrue(try waitForLinks(linksBefore), "links now \((try? namespace.linkNames()) ?? []), before \(linksBefore)", file: file, line: line)
        XCTAssertTrue(try waitUntilNoHelperProcesses(binary), "processes left: \((try? helperProcesses(binary)) ?? [])", file: file, line: line)
        XCTAssertEqual(try namespace.requireLink("v0").stableFields, lowerBefore, "the lower link must be untouched", file: file, line: line)
    }

    /// The root policy of the kill tests.
    func killPolicy() throws -> String {
        try writePolicy("allow any macvtap link v0 queues=2\n")
    }

    func testKillAtCreated() throws { try killHelper(at: .created, policy: try killPolicy()) }
    func testKillAtQueuesOpen() throws { try killHelper(at: .queuesOpen, policy: try killPolicy()) }
    func testKillAtUp() throws { try killHelper(at: .up, policy: try killPolicy()) }
    func testKillAtBeforeHandoff() throws { try killHelper(at: .beforeHandoff, policy: try killPolicy()) }
    func testKillAtAfterHandoff() throws { try killHelper(at: .afterHandoff, policy: try killPolicy()) }

    /// After the handoff the guard watches the emulator, not the helper: the helper killed at
    /// after-handoff, with the emulator alive (here the test process itself: it made the
    /// socketpair, so it is the socket's peer process), leaves the macvtap and its guard in place;
    /// `release` then deletes it and the guard exits.
    func testHelperKilledAfterHandoffLeavesLinkToTheEmulator() throws {
        let policy = try killPolicy()
        let linksBefore = try namespace.linkNames()
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        let (ours, theirs) = try UnixSocket.pair()
        defer { emulatorEnd.close(); ours.close() }
        let run: StandInEmulator
        do {
            defer { helperEnd.close(); theirs.close() }
            let argv: [String] = insideNamespace + [hookedHelper!, "request", "--fd=\(helperEnd.descriptor.rawValue)", "--policy=\(policy)",
                                          "kind=macvtap", "link=v0"]
            run = try StandInEmulator(argv: argv, standardInput: theirs.descriptor, environment: ["NETFD_TEST_HOOK=after-handoff:pause"],
                                      inheriting: [helperEnd.descriptor.rawValue])
            addTeardownBlock { run.cleanUp() }
        }
        try waitForStep(.afterHandoff, on: ours.descriptor, standIn: run)
        XCTAssertEqual(try helperProcesses(hookedHelper).count, 2, "the helper and its guard")
        XCTAssertEqual(Glibc.kill(run.pid, SIGKILL), 0)
        XCTAssertEqual(try run.reap(), 128 + SIGKILL, run.diagnostics)

        // The reply and the queue were sent before the kill.
        let message = try emulatorEnd.receiveMessage(maxDescriptors: UnixSocket.maximumDescriptors, maxBytes: 4096)
        message.descriptors.forEach(closeAtTeardown)
        let reply = try XCTUnwrap(NativeReplyLine(String(decoding: message.bytes, as: UTF8.self)), "reply: \(message.bytes)")
        XCTAssertTrue(reply.succeeded)
        XCTAssertEqual(message.descriptors.count, 1)
        let name = try XCTUnwrap(reply["name"])
        usleep(300_000)
        XCTAssertTrue(try namespace.linkNames().contains(name), "\(name) must live on with its emulator after the helper died")
        XCTAssertEqual(try helperProcesses(hookedHelper).count, 1, "the guard stays while the emulator runs")

        let released = try Command.run(insideNamespace + [helper, "release", name])
        XCTAssertEqual(released.status, 0, released.standardError)
        XCTAssertTrue(try waitForLinks(linksBefore))
        XCTAssertTrue(try waitUntilNoHelperProcesses(hookedHelper), "the guard did not exit after release: \((try? helperProcesses(hookedHelper)) ?? [])")
    }

    /// The emulator closes its end of the socket while the helper is paused at before-handoff
    /// (the guard was already told to watch the emulator): the send fails, exit 7 with one line,
    /// and the macvtap and its guard are gone.
    func testEmulatorGoneBeforeMacvtapHandoff() throws {
        let policy = try killPolicy()
        let linksBefore = try namespace.linkNames()
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        let (ours, theirs) = try UnixSocket.pair()
        defer { ours.close() }
        let run: StandInEmulator
        do {
            defer { helperEnd.close(); theirs.close() }
            let argv: [String] = insideNamespace + [hookedHelper!, "request", "--fd=\(helperEnd.descriptor.rawValue)", "--policy=\(policy)",
                                                    "kind=macvtap", "link=v0", "queues=2"]
            run = try StandInEmulator(argv: argv, standardInput: theirs.descriptor, environment: ["NETFD_TEST_HOOK=before-handoff:pause"],
                                      inheriting: [helperEnd.descriptor.rawValue])
            addTeardownBlock { run.cleanUp() }
        }
        try waitForStep(.beforeHandoff, on: ours.descriptor, standIn: run)
        let name = try XCTUnwrap(try onlyMacvtap()["ifname"] as? String)
        emulatorEnd.close()
        try ours.descriptor.writeAll([0x2e])
        let status = try run.reap()
        XCTAssertNotEqual(status, 128 + SIGPIPE, "the helper died of SIGPIPE: \(run.diagnostics)")
        XCTAssertEqual(status, 7, run.diagnostics)
        let message = assertOneHelperLine(run.standardError, message: nil,
                                          prefix: "could not send \(name) on --fd=\(helperEnd.descriptor.rawValue): ")
        XCTAssertTrue(message.hasSuffix("; nothing was left behind"), message)
        XCTAssertTrue(try waitForLinks(linksBefore), "links now \((try? namespace.linkNames()) ?? []), before \(linksBefore)")
        XCTAssertTrue(try waitUntilNoHelperProcesses(hookedHelper), "processes left: \((try? helperProcesses(hookedHelper)) ?? [])")
    }

    /// A failure after the macvtap exists and before the handoff (here the kernel refusing to bring
    /// it up: its MAC is taken by another macvtap that is up) rolls back with the usual one line and
    /// error reply; the helper must not die of SIGPIPE on the way (its guard may already be gone).
    func testMacvtapFailureAfterCreationRollsBack() throws {
        let policy = try writePolicy("allow any macvtap link v0 mac=52:54:00:*\n")
        try namespace.ip("link", "add", "link", "v0", "name", "other0", "address", "52:54:00:00:00:08", "type", "macvtap", "mode", "bridge")
        try namespace.ip("link", "set", "dev", "other0", "up")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=macvtap", "link=v0", "mac=52:54:00:00:00:08"], policy: policy)
        XCTAssertNotEqual(result.exitStatus, 128 + SIGPIPE, "the helper died of SIGPIPE during the rollback")
        XCTAssertTrue([5, 6].contains(result.exitStatus), "exit \(result.exitStatus), stderr: \(result.standardError)")
        assertRefused(result, exitStatus: result.exitStatus, prefix: "")
        XCTAssertTrue(try waitForLinks(linksBefore), "links now \((try? namespace.linkNames()) ?? []), before \(linksBefore)")
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "processes left: \((try? helperProcesses(helper)) ?? [])")
    }

    // MARK: the unprivileged form

    /// The setcap copy of the hooks twin (every native capability), run as uid 4242 with the
    /// installed policy overlaid, under a stand-in run as 4242.
    func unprivilegedKill(at step: NativeStep) throws {
        try Integration.requireFileCapabilityTools(for: "the hooked helper copy")
        let copy = try tree.copy(hookedHelper, to: "bin/netfd-helper-testhooks")
        try Command.check(["setcap", "\(NativeFileCapabilitySupport.fullCapabilities)=ep", copy])
        try tree.write("etc-extra/netfd/netfd.policy", "allow user 4242 macvtap link v0 queues=2\n")
        let launcher = NativeFileCapabilitySupport.launcher(namespace: namespace, etcExtra: tree.path("etc-extra"), uid: 4242)
        try killHelper(at: step, launcher: launcher, helper: copy, policy: nil, ownerUID: 4242)
    }

    func testKillAtCreatedAsUnprivilegedCaller() throws { try unprivilegedKill(at: .created) }
    func testKillAtBeforeHandoffAsUnprivilegedCaller() throws { try unprivilegedKill(at: .beforeHandoff) }
    func testKillAtAfterHandoffAsUnprivilegedCaller() throws { try unprivilegedKill(at: .afterHandoff) }

    // MARK: kernel and target failures, per kind

    /// macvtap: passthru while another macvtap is on v0 is refused by the kernel: exit 6, one line,
    /// nothing left (neither a link nor a guard), the other macvtap and v0 untouched.
    func testMacvtapKernelRefusalLeavesNothing() throws {
        let policy = try writePolicy("allow any macvtap link v0 mode=bridge,passthru\n")
        try namespace.ip("link", "add", "link", "v0", "name", "other0", "type", "macvtap", "mode", "bridge")
        let linksBefore = try namespace.linkNames()
        let otherBefore = try namespace.requireLink("other0").stableFields
        let lowerBefore = try namespace.requireLink("v0").stableFields
        let result = try request(["kind=macvtap", "link=v0", "mode=passthru"], policy: policy)
        let message = assertRefused(result, exitStatus: 6, prefix: "could not create a macvtap on v0 in mode passthru: ")
        XCTAssertTrue(message.hasSuffix("; nothing was left behind"), message)
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
        XCTAssertEqual(try namespace.requireLink("other0").stableFields, otherBefore)
        XCTAssertEqual(try namespace.requireLink("v0").stableFields, lowerBefore)
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "processes left: \((try? helperProcesses(helper)) ?? [])")
    }

    /// macvtap: a requested MAC that another (up) macvtap on v0 already has is a target error
    /// (exit 5), and nothing is left.
    func testMacvtapAddressInUseLeavesNothing() throws {
        let policy = try writePolicy("allow any macvtap link v0 mac=52:54:00:*\n")
        try namespace.ip("link", "add", "link", "v0", "name", "other0", "address", "52:54:00:00:00:07", "type", "macvtap", "mode", "bridge")
        // macvlan checks addresses among the links that are up (macvlan_open), not at creation.
        try namespace.ip("link", "set", "dev", "other0", "up")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=macvtap", "link=v0", "mac=52:54:00:00:00:07"], policy: policy)
        assertRefused(result, exitStatus: 5, message: "MAC 52:54:00:00:00:07 is already in use on link v0; nothing was created")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
        XCTAssertTrue(try waitUntilNoHelperProcesses(helper), "processes left: \((try? helperProcesses(helper)) ?? [])")
    }

    /// tap: br0 has every port number in use (1023 ports), so the kernel refuses to enslave the new
    /// tap (EXFULL): exit 6, one line, and the tap with its four queues is gone.
    func testTapKernelFailureLeavesNothing() throws {
        let policy = try writePolicy("allow any tap bridge br0 queues=4\n")
        let used = try namespace.ports(of: "br0").count
        var batch = ""
        for port in 0..<(1023 - used) {
            batch += "link add fp\(port) type veth peer name fq\(port)\nlink set dev fp\(port) master br0\n"
        }
        let batchFile = try tree.write("ports.batch", batch)
        try namespace.ip("-batch", batchFile)
        XCTAssertEqual(try namespace.ports(of: "br0").count, 1023)
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=br0", "queues=4"], policy: policy)
        let message = assertRefused(result, exitStatus: 6, prefix: "could not add tap")
        XCTAssertTrue(message.contains("to bridge br0: "), message)
        XCTAssertTrue(message.hasSuffix("; nothing was left behind"), message)
        XCTAssertTrue(try waitForLinks(linksBefore), "links left: \(Set((try? namespace.linkNames()) ?? []).subtracting(linksBefore))")
    }

    /// raw: a link the policy allows but that does not exist (anymore) is a target error: exit 5.
    func testRawOnVanishedLinkIsTargetError() throws {
        let policy = try writePolicy("allow any raw link v9\n")
        try namespace.ip("link", "add", "v9", "type", "veth", "peer", "name", "v9p")
        try namespace.ip("link", "del", "dev", "v9")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=raw", "link=v9"], policy: policy)
        assertRefused(result, exitStatus: 5, message: "link v9 does not exist")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }

    /// tap: a bridge that is not a bridge is a target error, with nothing created.
    func testTapOnNonBridgeIsTargetError() throws {
        let policy = try writePolicy("allow any tap bridge v0\n")
        let linksBefore = try namespace.linkNames()
        let result = try request(["kind=tap", "bridge=v0"], policy: policy)
        assertRefused(result, exitStatus: 5, message: "v0 is not a bridge (it is a veth link)")
        XCTAssertEqual(try namespace.linkNames(), linksBefore)
    }
}
