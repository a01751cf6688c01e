import XCTest
@testable import NetFDPolicy

final class InterfaceNameTests: XCTestCase {
    private func error(_ text: String) -> String {
        do {
            _ = try InterfaceName(validating: text)
            return "<valid>"
        } catch {
            return error.description
        }
    }

    func testAcceptsKernelStyleNames() throws {
        for valid in ["br0", "virbr0", "eth0.100", "br_lan", "a+b", "x-1", "A", "123456789012345", "..."] {
            XCTAssertEqual(try InterfaceName(validating: valid).value, valid)
        }
        XCTAssertEqual(InterfaceName.maximumLength, 15)
        XCTAssertEqual(interface("br0").description, "br0")
    }

    func testRejectsLongNamesWithoutTruncating() {
        XCTAssertEqual(error("1234567890123456"), "interface name \"1234567890123456\" is 16 bytes long; the limit is 15 bytes (names are never truncated)")
        XCTAssertEqual(error(String(repeating: "b", count: 20)),
                       "interface name \"\(String(repeating: "b", count: 20))\" is 20 bytes long; the limit is 15 bytes (names are never truncated)")
        XCTAssertThrowsError(try InterfaceName(validating: "br0-with-long-tail")) { error in
            XCTAssertEqual(error as? InterfaceNameError, .tooLong(name: "br0-with-long-tail", length: 18))
        }
    }

    func testRejectsEmptyAndDotNames() {
        XCTAssertEqual(error(""), "interface name is empty")
        XCTAssertEqual(error("."), "interface name \".\" is not allowed")
        XCTAssertEqual(error(".."), "interface name \"..\" is not allowed")
    }

    func testRejectsCharactersOutsideTheSafeSet() {
        XCTAssertEqual(error("br/0"), "interface name \"br/0\" contains \"/\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br 0"), "interface name \"br 0\" contains \" \" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br0:1"), "interface name \"br0:1\" contains \":\" at offset 4; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br\u{0}0"), "interface name \"br\\x000\" contains \"\\x00\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br\t"), "interface name \"br\\t\" contains \"\\t\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br*"), "interface name \"br*\" contains \"*\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("b?"), "interface name \"b?\" contains \"?\" at offset 2; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("[br]"), "interface name \"[br]\" contains \"[\" at offset 1; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("brü"), "interface name \"brü\" contains \"ü\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("é0"), "interface name \"é0\" contains \"é\" at offset 1; only A-Z a-z 0-9 . _ + - are allowed")
        XCTAssertEqual(error("br\u{200B}"), "interface name \"br\\u{200B}\" contains \"\\u{200B}\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed")
    }

    func testRejectsLeadingDash() {
        XCTAssertEqual(error("-br0"), "interface name \"-br0\" must not start with \"-\"")
        XCTAssertEqual(error("-"), "interface name \"-\" must not start with \"-\"")
    }

    func testComparesWholeNames() {
        XCTAssertNotEqual(interface("br0"), interface("br0x"))
        XCTAssertNotEqual(interface("br0"), interface("br"))
        XCTAssertEqual(interface("br0"), interface("br0"))
    }
}
