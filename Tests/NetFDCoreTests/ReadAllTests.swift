// ReadAllTests.swift - FileDescriptor.readAll reads a file whole whatever its expected size
// says (the size is only a hint for the first read: a policy file may grow or shrink between
// fstat and read), and stops one byte past the limit so callers can tell "too big".
import Glibc
import NetFDSystem
import XCTest

final class ReadAllTests: XCTestCase {
    /// A pipe holding `bytes` with its write end closed, so reads see them and then end of file.
    func pipeHolding(_ bytes: [UInt8]) throws -> FileDescriptor {
        var ends: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&ends), 0)
        let writer = FileDescriptor(rawValue: ends[1])
        try writer.writeAll(bytes)
        writer.close()
        return FileDescriptor(rawValue: ends[0])
    }

    func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }

    func testReadsEverythingWhenTheExpectedSizeIsTooSmall() throws {
        let data = bytes(20_000)
        let file = try pipeHolding(data)
        defer { file.close() }
        XCTAssertEqual(try file.readAll(limit: 1 << 20, expectedSize: 10), data)
    }

    func testReadsEverythingWhenTheExpectedSizeIsTooLarge() throws {
        let data = bytes(10)
        let file = try pipeHolding(data)
        defer { file.close() }
        XCTAssertEqual(try file.readAll(limit: 1 << 20, expectedSize: 50_000), data)
    }

    func testExactExpectedSizeAndEmptyFile() throws {
        let data = bytes(4097)
        let file = try pipeHolding(data)
        defer { file.close() }
        XCTAssertEqual(try file.readAll(limit: 1 << 20, expectedSize: 4097), data)
        let empty = try pipeHolding([])
        defer { empty.close() }
        XCTAssertEqual(try empty.readAll(limit: 1 << 20, expectedSize: 0), [])
    }

    func testStopsOneBytePastTheLimit() throws {
        for expected in [0, 10, 50, 51, 1000] {
            let file = try pipeHolding(bytes(100))
            defer { file.close() }
            XCTAssertEqual(try file.readAll(limit: 50, expectedSize: expected), Array(bytes(100).prefix(51)), "expected size \(expected)")
        }
    }
}
