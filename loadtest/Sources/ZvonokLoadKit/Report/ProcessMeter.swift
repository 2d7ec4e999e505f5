import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a process's CPU time and resident memory from `/proc` (Linux), so that figures such as server CPU per
/// delivery do not depend on how fast the load generator is.
public struct ProcessMeter: Sendable {
    public let pid: Int32

    public init(pid: Int32) {
        self.pid = pid
    }

    public static var current: ProcessMeter { ProcessMeter(pid: getpid()) }

    /// User plus system CPU seconds of the whole process (all threads), or nil when `/proc` cannot tell.
    public func cpuSeconds() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory in bytes (`VmRSS`), or nil.
    public func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kib = Int(parts[1]) { return kib * 1024 }
        }
        return nil
    }
}

/// Raises this process's open-file limit to its hard limit (each connection is one file); returns the new limit.
@discardableResult
public func raiseOpenFileLimit() -> Int {
    #if canImport(Glibc)
    var limit = rlimit()
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    guard getrlimit(resource, &limit) == 0 else { return -1 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
        _ = getrlimit(resource, &limit)
    }
    return Int(clamping: limit.rlim_cur)
    #else
    return -1
    #endif
}
