import XCTest
@testable import NetFDPolicy

final class GlobTests: XCTestCase {
    private func matches(_ pattern: String, _ candidate: String) throws -> Bool {
        try Glob(pattern).matches(interface(candidate))
    }

    func testMatchesWholeNamesOnly() throws {
        XCTAssertTrue(try matches("br0", "br0"))
        XCTAssertFalse(try matches("br0", "br0x"))
        XCTAssertFalse(try matches("br0", "xbr0"))
        XCTAssertTrue(try matches("br*", "br"))
        XCTAssertTrue(try matches("br*", "br-lan.100"))
        XCTAssertFalse(try matches("br*", "xbr0"))
        XCTAssertTrue(try matches("*", "anything"))
        XCTAssertTrue(try matches("**", "x"))
        XCTAssertTrue(try matches("*0", "virbr0"))
        XCTAssertFalse(try matches("*0", "virbr01"))
    }

    func testSingleCharacterWildcardsAndSets() throws {
        XCTAssertTrue(try matches("br?", "br0"))
        XCTAssertFalse(try matches("br?", "br"))
        XCTAssertFalse(try matches("br?", "br10"))
        XCTAssertTrue(try matches("vm[0-3]", "vm2"))
        XCTAssertFalse(try matches("vm[0-3]", "vm4"))
        XCTAssertTrue(try matches("vm[abc]", "vmb"))
        XCTAssertFalse(try matches("vm[abc]", "vmd"))
        XCTAssertTrue(try matches("vm[!x]", "vmy"))
        XCTAssertFalse(try matches("vm[!x]", "vmx"))
        XCTAssertTrue(try matches("v[-_]x", "v-x"))
        XCTAssertTrue(try matches("v[_-]x", "v-x"))
        XCTAssertTrue(try matches("v[a-cx-z]", "vy"))
        XCTAssertTrue(try matches("v[!a-c]", "vd"))
    }

    func testBacktracksAcrossStars() throws {
        XCTAssertTrue(try matches("*a*b", "xaxxab"))
        XCTAssertFalse(try matches("*a*b", "xaxxba"))
        XCTAssertTrue(try matches("a*a*a", "aaaaa"))
        XCTAssertTrue(try matches("*.100", "eth0.100"))
        XCTAssertFalse(try matches("*.100", "eth0.1000"))
        XCTAssertTrue(try matches("?*?", "ab"))
        XCTAssertFalse(try matches("?*?", "a"))
    }

    func testRejectsPatternsThatCanNeverMatch() {
        let cases: [(String, GlobSyntaxError)] = [
            ("", GlobSyntaxError(offset: 0, message: "empty glob pattern")),
            ("br[", GlobSyntaxError(offset: 2, message: "unterminated \"[\" in glob pattern")),
            ("br[]", GlobSyntaxError(offset: 2, message: "empty \"[]\" in glob pattern")),
            ("br[!]", GlobSyntaxError(offset: 2, message: "empty \"[]\" in glob pattern")),
            ("br[z-a]", GlobSyntaxError(offset: 3, message: "reversed range \"z-a\" in glob pattern")),
            ("br:0", GlobSyntaxError(offset: 2, message: "glob pattern contains \":\", which cannot occur in an interface name")),
            ("b r", GlobSyntaxError(offset: 1, message: "glob pattern contains \" \", which cannot occur in an interface name")),
            ("br]", GlobSyntaxError(offset: 2, message: "glob pattern contains \"]\", which cannot occur in an interface name")),
            ("br[/]", GlobSyntaxError(offset: 3, message: "glob pattern contains \"/\", which cannot occur in an interface name")),
            ("brü", GlobSyntaxError(offset: 2, message: "glob pattern contains a non-ASCII character, which cannot occur in an interface name")),
        ]
        for (pattern, expected) in cases {
            XCTAssertThrowsError(try Glob(pattern), "pattern \(pattern)") { error in
                XCTAssertEqual(error as? GlobSyntaxError, expected)
            }
        }
    }

    func testGlobRulesInPolicies() throws {
        let policy = try load("allow group kvm tap bridge glob:br*\ndeny any tap bridge glob:br[!0-9]*")
        XCTAssertTrue(policy.decide(tap("br0"), for: alice).isAllowed)
        XCTAssertTrue(policy.decide(tap("br12"), for: alice).isAllowed)
        XCTAssertEqual(policy.decide(tap("br-lan"), for: alice).summary, "denied by [deny any tap bridge glob:br[!0-9]*]")
        XCTAssertEqual(policy.decide(tap("xbr0"), for: alice), .notAllowed)
        XCTAssertEqual(policy.decide(tap("br0"), for: carol), .notAllowed)
    }
}
