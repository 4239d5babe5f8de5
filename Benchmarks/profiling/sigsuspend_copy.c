// LD_PRELOAD aid for profiling Swift programs with valgrind 3.19 (Debian 12): libdispatch calls
// sigsuspend() with a mask in read-only memory, and valgrind's rt_sigsuspend wrapper writes to that
// mask, which kills valgrind ("VALGRIND INTERNAL ERROR: signal 11"). This sigsuspend passes a
// writable copy instead. Build and use (see "Profiling our client" in Benchmarks/README.md):
//   cc -O2 -shared -fPIC -o /tmp/sigsuspend_copy.so Benchmarks/profiling/sigsuspend_copy.c
//   LD_PRELOAD=/tmp/sigsuspend_copy.so valgrind --tool=callgrind PROGRAM ARGS...
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
