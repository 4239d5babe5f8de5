#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value that is only reachable while holding a `pthread_mutex_t`.
///
/// Why not `Synchronization.Mutex`: on Linux it is built on priority-inheritance futexes, where the
/// kernel hands the lock over without any user-space atomic that ThreadSanitizer can observe, so
/// every contended critical section is reported as a data race (`swift test --sanitize=thread`).
/// ThreadSanitizer intercepts `pthread_mutex_lock`, and the uncontended cost is the same (≈8 ns for a
/// lock/unlock pair on the development machine), so this lock keeps the module sanitizer-clean.
///
/// The value and the mutex share one heap allocation (a `ManagedBuffer`), so neither ever moves.
@usableFromInline
package struct Locked<State> {
    @usableFromInline
    final class Storage: ManagedBuffer<State, pthread_mutex_t> {
        deinit {
            withUnsafeMutablePointerToElements { mutex in
                _ = pthread_mutex_destroy(mutex)
            }
        }
    }

    @usableFromInline
    let storage: Storage

    package init(_ initialState: State) {
        storage = unsafeDowncast(Storage.create(minimumCapacity: 1) { _ in initialState }, to: Storage.self)
        storage.withUnsafeMutablePointerToElements { mutex in
            let status = pthread_mutex_init(mutex, nil)
            precondition(status == 0, "pthread_mutex_init failed with \(status)")
        }
    }

    /// Runs `body` with exclusive access to the state. `body` must not call back into this lock.
    @inlinable
    package func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try storage.withUnsafeMutablePointers { state, mutex in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&state.pointee)
        }
    }
}

/// Every access to the state goes through `withLock`, which serializes it; the state itself must be
/// `Sendable` because values read from it leave the lock.
extension Locked: @unchecked Sendable where State: Sendable {}
