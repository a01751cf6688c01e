import XCTest
@testable import NetFDPolicy

final class LimitsTests: XCTestCase {
    func testFileSizeLimit() throws {
        let limits = PolicyLoader.Limits(maximumFileBytes: 100)
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, contents: "allow br0\n" + String(repeating: "#", count: 89) + "\n")
        XCTAssertEqual(try load(fs, limits: limits).rules.count, 1)
        fs.addFile(mainPolicy, contents: "allow br0\n" + String(repeating: "#", count: 90) + "\n")
        XCTAssertEqual(loadError(fs, limits: limits), "\(mainPolicy): file is larger than the limit of 100 bytes")
        fs.addFile(mainPolicy, contents: "include big.policy\n")
        fs.addFile("/etc/netfd/big.policy", contents: String(repeating: "\n", count: 1000))
        XCTAssertEqual(loadError(fs, limits: limits), "\(mainPolicy):1:9: /etc/netfd/big.policy: file is larger than the limit of 100 bytes")
        XCTAssertEqual(PolicyLoader.Limits().maximumFileBytes, 1 << 20)
    }

    func testIncludeDepthLimit() throws {
        let fs = fileSystem([
            "/p/0.policy": "include 1.policy\n",
            "/p/1.policy": "include 2.policy\n",
            "/p/2.policy": "include 3.policy\n",
            "/p/3.policy": "allow br0\n",
        ])
        XCTAssertEqual(try load(fs, path: "/p/0.policy", limits: .init(maximumIncludeDepth: 3)).files.count, 4)
        XCTAssertEqual(loadError(fs, path: "/p/0.policy", limits: .init(maximumIncludeDepth: 2)),
                       "/p/2.policy:1:9: /p/3.policy: includes are nested more than 2 deep: /p/0.policy -> /p/1.policy -> /p/2.policy -> /p/3.policy")
        XCTAssertEqual(PolicyLoader.Limits().maximumIncludeDepth, 16)
    }

    func testFileCountLimit() throws {
        let fs = fileSystem([
            mainPolicy: "include netfd.d\n",
            "/etc/netfd/netfd.d/a.policy": "", "/etc/netfd/netfd.d/b.policy": "", "/etc/netfd/netfd.d/c.policy": "",
        ])
        XCTAssertEqual(try load(fs, limits: .init(maximumFiles: 4)).files.count, 4)
        XCTAssertEqual(loadError(fs, limits: .init(maximumFiles: 3)), "\(mainPolicy):1:9: /etc/netfd/netfd.d/c.policy: more than 3 policy files")
    }

    func testRuleCountLimit() throws {
        let fs = fileSystem([mainPolicy: "allow br0\ndeny br1\n# comment\nallow br2\n"])
        XCTAssertEqual(try load(fs, limits: .init(maximumRules: 3)).rules.count, 3)
        fs.addFile(mainPolicy, contents: "allow br0\ndeny br1\n# comment\nallow br2\n  allow br3\n")
        XCTAssertEqual(loadError(fs, limits: .init(maximumRules: 3)), "\(mainPolicy):5:3: more than 3 rules")
    }

    /// A generated 10,000-rule policy loads and decides correctly (speed is
    /// measured in release builds by hand, not asserted here).
    func testTenThousandRulePolicy() throws {
        var text = "# generated\nset tap-prefix vm\n"
        for index in 0..<10_000 {
            switch index % 4 {
            case 0: text += "allow user \(10_000 + index) tap bridge br\(index)\n"
            case 1: text += "allow group \(20_000 + index) tap bridge glob:vm\(index)-*  vnet-hdr=no\n"
            case 2: text += "deny user \(10_000 + index - 2) tap bridge br\(index)\n"
            default: text += "allow user alice tap bridge br\(index) # note \(index)\n"
            }
        }
        let policy = try load(text)
        XCTAssertEqual(policy.rules.count, 10_000)
        XCTAssertEqual(policy.decide(tap("br0"), for: Identity(uid: 10_000, gid: 1, supplementaryGroups: [])).summary,
                       "allowed vnet-hdr=yes by [allow user 10000 tap bridge br0]")
        XCTAssertEqual(policy.decide(tap("br2"), for: Identity(uid: 10_000, gid: 1, supplementaryGroups: [])).summary,
                       "denied by [deny user 10000 tap bridge br2]")
        XCTAssertEqual(policy.decide(tap("vm9997-x"), for: Identity(uid: 1, gid: 1, supplementaryGroups: [29_997])).summary,
                       "allowed vnet-hdr=no by [allow group 29997 tap bridge glob:vm9997-*  vnet-hdr=no]")
        XCTAssertEqual(policy.decide(tap("br9999"), for: alice).summary, "allowed vnet-hdr=yes by [allow user alice tap bridge br9999]")
        XCTAssertEqual(policy.decide(tap("br9999"), for: bob), .notAllowed)
    }
}
