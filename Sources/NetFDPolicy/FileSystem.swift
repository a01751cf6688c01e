/// What kind of file system object a path names.
public enum FileKind: Sendable, Equatable {
    case regular, directory, symlink, other
}

/// The parts of `struct stat` the loader's security checks need.
public struct FileMetadata: Sendable, Equatable {
    /// The object's type.
    public var kind: FileKind
    /// Owning uid.
    public var owner: UInt32
    /// Owning gid.
    public var group: UInt32
    /// Permission bits including set-id and sticky bits (`st_mode & 0o7777`).
    public var mode: UInt32
    /// `st_dev`; with `inode` identifies the file across paths and hard links.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64

    /// Creates metadata.
    public init(kind: FileKind, owner: UInt32, group: UInt32, mode: UInt32, device: UInt64, inode: UInt64) {
        self.kind = kind
        self.owner = owner
        self.group = group
        self.mode = mode
        self.device = device
        self.inode = inode
    }
}

/// A failed file system operation.
public struct FileSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failure classes the loader distinguishes.
    public enum Code: Sendable, Equatable {
        case notFound, permissionDenied, notADirectory, symlink, isADirectory, other
    }

    /// What went wrong.
    public var code: Code
    /// Human-readable detail, e.g. the `strerror` text.
    public var detail: String

    /// Creates an error; an empty `detail` is replaced by a generic text for `code`.
    public init(_ code: Code, detail: String = "") {
        self.code = code
        self.detail = detail.isEmpty ? Self.genericDetail(code) : detail
    }

    /// The detail text.
    public var description: String { detail }

    /// strerror-like texts for callers without a better one.
    private static func genericDetail(_ code: Code) -> String {
        switch code {
        case .notFound: return "No such file or directory"
        case .permissionDenied: return "Permission denied"
        case .notADirectory: return "Not a directory"
        case .symlink: return "Too many levels of symbolic links"
        case .isADirectory: return "Is a directory"
        case .other: return "I/O error"
        }
    }
}

/// The file system operations the loader needs. The real implementation
/// lives outside this module (NetFDPolicy makes no system calls).
public protocol PolicyFileSystem {
    /// lstat: metadata of `path` without following a final symlink.
    func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata
    /// Opens `path` with O_NOFOLLOW (a symlink fails with `.symlink`), fstat()s
    /// the OPENED file and reads at most `maxBytes + 1` bytes, so that the
    /// caller can tell a file that is too big from one that fits exactly.
    func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> (FileMetadata, [UInt8])
    /// Names (not paths) of the entries of a directory, excluding "." and "..", in any order.
    func directoryEntries(atPath path: String) throws(FileSystemError) -> [String]
}

/// A file system held in memory, for tests and dry runs.
///
/// Paths are absolute and taken literally: symlinks are recorded but never
/// followed, which is all the loader needs since it refuses them. Parent
/// directories are created on demand as root-owned 0755.
public final class InMemoryPolicyFileSystem: PolicyFileSystem {
    /// One stored object.
    private struct Node {
        var metadata: FileMetadata
        var contents: [UInt8] = []
        var isReadable = true
    }

    /// Keyed by the path's bytes, as the kernel compares them: String keys would make
    /// canonically equivalent names ("caf\u{E9}", "cafe\u{301}") one file.
    private var nodes: [[UInt8]: Node] = [:]
    private var nextInode: UInt64 = 1

    /// Creates a file system holding only "/", owned by root with mode 0755.
    public init() {
        nodes[Array("/".utf8)] = Node(metadata: FileMetadata(kind: .directory, owner: 0, group: 0, mode: 0o755, device: 1, inode: takeInode()))
    }

    /// Adds (or replaces) a directory.
    public func addDirectory(_ path: String, owner: UInt32 = 0, group: UInt32 = 0, mode: UInt32 = 0o755, readable: Bool = true) {
        add(path, kind: .directory, owner: owner, group: group, mode: mode, contents: [], readable: readable)
    }

