import XCTest
@testable import NetFDPolicy

/// The findings of the policy fuzzer (Fuzz/regressions/policy), as unit tests: names and paths are
/// compared and sliced as bytes, the way the kernel and getpwnam(3) see them, never by Unicode
/// canonical equivalence or Character boundaries, and nothing invisible hides in a rule.
final class ExactnessTests: XCTestCase {
    /// "caf\u{E9}" and "cafe\u{301}" are equal Strings but two files: the second one's deny counts.
    func testCanonicallyEquivalentIncludesAreTwoFiles() throws {
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, contents: "include caf\u{E9}.policy\ninclude cafe\u{301}.policy\n")
        fs.addFile("/etc/netfd/caf\u{E9}.policy", contents: "allow any tap bridge br0\n")
        fs.addFile("/etc/netfd/cafe\u{301}.policy", contents: "deny any tap bridge br0\n")
        let policy = try load(fs)
        XCTAssertEqual(policy.files.count, 3)
        guard case .denied = policy.decide(tap("br0"), for: alice) else {
            return XCTFail("the deny rule of the second, byte-different file was skipped")
        }
    }

    /// A user name is looked up by its bytes: the NFD spelling names the NFD account.
    func testUserNamesResolveByBytes() throws {
        let users = UserDatabase(passwd: Array("caf\u{E9}:x:1001:1001::/:/bin/sh\ncafe\u{301}:x:1002:1002::/:/bin/sh\n".utf8),
                                 group: [])
        XCTAssertEqual(users.userID(named: "caf\u{E9}"), 1001)
        XCTAssertEqual(users.userID(named: "cafe\u{301}"), 1002)
    }

    /// A combining mark right after "glob:" or "=" belongs to the value, not to the prefix.
    func testCombiningMarksAreNotSwallowedByPrefixes() {
        XCTAssertTrue(loadError("allow any tap bridge glob:\u{301}br*\n").hasPrefix("\(mainPolicy):1:"))
        XCTAssertEqual(loadError("allow any tap bridge br0 vnet-hdr=\u{301}no\n"),
                       "\(mainPolicy):1:35: expected \"yes\" or \"no\" after \"vnet-hdr=\", found \"\u{301}no\"")
    }

    /// C1 controls, bidi overrides and line separators are refused like ASCII controls.
    func testInvisibleCharactersAreRefused() {
        XCTAssertEqual(loadError("allow user a\u{85}lice tap\n"),
                       "\(mainPolicy):1:13: invisible or control character U+0085 in policy text")
        XCTAssertEqual(loadError("allow user \u{202E}ecila tap\n"),
                       "\(mainPolicy):1:12: invisible or control character U+202E in policy text")
    }

    /// A directory entry is a *.policy file by its bytes, whatever Character the "." joins.
    func testDirectoryEntriesMatchBySuffixBytes() throws {
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, contents: "include netfd.d\n")
        fs.addFile("/etc/netfd/netfd.d/x\u{600}.policy", contents: "deny any tap\n")
        let policy = try load(fs)
        XCTAssertEqual(policy.files, [mainPolicy, "/etc/netfd/netfd.d/x\u{600}.policy"])
    }
}
