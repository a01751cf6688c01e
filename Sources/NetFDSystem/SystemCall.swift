// SystemCall.swift - the one place where EINTR is retried and return conventions are turned into throws.
import CNetFD
import Glibc

extension Errno {
    /// The calling thread's errno right now (through CNetFD: errno is a C macro, and the embedded
    /// build has no Glibc overlay to turn it into a variable).
    public static var current: Errno { Errno(netfd_errno()) }
}

/// Runs a libc call that returns -1 and sets errno on failure; retries on EINTR.
/// - Returns: the call's non-negative result.
@inline(__always)
public func systemCall<T: FixedWidthInteger>(_ body: () -> T) throws(Errno) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let error = Errno.current
        if error != .interrupted { throw error }
    }
}

/// Runs a C shim call that returns -errno on failure; retries on -EINTR.
/// - Returns: the call's non-negative result.
@inline(__always)
public func shimCall(_ body: () -> Int32) throws(Errno) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        if result != -EINTR { throw Errno(-result) }
    }
}
