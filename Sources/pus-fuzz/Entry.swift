import Glibc
import SystemSupport

#if LIBFUZZER
    import CFuzz

    /// With libFuzzer (`-Xswiftc -sanitize=fuzzer -Xswiftc -DLIBFUZZER`, see scripts/fuzz.sh): libFuzzer's driver
    /// runs the target named by PUS_FUZZ_TARGET with libFuzzer's usual arguments.
    @main
    struct FuzzMain {
        static func main() {
            var argc = CommandLine.argc
            var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
            exit(
                LLVMFuzzerRunDriver(&argc, &argv) { data, size in
                    let name = getenv("PUS_FUZZ_TARGET").map { String(cString: $0) } ?? "xml"
                    guard let target = FuzzTargets.all[name] else { fatalError("unknown PUS_FUZZ_TARGET \(name)") }
                    target(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
                    return 0
                })
        }
    }
#else
    /// Without libFuzzer: `pus-fuzz TARGET CORPUS_DIR [SECONDS]` replays the corpus, then runs seeded random
    /// mutations of it for SECONDS (default 5) and prints how many inputs it ran.
    @main
    struct FuzzDriver {
        static func main() {
            let args = CommandLine.arguments
            guard args.count >= 3, let target = FuzzTargets.all[args[1]] else {
                print(
                    "usage: pus-fuzz TARGET CORPUS_DIR [SECONDS]   targets: \(FuzzTargets.all.keys.sorted().joined(separator: " "))"
                )
                exit(64)
            }
            let seconds = args.count > 3 ? Double(args[3]) ?? 5 : 5
            let corpus = ((try? Syscalls.directoryEntries(args[2])) ?? []).filter { !$0.hasPrefix(".") }.sorted()
                .compactMap { try? Syscalls.readFile(args[2] + "/" + $0) }
            for c in corpus { target(c) }
            var rng = SplitMix(seed: UInt64(getpid()) ^ 0x9e37_79b9_7f4a_7c15)
            var runs = corpus.count
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let end = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + seconds
            let dictionary: [[UInt8]] = [
                "<", ">", "</", "=", "\"", "\\", "%", "\n", " - ", "[", "]", "{", "}", ":", ",", "\0", "\\040",
            ].map { Array($0.utf8) }
            while true {
                clock_gettime(CLOCK_MONOTONIC, &ts)
                if Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 > end { break }
                var x = corpus.isEmpty ? [] : corpus[Int(rng.next() % UInt64(corpus.count))]
                for _ in 0..<(1 + Int(rng.next() % 8)) {
                    switch rng.next() % 6 {
                    case 0 where !x.isEmpty:
                        x[Int(rng.next() % UInt64(x.count))] = UInt8(truncatingIfNeeded: rng.next())
                    case 1:
                        x.insert(
                            UInt8(truncatingIfNeeded: rng.next()),
                            at: x.isEmpty ? 0 : Int(rng.next() % UInt64(x.count + 1)))
                    case 2 where !x.isEmpty: x.remove(at: Int(rng.next() % UInt64(x.count)))
                    case 3:
                        let d = dictionary[Int(rng.next() % UInt64(dictionary.count))]
                        x.insert(contentsOf: d, at: x.isEmpty ? 0 : Int(rng.next() % UInt64(x.count + 1)))
                    case 4 where x.count > 1:
                        let a = Int(rng.next() % UInt64(x.count))
                        x += x[a...]
                    default: x = Array(x.prefix(Int(rng.next() % UInt64(x.count + 1))))
                    }
                }
                target(x)
                runs += 1
            }
            print("pus-fuzz \(args[1]): \(runs) inputs (\(corpus.count) from the corpus), no crash")
        }
    }

    /// A small deterministic generator (SplitMix64).
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }
#endif
