/* Logs every swift_task_alloc / swift_task_dealloc of a process (LD_PRELOAD), with the task and
 * the code that asked, for task_frames.py: which async frames a suspended call keeps.
 *
 *   cc -O2 -shared -fPIC -o /tmp/task_alloc_trace.so Benchmarks/profiling/task_alloc_trace.c \
 *      -ldl -L/opt/swift/usr/lib/swift/linux -lswift_Concurrency
 *   TASK_ALLOC_LOG=/tmp/frames.log LD_PRELOAD=/tmp/task_alloc_trace.so conductor-bench ...
 *
 * Lines: "A <pointer> <bytes> <task> <object>+<offset>" and "D <pointer> <task> <object>+<offset>".
 * The caller of swift_task_alloc is the function that allocates its callee's frame, so a line
 * names the caller and gives the callee's frame size.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

extern void *swift_task_getCurrent(void);

static void *(*real_alloc)(size_t);
static void (*real_dealloc)(void *);
static FILE *log_file;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    real_alloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "swift_task_alloc");
    real_dealloc = (void (*)(void *))dlsym(RTLD_NEXT, "swift_task_dealloc");
    const char *path = getenv("TASK_ALLOC_LOG");
    log_file = fopen(path ? path : "/tmp/task_alloc.log", "w");
    if (!real_alloc || !real_dealloc || !log_file) abort();
}

static void write_site(void *address) {
    Dl_info info;
    if (dladdr(address, &info) && info.dli_fname) {
        fprintf(log_file, " %s+0x%lx\n", info.dli_fname, (unsigned long)((char *)address - (char *)info.dli_fbase));
    } else {
        fprintf(log_file, " %p\n", address);
    }
}

void *swift_task_alloc(size_t size) {
    pthread_once(&once, init);
    void *pointer = real_alloc(size);
    pthread_mutex_lock(&lock);
    fprintf(log_file, "A %p %zu %p", pointer, size, swift_task_getCurrent());
    write_site(__builtin_return_address(0));
    pthread_mutex_unlock(&lock);
    return pointer;
}

void swift_task_dealloc(void *pointer) {
    pthread_once(&once, init);
    pthread_mutex_lock(&lock);
    fprintf(log_file, "D %p %p", pointer, swift_task_getCurrent());
    write_site(__builtin_return_address(0));
    pthread_mutex_unlock(&lock);
    real_dealloc(pointer);
}
