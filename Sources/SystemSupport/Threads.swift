import Glibc

/// Detached POSIX threads and a counting semaphore, for the few places that must not wait on one another
/// (health probes of many mounts, any of which may hang in the kernel).
public enum Threads {
    private final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new detached thread (pthread_create with PTHREAD_CREATE_DETACHED). Returns false when
    /// the thread could not be created (the caller then runs the work itself or reports it).
    @discardableResult
    public static func detach(stackSize: Int = 256 << 10, _ body: @escaping @Sendable () -> Void) -> Bool {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attr, stackSize)
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, &attr,
            { raw in
                let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                b.body()
                return nil
            }, box)
        if rc != 0 { Unmanaged<Box>.fromOpaque(box).release() }
        return rc == 0
    }
}

/// A counting semaphore (sem_init/sem_wait/sem_post) with a stable address.
public final class Semaphore: @unchecked Sendable {
    private let sem: UnsafeMutablePointer<sem_t>

    public init(_ value: UInt32) {
        sem = .allocate(capacity: 1)
        sem_init(sem, 0, value)
    }

    /// sem_wait, retrying EINTR.
    public func wait() { _ = Syscalls.retryingInterrupts { sem_wait(sem) } }
    /// sem_post.
    public func signal() { sem_post(sem) }

    deinit {
        sem_destroy(sem)
        sem.deallocate()
    }
}

/// The result of work started on another thread, collected with ``wait()``.
public final class Pending<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = Semaphore(0)

    /// Starts `work` on a detached thread; when no thread can be created it runs right here.
    public init(_ work: @escaping @Sendable () throws -> T) {
        let started = Threads.detach { [self] in
            result = Result { try work() }
            done.signal()
        }
        if !started {
            result = Result { try work() }
            done.signal()
        }
    }

    /// Waits for the work and returns its value (or rethrows its error).
    public func wait() throws -> T {
        done.wait()
        done.signal()
        return try result!.get()
    }
}
