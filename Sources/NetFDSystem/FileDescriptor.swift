// FileDescriptor.swift - an open file descriptor and the plain I/O on it.
// syscalls: openat, close, read, pread64, write, fstat, fcntl
import CNetFD
import Glibc

/// A raw file descriptor. Not closed automatically: the owner calls `close()`
/// exactly once (the request flow tracks ownership explicitly for rollback).
public struct FileDescriptor: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public var description: String { "fd \(rawValue)" }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    /// Opens `path` with `flags` (O_CLOEXEC is always added).
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(Errno) -> FileDescriptor {
        FileDescriptor(rawValue: try systemCall { netfd_open(path, flags | O_CLOEXEC, UInt32(mode)) })
    }

    /// Closes the descriptor. EINTR is not retried: on Linux the descriptor is gone either way.
    public func close() {
        _ = Glibc.close(rawValue)
    }

    /// Reads at most `count` bytes; an empty result means end of file.
    /// The buffer is not zero-filled first: only the bytes read are ever touched.
    public func read(upTo count: Int) throws(Errno) -> [UInt8] {
        var failure: Errno?
        let buffer = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            do throws(Errno) {
                initialized = try systemCall { Glibc.read(rawValue, buffer.baseAddress, count) }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return buffer
    }

    /// Reads at most `count` bytes at `offset` (pread: the file position is not used); fewer only
    /// at the end of the file, where a short read is retried until it returns nothing.
    public func read(at offset: UInt64, upTo count: Int) throws(Errno) -> [UInt8] {
        var failure: Errno?
        let buffer = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                do throws(Errno) {
                    let n = try systemCall {
                        pread(rawValue, buffer.baseAddress! + initialized, count - initialized, off_t(offset) + off_t(initialized))
                    }
                    if n == 0 { break }
                    initialized += n
                } catch {
                    failure = error
                    break
                }
            }
        }
        if let failure { throw failure }
        return buffer
    }

    /// Reads until end of file or until more than `limit` bytes were read (then returns limit+1 bytes).
    /// `expectedSize` (fstat's st_size, for a regular file) sizes the first read, so a file that
    /// does not change is read into one allocation by one read(2), plus the one that sees its end;
    /// the default suits pipes. Later reads grow with what was read, so a file that grew is still
    /// read whole.
    public func readAll(limit: Int, expectedSize: Int = 65535) throws(Errno) -> [UInt8] {
        var result = try read(upTo: min(max(expectedSize, 0), limit) + 1)
        guard !result.isEmpty else { return result }
        while result.count <= limit {
            // Small while the file is small: a 64 KiB buffer would move the heap's break up and back.
            let chunk = try read(upTo: min(max(4096, result.count), limit + 1 - result.count))
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    /// Writes all of `bytes`, looping over short writes.
    public func writeAll<C: Collection>(_ bytes: C) throws(Errno) where C.Element == UInt8 {
        var remaining = Array(bytes)[...]
        while !remaining.isEmpty {
            let n = try systemCall { remaining.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress, $0.count) } }
            remaining = remaining.dropFirst(n)
        }
    }

    /// Writes one datagram-like buffer in a single write() and returns the count written.
    public func writeOnce(_ bytes: [UInt8]) throws(Errno) -> Int {
        try systemCall { bytes.withUnsafeBytes { Glibc.write(rawValue, $0.baseAddress, $0.count) } }
    }

    /// fstat() of the open file.
    public func status() throws(Errno) -> FileStatus {
        var st = stat()
        _ = try systemCall { fstat(rawValue, &st) }
        return FileStatus(st)
    }

    /// Whether the descriptor is open in this process (fcntl F_GETFD).
    public var isOpen: Bool { netfd_descriptor_flags(rawValue) >= 0 }
}
