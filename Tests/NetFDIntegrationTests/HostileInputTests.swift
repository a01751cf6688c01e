// HostileInputTests.swift - throws the hostile cases of HostileCases.swift at the real built helper,
// as root and as unprivileged uids running a setcap copy, inside a network namespace the test
// creates and deletes. Each case must end in exactly the refusal it names: the exit status, one
// stderr line equal to the expected one, nothing on stdout, nothing received on the emulator's
// socket, the namespace's links (index and name) unchanged, no tun/tap device, and (where the case
// says so) no watched path opened. Failing cases are reported by name.
import Foundation
import Glibc
import NetFDSystem
import XCTest

/// Checks the case table itself; needs no privileges, so it runs everywhere.
final class HostileInputCaseTableTests: XCTestCase {
    /// The table has at least 100 cases with unique names, every category is used, and every
    /// reference (knownBugs, sameOutputAs) names an existing case.
    func testCaseTableIsLargeAndConsistent() {
        let cases = HostileCases.all
        let names = cases.map(\.name)
        XCTAssertGreaterThanOrEqual(cases.count, 100, "the hostile suite must have at least 100 cases")
        let duplicates = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(duplicates, [], "case names must be unique")
        for category in HostileCategory.allCases {
            XCTAssertFalse(cases.filter { $0.category == category }.isEmpty, "no case for \(category.rawValue)")
        }
        XCTAssertEqual(HostileCases.knownBugs.subtracting(names).sorted(), [], "knownBugs names cases that do not exist")
        for hostileCase in cases {
            if let twin = hostileCase.sameOutputAs { XCTAssertTrue(names.contains(twin), "[\(hostileCase.name)] sameOutputAs \(twin) does not exist") }
            if case .exact(let line) = hostileCase.expectedMessage {
                XCTAssertFalse(line.contains("\n"), "[\(hostileCase.name)] an expected message is one line")
            }
        }
        let unprivileged = cases.filter { $0.caller != .root }.count
        print("hostile cases: \(cases.count) (\(unprivileged) as unprivileged uids), known bugs: \(HostileCases.knownBugs.count)")
        for category in HostileCategory.allCases {
            print("  \(category.rawValue): \(cases.filter { $0.category == category }.count)")
        }
    }
}

/// What one case's run produced.
private struct HostileObservation {
    var output: HostileProcessOutput
    /// The bytes and how many descriptors arrived on the emulator's socket (nil: end of stream).
    var received: (bytes: [UInt8], descriptors: Int)?
    var before: HostileLinkSnapshot
    var after: HostileLinkSnapshot
    var openedPaths: [String]
}

/// Runs every hostile case against the built helper.
final class HostileInputTests: IntegrationTestCase {
    /// `setcap cap_net_admin,cap_setpcap=ep` copy run by unprivileged callers.
    private var capabilityCopy: String!
    /// A copy without file capabilities.
    private var plainCopy: String!
    /// Setuid-root and setgid-root copies, in a root-only 0700 directory.
    private var setuidCopy: String!
    private var setgidCopy: String!
    /// Counts the cases run by this test, for unique case directories.
    private var caseCounter = 0

    /// Skips without root or the tools; otherwise builds the namespace (plus a second bridge whose
    /// name is 15 bytes long), the policy tree and the helper copies.
    override func setUpWithError() throws {
        try Integration.requireRoot()
        let missing = ["setcap", "unshare", "setpriv", "mount"].filter { Command.find($0) == nil }
        guard missing.isEmpty else {
            let reason = "\(missing.joined(separator: ", ")) not installed (libcap2-bin, util-linux, mount); cannot run the hostile cases"
            print("note: skipping: \(reason)")
            throw XCTSkip(reason)
        }
        try super.setUpWithError()
        try namespace.ip("link", "add", "br0-private-lan", "type", "bridge")
        capabilityCopy = try tree.copy(helper, to: "bin/netfd-helper")
        try Command.check(["setcap", "cap_net_admin,cap_setpcap=ep", capabilityCopy])
        plainCopy = try tree.copy(helper, to: "bin/netfd-helper-without-capabilities")
        setuidCopy = try tree.copy(helper, to: "setid/netfd-helper-setuid", mode: 0o4755)
        setgidCopy = try tree.copy(helper, to: "setid/netfd-helper-setgid", mode: 0o2755)
        guard chmod(tree.path("setid"), 0o700) == 0 else { throw IntegrationError("chmod setid: \(Errno.current)") }
    }

