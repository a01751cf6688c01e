// ConfinementTests.swift - the syscall allow-list resolves, and SCM_RIGHTS edge cases.
import Glibc
@testable import NetFDCore
import NetFDSystem
import XCTest

final class ConfinementTests: XCTestCase {
    func testEveryAllowedSyscallIsKnownToLibseccomp() {
        for rule in SyscallAllowList.helper {
            XCTAssertNotNil(Confinement.syscallNumber(rule.name), rule.name)
            XCTAssertFalse(rule.reason.isEmpty, rule.name)
        }
        // Never allowed: what would let a confined helper escape or run other code.
        let names = Set(SyscallAllowList.helper.map(\.name))
        for forbidden in ["execve", "execveat", "ptrace", "setns", "unshare", "clone", "fork", "mount", "bind", "connect"] {
            XCTAssertFalse(names.contains(forbidden), forbidden)
        }
    }

    func testReceiveRefusesMoreThanOneDescriptor() throws {
        let (a, b) = try UnixSocket.pair()
        defer { a.close(); b.close() }
        try a.send(FileDescriptor.standardError, byte: 7)
        let got = try XCTUnwrap(try b.receive())
        XCTAssertEqual(got.byte, 7)
        let fd = try XCTUnwrap(got.descriptor)
        XCTAssertNotEqual(fd.rawValue, 2)
        XCTAssertTrue(fd.isOpen)
        fd.close()
        // A byte without a descriptor, then end of stream.
        try a.descriptor.writeAll([9])
        let plain = try XCTUnwrap(try b.receive())
        XCTAssertEqual(plain.byte, 9)
        XCTAssertNil(plain.descriptor)
        a.close()
        XCTAssertNil(try b.receive())
    }

    func testOnlyUnixStreamSocketsQualify() throws {
        let (a, b) = try UnixSocket.pair()
        defer { a.close(); b.close() }
        XCTAssertTrue(UnixSocket.isUnixStream(a.descriptor))
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(datagram) }
        XCTAssertFalse(UnixSocket.isUnixStream(FileDescriptor(rawValue: datagram)))
        XCTAssertFalse(UnixSocket.isUnixStream(FileDescriptor(rawValue: 999)))
    }
}
