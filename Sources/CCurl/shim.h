// CCurl: the libcurl surface pus-mount uses, resolved with dlopen(3) on first use instead of linked.
//
// Workarounds, both deliberate:
// 1. Loading libcurl at start-up costs about 6 ms on these machines (it pulls in some 30 libraries:
//    LDAP, Kerberos, RTMP, SSH, PSL...). Most invocations (a warm attach, detach, status) send no REST
//    request, so the library is opened only when the first transfer is prepared.
// 2. curl_easy_setopt / curl_easy_getinfo are variadic, which Swift cannot call: typed inline wrappers
//    call them through the variadic function pointers taken from dlsym.
// Every symbol here is prefixed pus_curl_.
#ifndef PUS_CCURL_SHIM_H
#define PUS_CCURL_SHIM_H
#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>

typedef size_t (*pus_curl_data_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

struct pus_curl_api {
    int loaded;
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char *(*version)(void);
};

/// The resolved entry points, a function-local static (Swift's importer does not emit a header's static
/// variables). pus_curl_load runs once, before any other thread uses the table (CurlTransport.load).
static inline struct pus_curl_api *pus_curl_table(void) {
    static struct pus_curl_api table;
    return &table;
}

/// dlopen("libcurl.so.4") and resolve every entry point once. Returns 0 on success, -1 when the library or a
/// symbol is missing (pus_curl_load_error() then says why).
static inline int pus_curl_load(void) {
    struct pus_curl_api *a = pus_curl_table();
    if (a->loaded) return 0;
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) return -1;
#define PUS_CURL_SYM(field, name) *(void **)(&a->field) = dlsym(h, name); if (!a->field) return -1;
    PUS_CURL_SYM(global_init, "curl_global_init")
    PUS_CURL_SYM(easy_init, "curl_easy_init")
    PUS_CURL_SYM(easy_cleanup, "curl_easy_cleanup")
    PUS_CURL_SYM(easy_reset, "curl_easy_reset")
    PUS_CURL_SYM(easy_setopt, "curl_easy_setopt")
    PUS_CURL_SYM(easy_getinfo, "curl_easy_getinfo")
    PUS_CURL_SYM(easy_perform, "curl_easy_perform")
    PUS_CURL_SYM(easy_strerror, "curl_easy_strerror")
    PUS_CURL_SYM(slist_append, "curl_slist_append")
    PUS_CURL_SYM(slist_free_all, "curl_slist_free_all")
    PUS_CURL_SYM(version, "curl_version")
#undef PUS_CURL_SYM
    if (a->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return -1;
    a->loaded = 1;
    return 0;
}

/// dlerror() text after a failed pus_curl_load (may be NULL).
static inline const char *pus_curl_load_error(void) { return dlerror(); }

static inline CURL *pus_curl_easy_init(void) { return pus_curl_table()->easy_init(); }
static inline void pus_curl_easy_cleanup(CURL *h) { pus_curl_table()->easy_cleanup(h); }
static inline void pus_curl_easy_reset(CURL *h) { pus_curl_table()->easy_reset(h); }
static inline CURLcode pus_curl_easy_perform(CURL *h) { return pus_curl_table()->easy_perform(h); }
static inline const char *pus_curl_easy_strerror(CURLcode c) { return pus_curl_table()->easy_strerror(c); }
static inline struct curl_slist *pus_curl_slist_append(struct curl_slist *l, const char *s) { return pus_curl_table()->slist_append(l, s); }
static inline void pus_curl_slist_free_all(struct curl_slist *l) { pus_curl_table()->slist_free_all(l); }
static inline const char *pus_curl_version(void) { return pus_curl_table()->version(); }

/// curl_easy_setopt with a long argument.
static inline CURLcode pus_curl_setopt_long(CURL *h, CURLoption o, long v) { return pus_curl_table()->easy_setopt(h, o, v); }
/// curl_easy_setopt with a curl_off_t argument (sizes of large uploads).
static inline CURLcode pus_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return pus_curl_table()->easy_setopt(h, o, v); }
/// curl_easy_setopt with a C string (copied by libcurl for string options).
static inline CURLcode pus_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return pus_curl_table()->easy_setopt(h, o, v); }
/// curl_easy_setopt with an opaque pointer (WRITEDATA, READDATA, HEADERDATA, HTTPHEADER).
static inline CURLcode pus_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return pus_curl_table()->easy_setopt(h, o, v); }
/// curl_easy_setopt with a data callback (WRITEFUNCTION, READFUNCTION, HEADERFUNCTION).
static inline CURLcode pus_curl_setopt_callback(CURL *h, CURLoption o, pus_curl_data_callback f) { return pus_curl_table()->easy_setopt(h, o, f); }
/// curl_easy_getinfo for long results (CURLINFO_RESPONSE_CODE).
static inline CURLcode pus_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return pus_curl_table()->easy_getinfo(h, i, v); }
/// CURL_READFUNC_ABORT is a macro Swift does not import.
static inline size_t pus_curl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }
#endif
