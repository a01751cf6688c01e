// Kinds.swift - `netfd-bench kinds`: native requests (macvtap, 4-queue tap, raw socket) timed as
// an emulator would see them, and the reference for a macvtap: `ip link add ... type macvtap`
// plus the open of /dev/tapN, spawned and timed the same way.
import CNetFD
import Glibc
import NetFDSystem

/// One native request: spawn `HELPER request --fd=N WORDS...`, receive the reply and every
/// descriptor, reap the helper. Returns the time, the reply and the descriptors.
func requestOnce(helper: String, options: [String], words: [String]) -> (nanoseconds: UInt64, reply: String, descriptors: [FileDescriptor], status: Int32) {
    let (parent, child) = handoffPair()
    let start = now()
    var pid: pid_t = 0
    let spawned = withCArguments([helper, "request", "--fd=\(child.rawValue)"] + options + words) { argv in
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        return posix_spawn(&pid, helper, nil, nil, argv, &environment)
    }
    guard spawned == 0 else { fatal("could not spawn \(helper): \(Errno(spawned))") }
    child.close()
    let message = try? parent.receiveMessage(maxDescriptors: 253, maxBytes: 4096)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = now() - start
    parent.close()
    return (elapsed, String(decoding: message?.bytes ?? [], as: UTF8.self), message?.descriptors ?? [], status)
}

/// Spawns `argv` (absolute path first) with an empty environment and reaps it; returns the wait status.
func runCommand(_ argv: [String]) -> Int32 {
    var pid: pid_t = 0
    let spawned = withCArguments(argv) { pointers in
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        return posix_spawn(&pid, argv[0], nil, nil, pointers, &environment)
    }
    guard spawned == 0 else { fatal("could not spawn \(argv[0]): \(Errno(spawned))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status
}

/// The value of `key` in a `netfd/1 ok` reply.
func replyField(_ reply: String, _ key: String) -> String? {
    for word in reply.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix(key + "=") {
        return String(word.dropFirst(key.count + 1))
    }
    return nil
}

/// `kinds`: interleaved rounds of the floor, netfd macvtap, the ip reference, a 4-queue tap and a
/// raw socket; the macvtaps are released (untimed) after each call so each call starts alike.
func kinds(_ options: Options, helper spec: String, link: String, ip: String) {
    // HELPER[,OPTION...]: options such as --policy=PATH go after `request --fd=N`.
    let parts = spec.split(separator: ",").map(String.init)
    let helper = parts[0], helperOptions = Array(parts.dropFirst())
    let labels = ["floor (/bin/true)", "netfd-helper kind=macvtap", "ip link add type macvtap + open",
                  "netfd-helper kind=tap queues=4", "netfd-helper kind=raw"]
    var samples = [[UInt64]](repeating: [], count: labels.count)
    func expectOK(_ result: (nanoseconds: UInt64, reply: String, descriptors: [FileDescriptor], status: Int32), _ label: String, fds: Int) {
        guard result.status == 0, result.reply.hasPrefix("netfd/1 ok "), result.descriptors.count == fds else {
            fatal("\(label): wait status \(result.status), reply \(result.reply.debugDescription), \(result.descriptors.count) fds")
        }
    }
    for round in 0..<(options.warmup + options.calls) {
        var times = [UInt64](repeating: 0, count: labels.count)
        // The floor.
        let start = now()
        guard runCommand(["/bin/true"]) == 0 else { fatal("/bin/true failed") }
        times[0] = now() - start
        // netfd-helper: a macvtap, then released by the same helper (untimed).
        let macvtap = requestOnce(helper: helper, options: helperOptions, words: ["kind=macvtap", "link=\(link)"])
        expectOK(macvtap, labels[1], fds: 1)
        times[1] = macvtap.nanoseconds
        macvtap.descriptors.forEach { $0.close() }
        guard let name = replyField(macvtap.reply, "name"), runCommand([helper, "release", name]) == 0 else {
            fatal("could not release the macvtap of \(macvtap.reply.debugDescription)")
        }
        if options.pauseMilliseconds > 0 { usleep(useconds_t(options.pauseMilliseconds * 1000)) }
        // The reference: ip creates it, then the emulator's side opens its node.
        let referenceStart = now()
        guard runCommand([ip, "link", "add", "link", link, "name", "nfbref", "type", "macvtap", "mode", "bridge"]) == 0 else {
            fatal("ip link add ... type macvtap failed")
        }
        let index = readSmallFile("/sys/class/net/nfbref/ifindex").flatMap { Int32($0.split(separator: "\n").first ?? "") }
        guard let index else { fatal("no ifindex for nfbref") }
        let node = open("/dev/tap\(index)", O_RDWR | O_CLOEXEC)
        times[2] = now() - referenceStart
        guard node >= 0 else { fatal("open /dev/tap\(index): \(Errno.current)") }
        close(node)
        guard runCommand([ip, "link", "del", "nfbref"]) == 0 else { fatal("ip link del nfbref failed") }
        if options.pauseMilliseconds > 0 { usleep(useconds_t(options.pauseMilliseconds * 1000)) }
        // A 4-queue tap on the bridge, and a raw socket.
        let tap = requestOnce(helper: helper, options: helperOptions, words: ["kind=tap", "bridge=\(options.bridge)", "queues=4"])
        expectOK(tap, labels[3], fds: 4)
        times[3] = tap.nanoseconds
        tap.descriptors.forEach { $0.close() }
        if options.pauseMilliseconds > 0 { usleep(useconds_t(options.pauseMilliseconds * 1000)) }
        let raw = requestOnce(helper: helper, options: helperOptions, words: ["kind=raw", "link=\(link)"])
        expectOK(raw, labels[4], fds: 1)
        times[4] = raw.nanoseconds
        raw.descriptors.forEach { $0.close() }
        if options.pauseMilliseconds > 0 { usleep(useconds_t(options.pauseMilliseconds * 1000)) }
        if round >= options.warmup { for index in labels.indices { samples[index].append(times[index]) } }
    }
    print("native kinds over \(options.calls) interleaved rounds (after \(options.warmup) warm-up), spawn -> reply and fds received -> exit reaped, ms")
    print(pad("", 34, right: false) + ["min", "median", "p90", "p99"].map { pad($0, 9) }.joined())
    for (index, label) in labels.enumerated() {
        let sorted = samples[index].sorted()
        let row = [sorted[0], percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99)].map { pad(ms($0), 9) }
        print(pad(label, 34, right: false) + row.joined())
        print("median-ns \(label) \(percentile(sorted, 50))")
    }
}
