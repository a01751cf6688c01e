// PolicyFiles.swift - the real file system as the policy loader sees it, and the user database.
// syscalls: openat(O_NOFOLLOW), fstat, newfstatat (lstat), read, pread64, getdents64, close
import Glibc
import NetFDPolicy
import NetFDSystem

/// `PolicyFileSystem` on the real file system. Files are opened with O_NOFOLLOW and their
/// owner and mode are taken from the opened descriptor, so a swapped path cannot slip through.
public final class LinuxPolicyFileSystem: PolicyFileSystem {
    public init() {}

    public func metadata(atPath path: String) throws(FileSystemError) -> FileMetadata {
        do { return Self.metadata(try FileStatus.ofLink(atPath: path)) } catch { throw Self.error(error) }
    }

    public func readFile(atPath path: String, maxBytes: Int) throws(FileSystemError) -> FileContents {
        let file: FileDescriptor
        do { file = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK) } catch { throw Self.error(error) }
        defer { file.close() }
        do {
            let status = try file.status()
            // Never read from a FIFO or device someone put in place of a policy file.
            guard status.kind == .regular else { return FileContents(metadata: Self.metadata(status), bytes: []) }
            return FileContents(metadata: Self.metadata(status), bytes: try file.readAll(limit: maxBytes, expectedSize: Int(clamping: status.size)))
        } catch {
            throw Self.error(error)
        }
    }

    public func openForRandomAccess(atPath path: String) throws(FileSystemError) -> OpenedFile {
        let file: FileDescriptor
        do { file = try FileDescriptor.open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK) } catch { throw Self.error(error) }
        do {
            let status = try file.status()
            guard status.kind == .regular else {
                file.close()
                return OpenedFile(metadata: Self.metadata(status), file: InMemoryRandomAccessFile([]))
            }
            return OpenedFile(metadata: Self.metadata(status), file: LinuxRandomAccessFile(file))
        } catch {
            file.close()
            throw Self.error(error)
        }
    }

    public func directoryEntries(atPath path: String) throws(FileSystemError) -> [String] {
        guard let directory = opendir(path) else { throw Self.error(Errno.current) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func metadata(_ status: FileStatus) -> FileMetadata {
        let kind: FileKind
        switch status.kind {
        case .regular: kind = .regular
        case .directory: kind = .directory
        case .symlink: kind = .symlink
        default: kind = .other
        }
        return FileMetadata(kind: kind, owner: status.owner, group: status.group, mode: status.permissions,
                            device: status.device, inode: status.inode, size: status.size,
                            modified: FileTimestamp(seconds: status.modified.seconds, nanoseconds: status.modified.nanoseconds),
                            changed: FileTimestamp(seconds: status.changed.seconds, nanoseconds: status.changed.nanoseconds))
    }

    static func error(_ errno: Errno) -> FileSystemError {
        let code: FileSystemError.Code
        switch errno.rawValue {
        case ENOENT: code = .notFound
        case EACCES, EPERM: code = .permissionDenied
        case ENOTDIR: code = .notADirectory
        case ELOOP: code = .symlink
        case EISDIR: code = .isADirectory
        default: code = .other
        }
        return FileSystemError(code, detail: errno.description)
    }
}

/// An open regular file read with pread; closed when the last reference goes.
final class LinuxRandomAccessFile: RandomAccessFile {
    private let descriptor: FileDescriptor

    init(_ descriptor: FileDescriptor) { self.descriptor = descriptor }
    deinit { descriptor.close() }

    func read(at offset: UInt64, count: Int) throws(FileSystemError) -> [UInt8] {
        do { return try descriptor.read(at: offset, upTo: count) } catch { throw LinuxPolicyFileSystem.error(error) }
    }
}

extension UserDatabase {
    /// /etc/passwd and /etc/group as they are now; an unreadable file counts as empty (names in the
    /// policy then resolve to nobody, numbers still work).
    public static func system(passwd: String = "/etc/passwd", group: String = "/etc/group") -> UserDatabase {
        func contents(_ path: String) -> [UInt8] {
            guard let file = try? FileDescriptor.open(path, O_RDONLY | O_NOCTTY) else { return [] }
            defer { file.close() }
            return (try? file.readAll(limit: 64 << 20)) ?? []
        }
        return UserDatabase(passwd: contents(passwd), group: contents(group))
    }
}

/// The system's user database, read from /etc/passwd and /etc/group on the first question only:
/// a policy of numeric IDs that allows the request never opens either file.
public final class SystemUserDirectory: UserDirectory {
    private let passwdPath: String
    private let groupPath: String
    private var database: UserDatabase?

    public init(passwd: String = "/etc/passwd", group: String = "/etc/group") {
        passwdPath = passwd
        groupPath = group
    }

    /// The database, read now if this is the first question.
    private var loaded: UserDatabase {
        if let database { return database }
        let database = UserDatabase.system(passwd: passwdPath, group: groupPath)
        self.database = database
        return database
    }

    public func userID(named name: String) -> UInt32? { loaded.userID(named: name) }
    public func groupID(named name: String) -> UInt32? { loaded.groupID(named: name) }
    public func userName(forID id: UInt32) -> String? { loaded.userName(forID: id) }
    public func groupName(forID id: UInt32) -> String? { loaded.groupName(forID: id) }
    public func primaryGroup(ofUserID id: UInt32) -> UInt32? { loaded.primaryGroup(ofUserID: id) }
    public func supplementaryGroups(ofUser name: String) -> [UInt32] { loaded.supplementaryGroups(ofUser: name) }
}
