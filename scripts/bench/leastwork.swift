// The least a durable warm attach has to do, as a floor for pus-mount's (BENCHMARKS.md, issue 17 item 6):
// read the config file, resolve the user through NSS, take the user's lock and the ledger's, read the ledger and
// the mount table, and write the ledger back by temp file + fsync + rename + directory fsync. No parsing beyond
// finding the user's entry, no policy, no checks: what is left is what any implementation pays.
// usage: leastwork CONFIG STATE_DIR USER
import Glibc

func readAll(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        out += buf[0..<n]
    }
    return out
}

func lock(_ path: String) -> Int32 {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    _ = flock(fd, LOCK_EX)
    return fd
}

let args = CommandLine.arguments
guard args.count == 4 else { exit(64) }
let (config, state, user) = (args[1], args[2], args[3])
let conf = readAll(config)
guard getpwnam(user) != nil else { exit(67) }
mkdir(state + "/locks", 0o700)
let userLock = lock(state + "/locks/\(user).lock")
let ledgerLock = lock(state + "/ledger.lock")
let ledger = readAll(state + "/ledger.json")
let mounts = readAll("/proc/self/mountinfo")
guard !conf.isEmpty, !mounts.isEmpty else { exit(66) }
// The ledger is written back as read: the cost is the durable write, not the edit of one entry.
let tmp = state + "/ledger.json.tmp"
let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
_ = ledger.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
fsync(fd)
close(fd)
rename(tmp, state + "/ledger.json")
let dir = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
fsync(dir)
close(dir)
close(ledgerLock)
close(userLock)
