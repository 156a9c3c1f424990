/* One durable write of a small file in a single call: atoll's native helper.
 *
 * Called through ctypes from a worker thread, which releases the GIL for the whole call. Done
 * from Python, each of these system calls gives the GIL back and must win it again from the busy
 * event loop (up to the 5 ms switch interval each); here the sequence costs one hand-over.
 * Built by scripts/setup (cc -O2 -shared -fPIC); storage/native.py loads it, and the store falls
 * back to the same steps in Python when it is missing.
 *
 * Steps: create the temp file (it must not exist), write all bytes, fsync, close; when the final
 * name's fan-out folders are not known to be durable, make them (upper, then leaf; an existing one
 * is fine); rename the temp file to its final name; fsync the leaf folder and, when the folders
 * were not known, the upper folder and the root too (a folder that exists may have been made by a
 * write that has not synced its entry yet). On failure the errno is returned and *step says which
 * step failed (from RENAME on, the temp file is gone; from OPEN_DIR on, the final file exists).
 * Every file descriptor opened here is closed here, also on failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Raised whenever the signature or the meaning of a step changes; native.py checks it. */
#define ATOLL_DURABLE_ABI 2

enum step { STEP_OPEN = 1, STEP_WRITE, STEP_SYNC, STEP_CLOSE, STEP_MKDIR, STEP_RENAME,
            STEP_OPEN_DIR, STEP_SYNC_DIR, STEP_CLOSE_DIR };

int atoll_durable_abi(void) { return ATOLL_DURABLE_ABI; }

/* Record the step that failed and return its errno. */
static int failed(int *step, enum step at) {
    int code = errno ? errno : EIO;
    *step = at;
    return code;
}

static int open_retrying(const char *path, int flags, mode_t mode) {
    int fd;
    do {
        fd = open(path, flags, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

/* Positional writes until everything is written (a short write resumes where it stopped). */
static int write_all(int fd, const char *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Close after a failure: the first errno is the one reported. */
static int close_after(int fd, int code) {
    close(fd);
    return code;
}

/* Make a folder unless it exists; 0, or -1 on failure. */
static int make_folder(const char *path) {
    return mkdir(path, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* fsync a folder (its entries); the step is set on failure. */
static int sync_folder(const char *path, int *step) {
    int fd = open_retrying(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0)
        return failed(step, STEP_OPEN_DIR);
    if (fsync(fd) != 0)
        return close_after(fd, failed(step, STEP_SYNC_DIR));
    if (close(fd) != 0)
        return failed(step, STEP_CLOSE_DIR);
    return 0;
}

/* upper and root are NULL when the folders are known to be durable. */
int atoll_durable_write(const char *temp, const char *final, const char *leaf, const char *upper,
                        const char *root, const char *buf, size_t len, int *step) {
    int code, fd = open_retrying(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    int unknown = upper != NULL && root != NULL;
    if (fd < 0)
        return failed(step, STEP_OPEN);
    if (write_all(fd, buf, len) != 0)
        return close_after(fd, failed(step, STEP_WRITE));
    if (fsync(fd) != 0)
        return close_after(fd, failed(step, STEP_SYNC));
    if (close(fd) != 0) /* Linux releases the fd even then: never closed twice */
        return failed(step, STEP_CLOSE);
    if (unknown && (make_folder(upper) != 0 || make_folder(leaf) != 0))
        return failed(step, STEP_MKDIR);
    if (rename(temp, final) != 0)
        return failed(step, STEP_RENAME);
    if ((code = sync_folder(leaf, step)) != 0)
        return code;
    if (unknown && ((code = sync_folder(upper, step)) != 0 || (code = sync_folder(root, step)) != 0))
        return code;
    *step = 0;
    return 0;
}
