// SystemCall.swift - the one place where EINTR is retried and return conventions are turned into throws.
import Glibc

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
