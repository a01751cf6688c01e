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
    /// `st_size`.
    public var size: UInt64
    /// `st_mtim`: when the contents (for a directory: its entries) last changed.
    public var modified: FileTimestamp
    /// `st_ctim`: when the contents or the inode (owner, mode, links) last changed. No system call
    /// can set it back, which is why the compiled policy trusts it to notice edits.
    public var changed: FileTimestamp

    /// Creates metadata.
    public init(kind: FileKind, owner: UInt32, group: UInt32, mode: UInt32, device: UInt64, inode: UInt64,
                size: UInt64 = 0, modified: FileTimestamp = .zero, changed: FileTimestamp = .zero) {
        self.kind = kind
        self.owner = owner
        self.group = group
        self.mode = mode
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }
}

/// A file time as the kernel keeps it: seconds and nanoseconds since the epoch.
public struct FileTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public static let zero = FileTimestamp(seconds: 0, nanoseconds: 0)

    /// Creates a timestamp; `nanoseconds` must be below 1e9.
    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: FileTimestamp, rhs: FileTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// This time plus `seconds` whole seconds.
    public func adding(seconds extra: Int64) -> FileTimestamp {
        FileTimestamp(seconds: seconds + extra, nanoseconds: nanoseconds)
    }

    /// `SECONDS.NNNNNNNNN`.
    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
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

/// A file read whole, and what fstat() said of it once it was open.
///
/// A struct, not a tuple: a tuple this large is destroyed through runtime metadata that has to
/// be instantiated on first use, which showed in the helper's start-up (README, Performance).
public struct FileContents {
    public var metadata: FileMetadata
    public var bytes: [UInt8]
    public init(metadata: FileMetadata, bytes: [UInt8]) {
        self.metadata = metadata
        self.bytes = bytes
    }
}

/// A file opened for reads at chosen offsets, and what fstat() said of it (a struct, as above).
public struct OpenedFile {
    public var metadata: FileMetadata
    public var file: any RandomAccessFile
    public init(metadata: FileMetadata, file: any RandomAccessFile) {
        self.metadata = metadata
        self.file = file
    }
}

/// The file system operations the loader needs. The real implementation
/// lives outside this module (NetFDPolicy makes no system calls). Class-bound, as are the other
/// protocols the helper holds as existentials: its embedded build allows no others.
public protocol PolicyFileSystem: AnyObject {
    /// lstat: metadata of `path` without following a final symlink.
    func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata
    /// Opens `path` with O_NOFOLLOW (a symlink fails with `.symlink`), fstat()s
    /// the OPENED file and reads at most `maxBytes + 1` bytes, so that the
    /// caller can tell a file that is too big from one that fits exactly.
    func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> FileContents
    /// Names (not paths) of the entries of a directory, excluding "." and "..", in any order.
    func directoryEntries(atPath path: String) throws(FileSystemError) -> [String]
    /// Opens `path` as `readFile` does (O_NOFOLLOW, metadata of the opened file) for reads at
    /// chosen offsets. The default reads the whole file; real file systems read on demand.
    func openForRandomAccess(atPath path: String) throws(FileSystemError) -> OpenedFile
}

/// An open file read at chosen offsets (pread), for the compiled policy's records. Class-bound
/// (see `PolicyFileSystem`).
public protocol RandomAccessFile: AnyObject {
    /// Up to `count` bytes at `offset`; fewer only at the end of the file.
    func read(at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8]
}

/// File contents held in memory as a `RandomAccessFile`.
public final class InMemoryRandomAccessFile: RandomAccessFile {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        guard offset < UInt64(bytes.count), count > 0 else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}

extension PolicyFileSystem {
    /// Reads the whole file (up to 64 MiB) and serves reads from memory.
    public func openForRandomAccess(atPath path: String) throws(FileSystemError) -> OpenedFile {
        let contents = try readFile(atPath: path, maxBytes: 64 << 20)
        return OpenedFile(metadata: contents.metadata, file: InMemoryRandomAccessFile(contents.bytes))
    }
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
    /// The file system's clock: every change stamps the objects it changes with the next second.
    public private(set) var now = FileTimestamp(seconds: 1_700_000_000, nanoseconds: 0)