    func testCommandLineCases() throws {
        try runCases(in: [.commandLine, .descriptor, .bridgeName])
    }

    func testPolicyFileCases() throws {
        try runCases(in: [.policyFile])
    }

    func testCheckCommandAndInstallationCases() throws {
        try runCases(in: [.checkCommand, .installation])
    }

    func testNativeRequestCases() throws {
        try runCases(in: [.nativeRequest])
    }

    func testCVEReplays() throws {
        try runCases(in: [.cve2019_13164, .cve2017_5985, .cve2018_6556, .cve2022_47952, .cve2026_39402])
    }

    // MARK: Running

    /// Runs every case of `categories`, reporting each failing case by name.
    private func runCases(in categories: Set<HostileCategory>) throws {
        let cases = HostileCases.all.filter { categories.contains($0.category) }
        XCTAssertGreaterThanOrEqual(HostileCases.all.count, 100)
        let started = Date()
        // Every case must leave the namespace exactly as it was when the test began.
        let baseline = try HostileLinkSnapshot.take(namespace.name)
        XCTAssertEqual(baseline.tunDevices, [], "the namespace starts without tun/tap devices")
        var outputs: [String: HostileProcessOutput] = [:]
        var failed = 0, knownBugsSeen = 0
        for hostileCase in cases {
            let caseDirectory = tree.path(String(format: "case-%03d", caseCounter))
            caseCounter += 1
            var problems: [String]
            do {
                let observation = try run(hostileCase, in: caseDirectory, baseline: baseline)
                outputs[hostileCase.name] = observation.output
                problems = self.problems(hostileCase, observation, caseDirectory: caseDirectory)
                if let twin = hostileCase.sameOutputAs, let twinOutput = outputs[twin],
                   twinOutput.exitStatus != observation.output.exitStatus || twinOutput.standardError != observation.output.standardError {
                    problems.append("output differs from \"\(twin)\": exit \(observation.output.exitStatus) vs \(twinOutput.exitStatus), "
                                    + "stderr \(observation.output.standardError.readable) vs \(twinOutput.standardError.readable)")
                }
            } catch {
                problems = ["could not run the case: \(error)"]
            }
            let label = "[\(hostileCase.name)] (\(hostileCase.category.rawValue))"
            if HostileCases.knownBugs.contains(hostileCase.name) {
                knownBugsSeen += 1
                if problems.isEmpty {
                    XCTFail("\(label) is listed in HostileCases.knownBugs but passes now: remove it from the set")
                } else {
                    print("known bug \(label): " + problems.joined(separator: "; "))
                }
            } else if !problems.isEmpty {
                failed += 1
                XCTFail("\(label): " + problems.joined(separator: "; "))
            }
        }
        print(String(format: "hostile: %d cases (%d known bugs) in %.1f s, %d failed", cases.count, knownBugsSeen,
                     Date().timeIntervalSince(started), failed))
    }

