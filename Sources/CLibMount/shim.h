// CLibMount: the libmount (util-linux) surface pus-mount uses, resolved with dlopen(3) on first use instead of
// linked, as libcurl (CCurl) and libcrypto (COpenSSL) are.
//
// Workaround, deliberate: a warm attach, a detach or a status mounts nothing and parses the mount table itself
// (MountTable.parse), yet a linked libmount (with libblkid, libselinux and libpcre2) is mapped and relocated at
// every exec. The mount and unmount children open it when they make their first context. Loading is
// thread-safe (pthread_once). Every entry point here is pus_-prefixed with libmount's own signature and loads
// the library itself: Swift emits a header's inline functions into each object file that calls them, each
// with its own copy of the static table, so a load done through one file's copy is not seen by another's.
// When the library cannot be loaded a call returns NULL, 0 (dev_t) or -ELIBACC (pus_mnt_load_error says why).
#ifndef PUS_CLIBMOUNT_SHIM_H
#define PUS_CLIBMOUNT_SHIM_H
#include <dlfcn.h>
#include <errno.h>
#include <libmount/libmount.h>
#include <pthread.h>
#include <stddef.h>

struct pus_mnt_api {
    int loaded;
    const char *error;
    __typeof__(mnt_context_disable_mtab) *context_disable_mtab;
    __typeof__(mnt_context_enable_fake) *context_enable_fake;
    __typeof__(mnt_context_enable_lazy) *context_enable_lazy;
    __typeof__(mnt_context_get_excode) *context_get_excode;
    __typeof__(mnt_context_get_helper_status) *context_get_helper_status;
    __typeof__(mnt_context_get_syscall_errno) *context_get_syscall_errno;
    __typeof__(mnt_context_helper_executed) *context_helper_executed;
    __typeof__(mnt_context_mount) *context_mount;
    __typeof__(mnt_context_set_fstype) *context_set_fstype;
    __typeof__(mnt_context_set_options) *context_set_options;
    __typeof__(mnt_context_set_source) *context_set_source;
    __typeof__(mnt_context_set_target) *context_set_target;
    __typeof__(mnt_context_syscall_called) *context_syscall_called;
    __typeof__(mnt_context_umount) *context_umount;
    __typeof__(mnt_free_context) *free_context;
    __typeof__(mnt_free_iter) *free_iter;
    __typeof__(mnt_fs_get_devno) *fs_get_devno;
    __typeof__(mnt_fs_get_fs_options) *fs_get_fs_options;
    __typeof__(mnt_fs_get_fstype) *fs_get_fstype;
    __typeof__(mnt_fs_get_id) *fs_get_id;
    __typeof__(mnt_fs_get_parent_id) *fs_get_parent_id;
    __typeof__(mnt_fs_get_root) *fs_get_root;
    __typeof__(mnt_fs_get_source) *fs_get_source;
    __typeof__(mnt_fs_get_target) *fs_get_target;
    __typeof__(mnt_fs_get_vfs_options) *fs_get_vfs_options;
    __typeof__(mnt_new_context) *new_context;
    __typeof__(mnt_new_iter) *new_iter;
    __typeof__(mnt_new_table) *new_table;
    __typeof__(mnt_table_next_fs) *table_next_fs;
    __typeof__(mnt_table_parse_file) *table_parse_file;
    __typeof__(mnt_unref_table) *unref_table;
};

/// The resolved entry points (a function-local static: Swift's importer does not emit a header's statics).
static inline struct pus_mnt_api *pus_mnt_table(void) {
    static struct pus_mnt_api table;
    return &table;
}

static inline void pus_mnt_load_once(void) {
    struct pus_mnt_api *a = pus_mnt_table();
    void *h = dlopen("libmount.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) { a->error = dlerror(); return; }
#define PUS_MNT_SYM(field, name) *(void **)(&a->field) = dlsym(h, name); if (!a->field) { a->error = dlerror(); return; }
    PUS_MNT_SYM(context_disable_mtab, "mnt_context_disable_mtab")
    PUS_MNT_SYM(context_enable_fake, "mnt_context_enable_fake")
    PUS_MNT_SYM(context_enable_lazy, "mnt_context_enable_lazy")
    PUS_MNT_SYM(context_get_excode, "mnt_context_get_excode")
    PUS_MNT_SYM(context_get_helper_status, "mnt_context_get_helper_status")
    PUS_MNT_SYM(context_get_syscall_errno, "mnt_context_get_syscall_errno")
    PUS_MNT_SYM(context_helper_executed, "mnt_context_helper_executed")
    PUS_MNT_SYM(context_mount, "mnt_context_mount")
    PUS_MNT_SYM(context_set_fstype, "mnt_context_set_fstype")
    PUS_MNT_SYM(context_set_options, "mnt_context_set_options")
    PUS_MNT_SYM(context_set_source, "mnt_context_set_source")
    PUS_MNT_SYM(context_set_target, "mnt_context_set_target")
    PUS_MNT_SYM(context_syscall_called, "mnt_context_syscall_called")
    PUS_MNT_SYM(context_umount, "mnt_context_umount")
    PUS_MNT_SYM(free_context, "mnt_free_context")
    PUS_MNT_SYM(free_iter, "mnt_free_iter")
    PUS_MNT_SYM(fs_get_devno, "mnt_fs_get_devno")
    PUS_MNT_SYM(fs_get_fs_options, "mnt_fs_get_fs_options")
    PUS_MNT_SYM(fs_get_fstype, "mnt_fs_get_fstype")
    PUS_MNT_SYM(fs_get_id, "mnt_fs_get_id")
    PUS_MNT_SYM(fs_get_parent_id, "mnt_fs_get_parent_id")
    PUS_MNT_SYM(fs_get_root, "mnt_fs_get_root")
    PUS_MNT_SYM(fs_get_source, "mnt_fs_get_source")
    PUS_MNT_SYM(fs_get_target, "mnt_fs_get_target")
    PUS_MNT_SYM(fs_get_vfs_options, "mnt_fs_get_vfs_options")
    PUS_MNT_SYM(new_context, "mnt_new_context")
    PUS_MNT_SYM(new_iter, "mnt_new_iter")
    PUS_MNT_SYM(new_table, "mnt_new_table")
    PUS_MNT_SYM(table_next_fs, "mnt_table_next_fs")
    PUS_MNT_SYM(table_parse_file, "mnt_table_parse_file")
    PUS_MNT_SYM(unref_table, "mnt_unref_table")
#undef PUS_MNT_SYM
    a->loaded = 1;
}

/// Opens libmount.so.1 once (any thread); 0 when every entry point resolved, else -1 (pus_mnt_load_error).
static inline int pus_mnt_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pus_mnt_load_once);
    return pus_mnt_table()->loaded ? 0 : -1;
}

