import XCTest
@testable import NetFDPolicy

final class IncludeTests: XCTestCase {
    func testDirectoryIncludeIsSortedNonRecursiveAndOnlyPolicyFiles() throws {
        let fs = fileSystem([
            mainPolicy: "include /etc/netfd/netfd.d\n",
            "/etc/netfd/netfd.d/20-b.policy": "allow user bob tap\n",
            "/etc/netfd/netfd.d/10-a.policy": "allow user alice tap\n",
            "/etc/netfd/netfd.d/Z.policy": "allow user carol tap\n",
            "/etc/netfd/netfd.d/9.policy": "allow user root tap\n",
            "/etc/netfd/netfd.d/.hidden.policy": "garbage\n",
            "/etc/netfd/netfd.d/.policy": "garbage\n",
            "/etc/netfd/netfd.d/30-c.policy.dpkg-old": "garbage\n",
            "/etc/netfd/netfd.d/README": "garbage\n",
            "/etc/netfd/netfd.d/sub/40-d.policy": "garbage\n",
        ])
        let policy = try load(fs)
        XCTAssertEqual(policy.files, [mainPolicy, "/etc/netfd/netfd.d/10-a.policy", "/etc/netfd/netfd.d/20-b.policy",
                                      "/etc/netfd/netfd.d/9.policy", "/etc/netfd/netfd.d/Z.policy"])
        XCTAssertEqual(policy.rules.map(\.text), ["allow user alice tap", "allow user bob tap", "allow user root tap", "allow user carol tap"])

        fs.addDirectory("/etc/netfd/netfd.d/50-dir.policy")
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: /etc/netfd/netfd.d/50-dir.policy: refusing directory inside an included directory (directory includes are not recursive)")
    }

    func testLoadingADirectoryAndEmptyDirectories() throws {
        let fs = fileSystem(["/etc/netfd/netfd.d/a.policy": "allow br0\n"])
        XCTAssertEqual(try load(fs, path: "/etc/netfd/netfd.d").files, ["/etc/netfd/netfd.d/a.policy"])
        fs.addDirectory("/etc/netfd/empty.d")
        fs.addFile(mainPolicy, contents: "include empty.d\n")
        XCTAssertEqual(try load(fs).files, [mainPolicy])
    }

    func testRelativeIncludesAndPathNormalisation() throws {
        let policy = try load(fileSystem([
            mainPolicy: "include sub/a.policy\n",
            "/etc/netfd/sub/a.policy": "include ../b.policy\ninclude ./../../netfd/c.policy\n",
            "/etc/netfd/b.policy": "allow br0\n",
            "/etc/netfd/c.policy": "allow br1\n",
        ]), path: "/etc/netfd/sub/../netfd.policy")
        XCTAssertEqual(policy.files, [mainPolicy, "/etc/netfd/sub/a.policy", "/etc/netfd/b.policy", "/etc/netfd/c.policy"])
        XCTAssertEqual(normalizedPath("/../a/./b//c/.."), "/a/b")
        XCTAssertEqual(normalizedPath("/"), "/")
    }

    /// The fast check agrees with rebuilding the path, byte for byte, on every tricky shape.
    func testNormalizedPathFastCheckAgreesWithRebuilding() {
        let paths = ["/", "//", "/a", "/a/", "/a//b", "/.", "/..", "/...", "/a/.", "/a/..", "/a/...", "/a/.b", "/a/..b",
                     "/a/b.", "/.a/b", "/a/./b", "/a/../b", "/etc/netfd/netfd.policy", "a", "", "./a", "/a/b/c/d..e",
                     "/caf\u{E9}/x", "/cafe\u{301}/x", "/\u{301}/..", "/a/.\u{301}", "/a/..\u{301}/b"]
        for path in paths {
            XCTAssertEqual(isNormalizedPath(path), path.utf8.first == UInt8(ascii: "/") && rebuiltPath(path).utf8.elementsEqual(path.utf8), path.debugDescription)
            if path.utf8.first == UInt8(ascii: "/") {
                XCTAssertTrue(normalizedPath(path).utf8.elementsEqual(rebuiltPath(path).utf8), path.debugDescription)
            }
        }
        XCTAssertEqual(parentDirectory(of: "/x"), "/")
        XCTAssertEqual(parentDirectory(of: "/a/b"), "/a")
    }

    func testIncludeLoopsAreReportedWithTheChain() {
        let fs = fileSystem([
            "/p/a.policy": "# a\n\ninclude b.policy\n",
            "/p/b.policy": "include /p/a.policy\n",
        ])
        XCTAssertEqual(loadError(fs, path: "/p/a.policy"), "/p/b.policy:1:9: include loop: /p/a.policy -> /p/b.policy -> /p/a.policy")

        fs.addFile("/p/self.policy", contents: "allow br0\ninclude ./self.policy\n")
        XCTAssertEqual(loadError(fs, path: "/p/self.policy"), "/p/self.policy:2:9: include loop: /p/self.policy -> /p/self.policy")

        // The chain is reported from where the loop starts.
        fs.addFile("/p/top.policy", contents: "include a.policy\n")
        XCTAssertEqual(loadError(fs, path: "/p/top.policy"), "/p/b.policy:1:9: include loop: /p/a.policy -> /p/b.policy -> /p/a.policy")

        // A directory that includes its own parent file loops too.
        fs.addFile("/p/d/x.policy", contents: "include ../dir.policy\n")
        fs.addFile("/p/dir.policy", contents: "include d\n")
        XCTAssertEqual(loadError(fs, path: "/p/dir.policy"), "/p/d/x.policy:1:9: include loop: /p/dir.policy -> /p/d/x.policy -> /p/dir.policy")
    }

