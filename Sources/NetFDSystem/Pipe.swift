// Pipe.swift - an anonymous pipe, e.g. to learn when a process has gone (its end closes).
// syscalls: pipe2(O_CLOEXEC)
import CNetFD

/// An anonymous pipe.
public enum Pipe {
    /// pipe2(O_CLOEXEC): both ends close-on-exec; the caller owns and closes both. Once every
    /// copy of the write end is closed, the read end reports end of file (and `Poll.wait` sees it).
    /// - Throws: EMFILE/ENFILE when out of descriptors.
    public static func make() throws(Errno) -> (read: FileDescriptor, write: FileDescriptor) {
        var fds: (Int32, Int32) = (-1, -1)
        _ = try withUnsafeMutableBytes(of: &fds) { (raw) throws(Errno) -> Int32 in
            try shimCall { netfd_pipe(raw.baseAddress!.assumingMemoryBound(to: Int32.self)) }
        }
        return (FileDescriptor(rawValue: fds.0), FileDescriptor(rawValue: fds.1))
    }
}
