// Poll.swift - waiting until one of several descriptors has something to say.
// syscalls: poll (x86_64; glibc uses ppoll where there is no poll syscall, e.g. aarch64)
import Glibc

/// Waiting on descriptors.
public enum Poll {
    /// Waits until at least one of `descriptors` is readable or hung up, or `timeoutMilliseconds`
    /// pass (-1: no limit; 0: just look). Readable includes end of file, a pidfd whose process
    /// exited, and a pending error (POLLERR: the next read reports it).
    /// - Returns: for each descriptor, in order, whether it is readable or hung up now; all false
    ///   when the time ran out.
    /// - Throws: EBADF when one of `descriptors` is not open (POLLNVAL); EINVAL for too many.
    ///   EINTR restarts the wait with the whole timeout (systemCall), so a signal can lengthen it.
    public static func wait(_ descriptors: [FileDescriptor], timeoutMilliseconds: Int32) throws(Errno) -> [Bool] {
        var entries = [pollfd]()
        entries.reserveCapacity(descriptors.count)
        for descriptor in descriptors {
            entries.append(pollfd(fd: descriptor.rawValue, events: Int16(POLLIN), revents: 0))
        }
        let count = nfds_t(entries.count)
        _ = try systemCall { entries.withUnsafeMutableBufferPointer { poll($0.baseAddress, count, timeoutMilliseconds) } }
        let ready = Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)
        var result = [Bool]()
        result.reserveCapacity(entries.count)
        for entry in entries {
            if entry.revents & Int16(POLLNVAL) != 0 { throw Errno.badDescriptor }
            result.append(entry.revents & ready != 0)
        }
        return result
    }
}