    func testHardLinkLoopsAreCaughtByInode() {
        let fs = fileSystem(["/p/a.policy": "include b.policy\n", "/p/b.policy": "include link.policy\n"])
        fs.addHardLink("/p/link.policy", to: "/p/a.policy")
        XCTAssertEqual(loadError(fs, path: "/p/a.policy"), "/p/b.policy:1:9: include loop: /p/a.policy -> /p/b.policy -> /p/link.policy")
    }

    func testDiamondIncludesReadEachFileOnce() throws {
        let fs = fileSystem([
            mainPolicy: "include b.policy\ninclude c.policy\ninclude d.policy\n",
            "/etc/netfd/b.policy": "include d.policy\nallow br1\n",
            "/etc/netfd/c.policy": "include /etc/netfd/d.policy\nallow br2\n",
            "/etc/netfd/d.policy": "allow br0\nset tap-prefix vm\n",
        ])
        fs.addHardLink("/etc/netfd/e.policy", to: "/etc/netfd/d.policy")
        fs.addFile(mainPolicy, contents: "include b.policy\ninclude c.policy\ninclude d.policy\ninclude e.policy\n")
        let policy = try load(fs)
        XCTAssertEqual(policy.files, [mainPolicy, "/etc/netfd/b.policy", "/etc/netfd/d.policy", "/etc/netfd/c.policy"])
        XCTAssertEqual(policy.rules.map(\.text), ["allow br0", "allow br1", "allow br2"])
        XCTAssertEqual(policy.tapNamePrefix, "vm")
    }

    func testUnreadableAndMissingIncludesAreErrors() {
        let fs = fileSystem([mainPolicy: "allow br0\ninclude    missing.policy\n"])
        XCTAssertEqual(loadError(fs), "\(mainPolicy):2:12: cannot include \"/etc/netfd/missing.policy\": No such file or directory")

        fs.addFile(mainPolicy, contents: "include secret.policy\n")
        fs.addFile("/etc/netfd/secret.policy", contents: "allow br0\n", mode: 0o600, readable: false)
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: cannot include \"/etc/netfd/secret.policy\": Permission denied")

        fs.addFile(mainPolicy, contents: "include locked.d\n")
        fs.addDirectory("/etc/netfd/locked.d", mode: 0o700, readable: false)
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: cannot include \"/etc/netfd/locked.d\": Permission denied")

        fs.addFile(mainPolicy, contents: "include /nonexistent/dir/x.policy\n")
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: cannot include \"/nonexistent/dir/x.policy\": No such file or directory")

        fs.addFile(mainPolicy, contents: "include /etc/netfd/netfd.policy/x.policy\n")
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: cannot include \"/etc/netfd/netfd.policy/x.policy\": Not a directory")

        XCTAssertEqual(loadError(fs, path: "/etc/netfd/none.policy"), "/etc/netfd/none.policy: cannot read policy: No such file or directory")
    }

    func testErrorsInIncludedFilesNameThatFile() {
        let message = loadError("include netfd.d\n", others: ["/etc/netfd/netfd.d/a.policy": "\n  allow any tap bridge\tbr0 extra\n"])
        XCTAssertEqual(message, "/etc/netfd/netfd.d/a.policy:2:28: unexpected \"extra\" after the rule")
    }

    func testTapPrefixConflictsAcrossFiles() throws {
        XCTAssertEqual(try load("set tap-prefix vm\nset tap-prefix vm\n", others: [:]).tapNamePrefix, "vm")
        XCTAssertEqual(try load("").tapNamePrefix, nil)
        XCTAssertEqual(try load("include x.policy\nset tap-prefix vm", others: ["/etc/netfd/x.policy": "set tap-prefix vm\n"]).tapNamePrefix, "vm")

        XCTAssertEqual(loadError("set tap-prefix vm\nset tap-prefix qtap\n"),
                       "\(mainPolicy):2:16: tap-prefix \"qtap\" conflicts with tap-prefix \"vm\" set at \(mainPolicy):1:16")
        XCTAssertEqual(loadError("set tap-prefix vm\ninclude x.policy\n", others: ["/etc/netfd/x.policy": "# other\n set   tap-prefix\tnfd\n"]),
                       "/etc/netfd/x.policy:2:19: tap-prefix \"nfd\" conflicts with tap-prefix \"vm\" set at \(mainPolicy):1:16")
    }
}
