import XCTest
@testable import NetFDPolicy

final class FileSecurityTests: XCTestCase {
    private let requirement = "it must be owned by root and not writable by group or others"

    func testRefusesFilesWritableByGroupOrOthers() {
        for mode: UInt32 in [0o666, 0o664, 0o646, 0o4622] {
            let fs = InMemoryPolicyFileSystem()
            fs.addFile(mainPolicy, contents: "allow br0\n", mode: mode)
            let octal = String(mode, radix: 8)
            XCTAssertEqual(loadError(fs), "\(mainPolicy): refusing policy file writable by group or others (mode \(octal.count < 4 ? "0" + octal : octal)); \(requirement)")
        }
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, contents: "allow br0\n", mode: 0o600)
        XCTAssertNoThrow(try load(fs))
        fs.addFile(mainPolicy, contents: "allow br0\n", mode: 0o444)
        XCTAssertNoThrow(try load(fs))
    }

    func testIncludedFilesAreCheckedTooAndReportedAtTheInclude() {
        let fs = fileSystem([mainPolicy: "include netfd.d\n"])
        fs.addFile("/etc/netfd/netfd.d/x.policy", contents: "allow br0\n", mode: 0o664)
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: /etc/netfd/netfd.d/x.policy: refusing policy file writable by group or others (mode 0664); \(requirement)")
    }

    func testRefusesFilesOwnedBySomeoneElse() throws {
        let fs = InMemoryPolicyFileSystem()
        fs.addFile(mainPolicy, contents: "allow br0\n", owner: 1000)
        XCTAssertEqual(loadError(fs), "\(mainPolicy): refusing policy file owned by uid 1000 (alice); \(requirement)")
        fs.addFile(mainPolicy, contents: "allow br0\n", owner: 4242)
        XCTAssertEqual(loadError(fs), "\(mainPolicy): refusing policy file owned by uid 4242; \(requirement)")
        // A different trusted owner (tests, dry runs) may own files; root always may.
        fs.addFile(mainPolicy, contents: "include x.policy\n", owner: 1000)
        fs.addFile("/etc/netfd/x.policy", contents: "allow br0\n", owner: 0)
        XCTAssertEqual(try load(fs, trustedOwner: 1000).rules.count, 1)
        fs.addFile("/etc/netfd/x.policy", contents: "allow br0\n", owner: 1001)
        XCTAssertEqual(loadError(fs, trustedOwner: 1000),
                       "\(mainPolicy):1:9: /etc/netfd/x.policy: refusing policy file owned by uid 1001 (bob); it must be owned by root or uid 1000 (alice) and not writable by group or others")
    }

    func testRefusesAncestorDirectoriesWritableByGroupOrOthers() {
        let fs = fileSystem([mainPolicy: "allow br0\n"])
        fs.addDirectory("/etc/netfd", mode: 0o775)
        XCTAssertEqual(loadError(fs), "/etc/netfd: refusing directory writable by group or others (mode 0775); \(requirement)")
        fs.addDirectory("/etc/netfd")
        fs.addDirectory("/etc", mode: 0o757)
        XCTAssertEqual(loadError(fs), "/etc: refusing directory writable by group or others (mode 0757); \(requirement)")
        fs.addDirectory("/etc")
        fs.addDirectory("/", mode: 0o777)
        XCTAssertEqual(loadError(fs), "/: refusing directory writable by group or others (mode 0777); \(requirement)")
    }

    func testRefusesAncestorDirectoriesOwnedBySomeoneElse() {
        let fs = fileSystem(["/home/alice/netfd.policy": "allow br0\n", mainPolicy: "include /home/alice/netfd.policy\n"])
        fs.addDirectory("/home/alice", owner: 1000, mode: 0o755)
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: /home/alice: refusing directory owned by uid 1000 (alice); \(requirement)")
    }

    func testRefusesStickyWorldWritableDirectoriesLikeTmp() {
        let fs = fileSystem(["/tmp/netfd.policy": "allow all\n", mainPolicy: "include /tmp/netfd.policy\n"])
        fs.addDirectory("/tmp", mode: 0o1777)
        XCTAssertEqual(loadError(fs, path: "/tmp/netfd.policy"), "/tmp: refusing directory writable by group or others (mode 1777); \(requirement)")
        XCTAssertEqual(loadError(fs), "\(mainPolicy):1:9: /tmp: refusing directory writable by group or others (mode 1777); \(requirement)")
    }

    func testRefusesSymlinkedFiles() {
        let fs = fileSystem(["/etc/netfd/real.policy": "allow br0\n"])
        fs.addSymlink(mainPolicy, target: "real.policy")
        XCTAssertEqual(loadError(fs), "\(mainPolicy): refusing symlink; policy files must be regular files (name the target instead)")
        fs.addFile("/etc/netfd/top.policy", contents: "include netfd.policy\n")
        XCTAssertEqual(loadError(fs, path: "/etc/netfd/top.policy"),
                       "/etc/netfd/top.policy:1:9: /etc/netfd/netfd.policy: refusing symlink; policy files must be regular files (name the target instead)")
    }

    func testRefusesSymlinkedAncestorDirectories() {
        let fs = fileSystem(["/srv/netfd/netfd.policy": "allow br0\n"])
        fs.addSymlink("/etc/netfd", target: "/srv/netfd")
        XCTAssertEqual(loadError(fs), "/etc/netfd: refusing symlinked directory; policy paths must not go through symlinks (use the real path)")
        fs.addSymlink("/etc/netfd.d", target: "/srv/netfd")
        fs.addFile("/etc/top.policy", contents: "include netfd.d\n")
        XCTAssertEqual(loadError(fs, path: "/etc/top.policy"),
                       "/etc/top.policy:1:9: /etc/netfd.d: refusing symlink; policy files must be regular files (name the target instead)")
    }

    /// A file system whose lstat and open disagree, as when a file is swapped between the two calls.
    private final class SwappingFileSystem: PolicyFileSystem {
        let base = fileSystem([mainPolicy: "allow br0\n"])
        var opened: FileMetadata

        init(opened: FileMetadata) { self.opened = opened }
        func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata { try base.metadata(atPath: path) }
        func directoryEntries(atPath path: String) throws(FileSystemError) -> [String] { try base.directoryEntries(atPath: path) }
        func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> FileContents {
            FileContents(metadata: opened, bytes: try base.readFile(atPath: path, maxBytes: maxBytes).bytes)
        }
    }

    func testChecksTheOpenedFileNotJustThePath() {
        func error(_ opened: FileMetadata) -> String {
            do {
                _ = try PolicyLoader(fileSystem: SwappingFileSystem(opened: opened), users: testUsers).load(path: mainPolicy)
                return "<loaded>"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(error(FileMetadata(kind: .regular, owner: 1000, group: 0, mode: 0o644, device: 9, inode: 9)),
                       "\(mainPolicy): refusing policy file owned by uid 1000 (alice); \(requirement)")
        XCTAssertEqual(error(FileMetadata(kind: .other, owner: 0, group: 0, mode: 0o644, device: 9, inode: 9)),
                       "\(mainPolicy): refusing policy file that is not a regular file")
    }

    func testRejectsRelativePaths() {
        XCTAssertEqual(loadError(fileSystem([:]), path: "netfd.policy"), "netfd.policy: policy path must be absolute")
        XCTAssertEqual(loadError(fileSystem([:]), path: ""), ": policy path must be absolute")
    }
}