    /// Adds (or replaces) a regular file with UTF-8 `contents`.
    public func addFile(_ path: String, contents: String, owner: UInt32 = 0, group: UInt32 = 0, mode: UInt32 = 0o644, readable: Bool = true) {
        addFile(path, bytes: Array(contents.utf8), owner: owner, group: group, mode: mode, readable: readable)
    }

    /// Adds (or replaces) a regular file with raw `bytes`.
    public func addFile(_ path: String, bytes: [UInt8], owner: UInt32 = 0, group: UInt32 = 0, mode: UInt32 = 0o644, readable: Bool = true) {
        add(path, kind: .regular, owner: owner, group: group, mode: mode, contents: bytes, readable: readable)
    }

    /// Adds (or replaces) a symlink; `target` is kept only as the link's contents.
    public func addSymlink(_ path: String, target: String, owner: UInt32 = 0) {
        add(path, kind: .symlink, owner: owner, group: 0, mode: 0o777, contents: Array(target.utf8), readable: true)
    }

    /// Adds `path` as a hard link to the existing file `existing` (same device and inode).
    public func addHardLink(_ path: String, to existing: String) {
        guard let node = nodes[Array(existing.utf8)] else { preconditionFailure("no such file: \(existing)") }
        createParents(of: path)
        nodes[Array(path.utf8)] = node
    }

    public func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata {
        guard let node = nodes[Array(path.utf8)] else { throw FileSystemError(.notFound) }
        return node.metadata
    }

    public func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> (FileMetadata, [UInt8]) {
        guard let node = nodes[Array(path.utf8)] else { throw FileSystemError(.notFound) }
        switch node.metadata.kind {
        case .symlink: throw FileSystemError(.symlink)
        case .directory: throw FileSystemError(.isADirectory)
        case .regular, .other: break
        }
        guard node.isReadable else { throw FileSystemError(.permissionDenied) }
        return (node.metadata, Array(node.contents.prefix(maxBytes + 1)))
    }

    public func directoryEntries(atPath path: String) throws(FileSystemError) -> [String] {
        guard let node = nodes[Array(path.utf8)] else { throw FileSystemError(.notFound) }
        guard node.metadata.kind == .directory else { throw FileSystemError(.notADirectory) }
        guard node.isReadable else { throw FileSystemError(.permissionDenied) }
        let prefix = Array((path == "/" ? "/" : path + "/").utf8)
        return nodes.keys.compactMap { key in
            guard key.count > prefix.count, key.starts(with: prefix) else { return nil }
            let name = key[prefix.count...]
            return name.contains(UInt8(ascii: "/")) ? nil : String(decoding: name, as: UTF8.self)
        }
    }

    /// Stores a node at `path`, creating missing parents.
    private func add(_ path: String, kind: FileKind, owner: UInt32, group: UInt32, mode: UInt32, contents: [UInt8], readable: Bool) {
        precondition(path.hasPrefix("/"), "in-memory paths are absolute")
        createParents(of: path)
        let metadata = FileMetadata(kind: kind, owner: owner, group: group, mode: mode, device: 1, inode: takeInode())
        nodes[Array(path.utf8)] = Node(metadata: metadata, contents: contents, isReadable: readable)
    }

    /// Creates root-owned 0755 directories for every missing ancestor of `path`.
    private func createParents(of path: String) {
        var parent: [UInt8] = []
        for component in path.utf8.split(separator: UInt8(ascii: "/")).dropLast() {
            parent += [UInt8(ascii: "/")] + component
            if nodes[parent] == nil {
                nodes[parent] = Node(metadata: FileMetadata(kind: .directory, owner: 0, group: 0, mode: 0o755, device: 1, inode: takeInode()))
            }
        }
    }

    /// A fresh inode number.
    private func takeInode() -> UInt64 {
        defer { nextInode += 1 }
        return nextInode
    }
}
