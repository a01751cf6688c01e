// HandoffFailureTests.swift - what QEMU's side cannot produce on purpose: a socket whose peer is
// already gone, and --fd values that are not a unix stream socket. The helper is spawned directly
// here (not through HelperClient) so the test controls exactly what descriptor N is.
import Foundation
import Glibc
import NetFDClient
import NetFDSystem
import XCTest

final class HandoffFailureTests: IntegrationTestCase {
    /// Spawns the helper as root in the namespace with `passing` inherited as --fd, and returns its
    /// exit status and stderr (written to a file in the tree).
    func spawnHelper(passing descriptor: Int32, policy: String) throws -> (status: Int32, standardError: String) {
        let invocation = Integration.invocation(helper: helper, in: namespace, policy: policy)
        let argv = invocation.argv(socket: descriptor)
        let errorFile = tree.path("stderr-\(UUID().uuidString)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto itself clears close-on-exec in the child only.
        posix_spawn_file_actions_adddup2(&actions, descriptor, descriptor)
        posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw IntegrationError("posix_spawnp \(argv[0]): \(Errno(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw IntegrationError("waitpid: \(Errno.current)") }
        }
        let exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let errors = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        return (exitStatus, errors)
    }

    /// The receiving end is closed before the helper sends: exit 7, and the created tap is gone again.
    func testPeerGoneBeforeHandoffLeavesNothingBehind() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let before = try namespace.linkNames()
        let (emulatorEnd, helperEnd) = try UnixSocket.pair()
        emulatorEnd.close()
        defer { helperEnd.close() }

        let result = try spawnHelper(passing: helperEnd.descriptor.rawValue, policy: policy)
        XCTAssertEqual(result.status, 7, "stderr: \(result.standardError)")
        XCTAssertTrue(result.standardError.hasPrefix("netfd-helper: could not send "), result.standardError)
        XCTAssertTrue(result.standardError.hasSuffix("; nothing was left behind\n"), result.standardError)
        XCTAssertEqual(result.standardError.filter { $0 == "\n" }.count, 1, "one line: \(result.standardError)")
        XCTAssertTrue(try Integration.waitUntil { try namespace.linkNames() == before },
                      "links after a failed handoff: \((try? namespace.linkNames()) ?? []), before: \(before)")
    }

    /// --fd naming a pipe, a datagram socket or a closed number is a usage error (exit 1) and creates nothing.
    func testFdThatIsNotAUnixStreamSocket() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        let before = try namespace.linkNames()

        var pipeEnds: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        pipeEnds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        defer { pipeEnds.forEach { _ = Glibc.close($0) } }
        var datagram: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &datagram), 0)
        defer { datagram.forEach { _ = Glibc.close($0) } }
        let closedNumber: Int32 = 900  // far above anything this process has open
        XCTAssertEqual(fcntl(closedNumber, F_GETFD), -1)

        for (label, descriptor) in [("pipe", pipeEnds[1]), ("datagram socket", datagram[1])] {
            let result = try spawnHelper(passing: descriptor, policy: policy)
            XCTAssertEqual(result.status, 1, "\(label): \(result.standardError)")
            XCTAssertEqual(result.standardError,
                           "netfd-helper: --fd=\(descriptor) is not an open unix stream socket\n", label)
        }
        // A number that is not open in the helper at all (Foundation's Process passes only 0, 1 and 2).
        let argv = Integration.invocation(helper: helper, in: namespace, policy: policy).argv(socket: closedNumber)
        let output = try Command.run(argv)
        XCTAssertEqual(output.status, 1, "closed --fd: \(output.standardError)")
        XCTAssertEqual(output.standardError, "netfd-helper: --fd=\(closedNumber) is not an open unix stream socket\n")
        XCTAssertEqual(try namespace.linkNames(), before)
    }
}