    /// Writes the case's files, runs the helper as the case's caller and observes everything;
    /// `baseline` is the namespace's state before the first case.
    private func run(_ hostileCase: HostileCase, in caseDirectory: String, baseline: HostileLinkSnapshot) throws -> HostileObservation {
        let overlay: [HostileFile] = [
            .file("etc/passwd", Array(HostileCase.passwd.utf8)),
            .file("etc/group", Array(HostileCase.group.utf8)),
            .file("etc/netfd/netfd.policy", Array(hostileCase.installedPolicy.utf8)),
        ]
        try HostileFixtureWriter.write((hostileCase.files + overlay).map { substituting($0, caseDirectory) }, in: caseDirectory)
        let executable = try executablePath(for: hostileCase, caseDirectory: caseDirectory)

        let factory = HostileDescriptorFactory()
        defer { factory.closeAll() }
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        defer { emulatorEnd.close() }
        var childDescriptors: [Int32: Int32] = [HostileCase.emulatorSocketNumber: helperEnd.descriptor.rawValue]
        for (number, kind) in hostileCase.descriptors {
            childDescriptors[number] = try factory.make(kind, caseDirectory: caseDirectory, emulatorChildEnd: helperEnd.descriptor.rawValue)
        }
        let watch = try HostileOpenWatch(paths: hostileCase.mustNotOpen.map { $0.replacingOccurrences(of: HostileCase.caseDirectoryToken, with: caseDirectory) })

        let output = try HostileSpawner.run(launcher(for: hostileCase.caller, caseDirectory: caseDirectory) + [executable]
                                                + hostileCase.arguments.map { substituting($0.bytes, caseDirectory) },
                                            descriptors: childDescriptors)
        helperEnd.close()   // the helper has exited: the emulator's end now reads end of stream unless something was sent
        var received: (bytes: [UInt8], descriptors: Int)?
        var ready = [pollfd(fd: emulatorEnd.descriptor.rawValue, events: Int16(POLLIN), revents: 0)]
        if poll(&ready, 1, 2000) > 0, let message = try? emulatorEnd.receiveMessage(maxDescriptors: 253, maxBytes: 4096),
           !message.bytes.isEmpty || !message.descriptors.isEmpty {
            received = (message.bytes, message.descriptors.count)
            message.descriptors.forEach { $0.close() }
        }
        let after = try HostileLinkSnapshot.take(namespace.name)
        return HostileObservation(output: output, received: received, before: baseline, after: after, openedPaths: watch.openedPaths())
    }

    /// Everything about `observation` that differs from what `hostileCase` expects.
    private func problems(_ hostileCase: HostileCase, _ observation: HostileObservation, caseDirectory: String) -> [String] {
        var problems: [String] = []
        let output = observation.output
        if output.exitStatus != hostileCase.expectedExit {
            problems.append("exit \(output.exitStatus), expected \(hostileCase.expectedExit)")
        }
        let standardError = String(decoding: output.standardError, as: UTF8.self)
        switch hostileCase.expectedMessage {
        case .exact(let message):
            let expected = "netfd-helper: " + message.replacingOccurrences(of: HostileCase.caseDirectoryToken, with: caseDirectory) + "\n"
            if output.standardError != Array(expected.utf8) {
                problems.append("stderr \(output.standardError.readable), expected \(Array(expected.utf8).readable)")
            }
        case .pattern(let pattern, _):
            let regex = "^netfd-helper: " + pattern.replacingOccurrences(of: HostileCase.caseDirectoryToken, with: caseDirectory) + "\n$"
            if standardError.range(of: regex, options: .regularExpression) == nil
                || standardError.filter({ $0 == "\n" }).count != 1 {
                problems.append("stderr \(output.standardError.readable) does not match \(regex.debugDescription)")
            }
        }
        if !output.standardOutput.isEmpty {
            problems.append("stdout is not empty: \(output.standardOutput.readable)")
        }
        // A native request answers a refusal on its socket too (netfd-helper(8), NATIVE REQUESTS):
        // exactly `netfd/1 error EXIT MESSAGE`, no descriptor; a usage error in the command line may
        // come before the socket is known. Anything else must send nothing at all.
        let isNativeRequest = hostileCase.arguments.first?.bytes == Array("request".utf8)
        if isNativeRequest, case .exact(let message) = hostileCase.expectedMessage {
            let reply = "netfd/1 error \(hostileCase.expectedExit) " + message.replacingOccurrences(of: HostileCase.caseDirectoryToken, with: caseDirectory) + "\n"
            if let received = observation.received {
                if received.bytes != Array(reply.utf8) || received.descriptors != 0 {
                    problems.append("the emulator's socket received \(received.bytes.readable) and \(received.descriptors) descriptors, expected \(Array(reply.utf8).readable)")
                }
            } else if hostileCase.expectedExit != 1 {
                problems.append("no netfd/1 error reply on the emulator's socket")
            }
        } else if let received = observation.received {
            problems.append("the emulator's socket received \(received.bytes.readable)\(received.descriptors > 0 ? " and \(received.descriptors) descriptors" : "")")
        }
        if observation.after.links != observation.before.links {
            problems.append("links changed: before \(observation.before), after \(observation.after)")
        }
        if !observation.after.tunDevices.isEmpty {
            problems.append("tun/tap devices exist: \(observation.after.tunDevices)")
        }
        if !observation.openedPaths.isEmpty {
            problems.append("opened paths it must never open: \(observation.openedPaths)")
        }
        return problems
    }