/// Why the load failed (dlerror's text), or NULL.
static inline const char *pus_mnt_load_error(void) { return pus_mnt_table()->error; }

static inline int pus_mnt_context_disable_mtab(struct libmnt_context *cxt, int disable) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_disable_mtab(cxt, disable) : -ELIBACC; }
static inline int pus_mnt_context_enable_fake(struct libmnt_context *cxt, int enable) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_enable_fake(cxt, enable) : -ELIBACC; }
static inline int pus_mnt_context_enable_lazy(struct libmnt_context *cxt, int enable) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_enable_lazy(cxt, enable) : -ELIBACC; }
static inline int pus_mnt_context_get_excode(struct libmnt_context *cxt, int rc, char *buf, size_t bufsz) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_get_excode(cxt, rc, buf, bufsz) : -ELIBACC; }
static inline int pus_mnt_context_get_helper_status(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_get_helper_status(cxt) : -ELIBACC; }
static inline int pus_mnt_context_get_syscall_errno(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_get_syscall_errno(cxt) : -ELIBACC; }
static inline int pus_mnt_context_helper_executed(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_helper_executed(cxt) : -ELIBACC; }
static inline int pus_mnt_context_mount(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_mount(cxt) : -ELIBACC; }
static inline int pus_mnt_context_set_fstype(struct libmnt_context *cxt, const char *fstype) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_set_fstype(cxt, fstype) : -ELIBACC; }
static inline int pus_mnt_context_set_options(struct libmnt_context *cxt, const char *optstr) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_set_options(cxt, optstr) : -ELIBACC; }
static inline int pus_mnt_context_set_source(struct libmnt_context *cxt, const char *source) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_set_source(cxt, source) : -ELIBACC; }
static inline int pus_mnt_context_set_target(struct libmnt_context *cxt, const char *target) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_set_target(cxt, target) : -ELIBACC; }
static inline int pus_mnt_context_syscall_called(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_syscall_called(cxt) : -ELIBACC; }
static inline int pus_mnt_context_umount(struct libmnt_context *cxt) { return pus_mnt_load() == 0 ? pus_mnt_table()->context_umount(cxt) : -ELIBACC; }
static inline void pus_mnt_free_context(struct libmnt_context *cxt) { if (pus_mnt_load() == 0) pus_mnt_table()->free_context(cxt); }
static inline void pus_mnt_free_iter(struct libmnt_iter *itr) { if (pus_mnt_load() == 0) pus_mnt_table()->free_iter(itr); }
static inline dev_t pus_mnt_fs_get_devno(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_devno(fs) : 0; }
static inline const char *pus_mnt_fs_get_fs_options(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_fs_options(fs) : NULL; }
static inline const char *pus_mnt_fs_get_fstype(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_fstype(fs) : NULL; }
static inline int pus_mnt_fs_get_id(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_id(fs) : -ELIBACC; }
static inline int pus_mnt_fs_get_parent_id(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_parent_id(fs) : -ELIBACC; }
static inline const char *pus_mnt_fs_get_root(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_root(fs) : NULL; }
static inline const char *pus_mnt_fs_get_source(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_source(fs) : NULL; }
static inline const char *pus_mnt_fs_get_target(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_target(fs) : NULL; }
static inline const char *pus_mnt_fs_get_vfs_options(struct libmnt_fs *fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->fs_get_vfs_options(fs) : NULL; }
static inline struct libmnt_context *pus_mnt_new_context(void) { return pus_mnt_load() == 0 ? pus_mnt_table()->new_context() : NULL; }
static inline struct libmnt_iter *pus_mnt_new_iter(int direction) { return pus_mnt_load() == 0 ? pus_mnt_table()->new_iter(direction) : NULL; }
static inline struct libmnt_table *pus_mnt_new_table(void) { return pus_mnt_load() == 0 ? pus_mnt_table()->new_table() : NULL; }
static inline int pus_mnt_table_next_fs(struct libmnt_table *tb, struct libmnt_iter *itr, struct libmnt_fs **fs) { return pus_mnt_load() == 0 ? pus_mnt_table()->table_next_fs(tb, itr, fs) : -ELIBACC; }
static inline int pus_mnt_table_parse_file(struct libmnt_table *tb, const char *filename) { return pus_mnt_load() == 0 ? pus_mnt_table()->table_parse_file(tb, filename) : -ELIBACC; }
static inline void pus_mnt_unref_table(struct libmnt_table *tb) { if (pus_mnt_load() == 0) pus_mnt_table()->unref_table(tb); }
#endif