    /// Creates a file system holding only "/", owned by root with mode 0755.
    public init() {
        nodes[Array("/".utf8)] = Node(metadata: FileMetadata(kind: .directory, owner: 0, group: 0, mode: 0o755, device: 1,
                                                             inode: takeInode(), modified: now, changed: now))
    }

    /// Moves the clock on by `seconds` without changing anything.
    public func advanceClock(seconds: Int64) {
        now = now.adding(seconds: seconds)
    }

    /// Rewrites regular file `path` in place: same inode, new contents, size and times (an editor
    /// that writes in place, or `echo >>`).
    public func rewriteFile(_ path: String, contents: String) {
        guard var node = nodes[Array(path.utf8)], node.metadata.kind == .regular else { preconditionFailure("no such file: \(path)") }
        let time = tick()
        node.contents = Array(contents.utf8)
        node.metadata.size = UInt64(node.contents.count)
        node.metadata.modified = time
        node.metadata.changed = time
        nodes[Array(path.utf8)] = node
    }

    /// Changes owner and mode of `path` in place (chown/chmod: only the change time moves).
    public func changeAttributes(_ path: String, owner: UInt32? = nil, mode: UInt32? = nil) {
        guard var node = nodes[Array(path.utf8)] else { preconditionFailure("no such file: \(path)") }
        if let owner { node.metadata.owner = owner }
        if let mode { node.metadata.mode = mode }
        node.metadata.changed = tick()
        nodes[Array(path.utf8)] = node
    }

    /// Stamps `path` with `modified` and `changed` as they are, e.g. to make a change the clock
    /// cannot see (a clock set back).
    public func setTimes(_ path: String, modified: FileTimestamp, changed: FileTimestamp) {
        guard var node = nodes[Array(path.utf8)] else { preconditionFailure("no such file: \(path)") }
        node.metadata.modified = modified
        node.metadata.changed = changed
        nodes[Array(path.utf8)] = node
    }

    /// Removes `path` (no children check: tests remove files).
    public func remove(_ path: String) {
        nodes[Array(path.utf8)] = nil
        touchParent(of: path)
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
        touchParent(of: path)
    }

    public func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata {
        guard let node = nodes[Array(path.utf8)] else { throw FileSystemError(.notFound) }
        return node.metadata
    }

    public func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> FileContents {
        guard let node = nodes[Array(path.utf8)] else { throw FileSystemError(.notFound) }
        switch node.metadata.kind {
        case .symlink: throw FileSystemError(.symlink)
        case .directory: throw FileSystemError(.isADirectory)
        case .regular, .other: break
        }
        guard node.isReadable else { throw FileSystemError(.permissionDenied) }
        return FileContents(metadata: node.metadata, bytes: Array(node.contents.prefix(maxBytes + 1)))
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
        let time = tick()
        let metadata = FileMetadata(kind: kind, owner: owner, group: group, mode: mode, device: 1, inode: takeInode(),
                                    size: UInt64(contents.count), modified: time, changed: time)
        nodes[Array(path.utf8)] = Node(metadata: metadata, contents: contents, isReadable: readable)
        touchParent(of: path)
    }

    /// The clock's next second.
    private func tick() -> FileTimestamp {
        now = now.adding(seconds: 1)
        return now
    }

    /// Stamps the directory holding `path` as changed (an entry was added, replaced or removed).
    private func touchParent(of path: String) {
        var parent = Array(path.utf8)
        while let last = parent.last, last != UInt8(ascii: "/") { parent.removeLast() }
        if parent.count > 1 { parent.removeLast() }
        guard var node = nodes[parent] else { return }
        node.metadata.modified = now
        node.metadata.changed = now
        nodes[parent] = node
    }

    /// Creates root-owned 0755 directories for every missing ancestor of `path`.
    private func createParents(of path: String) {
        var parent: [UInt8] = []
        for component in path.utf8.split(separator: UInt8(ascii: "/")).dropLast() {
            parent += [UInt8(ascii: "/")] + component
            if nodes[parent] == nil {
                let time = tick()
                nodes[parent] = Node(metadata: FileMetadata(kind: .directory, owner: 0, group: 0, mode: 0o755, device: 1,
                                                            inode: takeInode(), modified: time, changed: time))
            }
        }
    }

    /// A fresh inode number.
    private func takeInode() -> UInt64 {
        defer { nextInode += 1 }
        return nextInode
    }
}