    // MARK: Invocation

    /// `ip netns exec NS unshare --mount ... sh -c SCRIPT sh`: a private mount namespace with the
    /// case's etc/ overlaid on /etc (passwd, group, netfd/netfd.policy), then, for a user, a private
    /// 0666 /dev/net/tun where the host's is not (FileCapabilityTests.privateTunDeviceSetup) and setpriv
    /// to the caller's uid, gid and groups with no capabilities. The helper and its arguments follow.
    private func launcher(for caller: HostileCaller, caseDirectory: String) -> [[UInt8]] {
        var script = "mount -n -t overlay overlay -o lowerdir=\(caseDirectory)/etc:/etc /etc"
        switch caller {
        case .root:
            script += " && exec \"$@\""
        case let .user(uid, gid, groups):
            // A refusal never reaches /dev/net/tun; but if a case is wrongly allowed, it must be able to
            // create the tap, so that the case fails on what it did and not on the node's mode.
            if let tunSetup = FileCapabilityTests.privateTunDeviceSetup { script += " && " + tunSetup }
            let groupOption = groups.isEmpty ? "--clear-groups" : "--groups=" + groups.map(String.init).joined(separator: ",")
            script += " && exec setpriv --reuid=\(uid) --regid=\(gid) \(groupOption) -- \"$@\""
        }
        return ["ip", "netns", "exec", namespace.name, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]
            .map { Array($0.utf8) }
    }

    /// The executable the case's caller starts (creating the argv[0] symlink a case asks for).
    private func executablePath(for hostileCase: HostileCase, caseDirectory: String) throws -> [UInt8] {
        switch hostileCase.executable {
        case .standard:
            return Array((hostileCase.caller == .root ? helper! : capabilityCopy!).utf8)
        case .setuidRootCopy:
            return Array(setuidCopy.utf8)
        case .setgidRootCopy:
            return Array(setgidCopy.utf8)
        case .copyWithoutCapabilities(let linkName):
            let link = Array((caseDirectory + "/").utf8) + linkName
            let cPath = link.map { CChar(bitPattern: $0) } + [0]
            guard symlink(plainCopy, cPath) == 0 else { throw IntegrationError("symlink to the copy without capabilities: \(Errno.current)") }
            return link
        }
    }

    /// `bytes` with @CASE@ replaced by `caseDirectory`.
    private func substituting(_ bytes: [UInt8], _ caseDirectory: String) -> [UInt8] {
        bytes.replacing(Array(HostileCase.caseDirectoryToken.utf8), with: Array(caseDirectory.utf8))
    }

    /// `file` with @CASE@ replaced in its contents (symlink targets are replaced by the writer).
    private func substituting(_ file: HostileFile, _ caseDirectory: String) -> HostileFile {
        guard case let .file(path, bytes, mode, owner, group) = file else { return file }
        return .file(path, substituting(bytes, caseDirectory), mode: mode, owner: owner, group: group)
    }
}
