// FileReplacement.swift - replacing a file whole, so readers see the old or the new one, never
// a mix; and the wall clock file times are compared with. Used by netfd-policy, not the helper.
// syscalls: openat(O_CREAT|O_EXCL|O_NOFOLLOW), fchmod, write, fsync, renameat, unlinkat, close,
// clock_gettime, clock_nanosleep
import Glibc

public enum FileReplacement {
    /// Writes `bytes` to a new file beside `path` with `mode` (whatever the umask), syncs it and
    /// renames it over `path`. On failure the new file is removed and `path` is left as it was.
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws(Errno) {
        var attempt = 0
        var temporary: String
        var file: FileDescriptor
        // O_EXCL on a fresh name: never write through something another process put in place.
        while true {
            temporary = "\(path).new.\(getpid()).\(attempt)"
            do {
                file = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, mode: mode)
                break
            } catch where error.rawValue == EEXIST && attempt < 100 {
                attempt += 1
            }
        }
        do throws(Errno) {
            _ = try systemCall { fchmod(file.rawValue, mode) }
            try file.writeAll(bytes)
            _ = try systemCall { fsync(file.rawValue) }
            file.close()
            _ = try systemCall { rename(temporary, path) }
        } catch {
            file.close()
            unlink(temporary)
            throw error
        }
    }

    /// CLOCK_REALTIME now: the clock the kernel stamps file times with.
    public static func now() -> (seconds: Int64, nanoseconds: UInt32) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return (Int64(time.tv_sec), UInt32(time.tv_nsec))
    }

    /// Sleeps for `nanoseconds` (whole, despite signals).
    public static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && Errno.current == .interrupted { request = remaining }
    }
}
